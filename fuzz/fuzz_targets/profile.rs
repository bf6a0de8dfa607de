#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ai_interviewer_fuzz::profile(data));
