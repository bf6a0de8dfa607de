//! Voice pipeline figures, printed (not asserted):
//!
//! 1. the time to probe and normalise a 10-minute voice note (OGG/Opus, 32 kbit/s: probed and
//!    sent as it is) and a 10-minute MP3 (44.1 kHz stereo, 128 kbit/s: probed, converted to
//!    16 kHz mono FLAC by ffmpeg, probed again);
//! 2. the time the bot adds to a voice note, excluding AssemblyAI's own processing: the whole
//!    `Transcriber::transcribe` against a fake AssemblyAI in another process that completes
//!    every transcript at once, polled without delay;
//! 3. the peak memory of the bot's process (and of its ffmpeg children, shared libraries
//!    counted once) while ten 10-minute notes are processed at once, each run in a fresh
//!    process so that one run's freed memory does not hide the next one's.
//!
//! The recordings are generated with ffmpeg at start (pink noise, the worst case for the
//! codecs). Run with `cargo bench --bench voice`; ffmpeg must be installed.

use interviewer_fakes::assemblyai;
use std::{
    io::{BufRead, BufReader, Read},
    path::Path,
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use ai_interviewer::{
    i18n::Lang,
    settings::Settings,
    voice::{
        AssemblyAiClient, AudioKind, AudioMeta, Transcriber, VoiceConfig, VoiceNote,
        assemblyai::{PollPolicy, RetryPolicy},
        check_ffmpeg, probe,
    },
};
use bytes::Bytes;
use secrecy::SecretString;

const SERVE_FLAG: &str = "--serve-fake-assemblyai";
const MEMORY_FLAG: &str = "--memory-run";
const TEN_MINUTES: Duration = Duration::from_secs(600);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == SERVE_FLAG) {
        runtime.block_on(serve_fake());
    } else if let Some(at) = args.iter().position(|a| a == MEMORY_FLAG) {
        runtime.block_on(memory(&args[at + 1..]));
    } else {
        runtime.block_on(bench());
    }
}

/// The fake AssemblyAI in its own process, so its memory is not the bot's: prints its URL,
/// serves until its standard input closes.
async fn serve_fake() {
    let fake = assemblyai::FakeAssemblyAi::start().await;
    fake.forget_uploads();
    fake.set_polls_to_complete(1);
    fake.default_script(assemblyai::Script::new(
        "I repair diesel engines for a living.",
        "en",
    ));
    println!("{}", fake.url);
    tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
    })
    .await
    .unwrap();
}

async fn bench() {
    assert!(
        check_ffmpeg(Path::new("ffmpeg")).await.is_available(),
        "ffmpeg must be installed"
    );
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let voice = generate(
        dir.path(),
        "voice.ogg",
        600,
        &[
            "-ac",
            "1",
            "-ar",
            "48000",
            "-c:a",
            "libopus",
            "-b:a",
            "32k",
            "-application",
            "voip",
        ],
    );
    let mp3 = generate(
        dir.path(),
        "talk.mp3",
        600,
        &[
            "-ac",
            "2",
            "-ar",
            "44100",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
        ],
    );
    let short = generate(
        dir.path(),
        "short.ogg",
        30,
        &[
            "-ac",
            "1",
            "-ar",
            "48000",
            "-c:a",
            "libopus",
            "-b:a",
            "32k",
            "-application",
            "voip",
        ],
    );
    println!(
        "generated in {:.1} s: 10-min voice note {:.1} MB, 10-min MP3 {:.1} MB, 30-s voice note {:.0} KB",
        started.elapsed().as_secs_f64(),
        mb(voice.len()),
        mb(mp3.len()),
        kb(short.len()),
    );

    // The fake AssemblyAI, in a child process.
    let mut server = Command::new(std::env::current_exe().unwrap())
        .arg(SERVE_FLAG)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let url = url.trim().to_owned();

    println!("\n1. probe and normalise (median of 5)");
    let probe_voice = median(5, || {
        let t = Instant::now();
        probe::probe(&voice, None, None, TEN_MINUTES).unwrap();
        t.elapsed()
    });
    println!(
        "   10-min voice note: probe {:>7.1} ms, no conversion (sent as it is)",
        ms(probe_voice)
    );
    let settings = settings(&url, dir.path(), 3);
    let (transcriber, _) = Transcriber::from_settings(&settings).await;
    let probe_mp3 = median(5, || {
        let t = Instant::now();
        probe::probe(&mp3, None, None, TEN_MINUTES).unwrap();
        t.elapsed()
    });
    let transcoder = ai_interviewer::voice::transcode::Transcoder::new(
        "ffmpeg".into(),
        Duration::from_secs(300),
        dir.path().to_owned(),
        &check_ffmpeg(Path::new("ffmpeg")).await,
    );
    let mut converted = 0;
    let mut convert_times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let flac = transcoder
            .to_speech_flac(
                Bytes::from(mp3.clone()),
                probe::Container::Mpeg,
                TEN_MINUTES,
            )
            .await
            .unwrap();
        convert_times.push(t.elapsed());
        converted = flac.len();
        let t = Instant::now();
        probe::probe(&flac, Some("flac"), None, TEN_MINUTES).unwrap();
        if let Some(total) = convert_times.last_mut() {
            *total += t.elapsed();
        }
    }
    convert_times.sort();
    println!(
        "   10-min MP3:        probe {:>7.1} ms, ffmpeg to 16 kHz mono FLAC and probe {:>7.1} ms ({:.1} MB out)",
        ms(probe_mp3),
        ms(convert_times[2]),
        mb(converted)
    );

    println!("\n2. bot-added time per note, AssemblyAI answering at once (median)");
    let transcriber = quick(transcriber, &settings);
    for (label, bytes, runs) in [
        ("30-s voice note ", &short, 21),
        ("10-min voice note", &voice, 5),
        ("10-min MP3       ", &mp3, 5),
    ] {
        let mut times = Vec::new();
        for _ in 0..runs {
            let note = note(bytes);
            let t = Instant::now();
            transcriber.transcribe(note, Lang::En, &()).await.unwrap();
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "   {label}: {:>7.1} ms (min {:.1} ms, max {:.1} ms)",
            ms(times[runs / 2]),
            ms(times[0]),
            ms(times[runs - 1])
        );
    }
    println!(
        "   (polling as configured adds the wait to the first poll after completion: 1 s, \
         then every 1.5, 2.25 and 3 s)"
    );

    println!(
        "\n3. peak memory while ten 10-minute notes are processed at once (each run in a fresh process)"
    );
    for (label, file, slots) in [
        ("voice notes, 10 slots", "voice.ogg", 10),
        ("MP3s, 10 slots       ", "talk.mp3", 10),
        ("MP3s, 3 slots        ", "talk.mp3", 3),
    ] {
        let output = Command::new(std::env::current_exe().unwrap())
            .arg(MEMORY_FLAG)
            .arg(dir.path().join(file))
            .arg(slots.to_string())
            .arg(&url)
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        println!(
            "   {label}: {}",
            String::from_utf8_lossy(&output.stdout).trim()
        );
    }
    drop(server.stdin.take());
    let _ = server.wait();
}

/// One memory run in this fresh process: ten copies of the recording at `args[0]`, `args[1]`
/// slots, the fake at `args[2]`, scratch files in `args[3]`. Prints one line.
async fn memory(args: &[String]) {
    let bytes = std::fs::read(&args[0]).unwrap();
    let slots: usize = args[1].parse().unwrap();
    let settings = settings(&args[2], Path::new(&args[3]), slots);
    let (transcriber, _) = Transcriber::from_settings(&settings).await;
    let transcriber = Arc::new(quick(transcriber, &settings));
    let notes: Vec<VoiceNote> = (0..10).map(|_| note(&bytes)).collect();
    drop(bytes);
    let baseline = rss_kb();
    let sampler = Sampler::start();
    let t = Instant::now();
    let tasks: Vec<_> = notes
        .into_iter()
        .map(|note| {
            let transcriber = transcriber.clone();
            tokio::spawn(async move { transcriber.transcribe(note, Lang::En, &()).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let elapsed = t.elapsed();
    let (peak, children) = sampler.stop();
    println!(
        "bot RSS {:.0} MB with the ten notes in memory, peak {:.0} MB (+{:.0} MB); \
         ffmpeg processes at most {:.0} MB in all (proportional set size); {:.1} s for all ten",
        kb_mb(baseline),
        kb_mb(peak),
        kb_mb(peak.saturating_sub(baseline)),
        kb_mb(children),
        elapsed.as_secs_f64()
    );
}

fn settings(url: &str, temp: &Path, slots: usize) -> VoiceConfig {
    let vars = [
        ("ASSEMBLYAI_BASE_URL", url.to_owned()),
        ("ASSEMBLYAI_API_KEY", assemblyai::API_KEY.to_owned()),
        ("VOICE_TEMP_DIR", temp.display().to_string()),
        ("VOICE_CONCURRENT_REQUESTS", slots.to_string()),
    ];
    Settings::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap()
    .voice
}

/// The transcriber polling without delay, so only the bot's own work is timed.
fn quick(transcriber: Transcriber, settings: &VoiceConfig) -> Transcriber {
    let client = AssemblyAiClient::new(
        &settings.assemblyai,
        SecretString::from(assemblyai::API_KEY.to_owned()),
    )
    .with_retry(RetryPolicy::new(0))
    .with_poll(PollPolicy {
        first: Duration::ZERO,
        max_interval: Duration::ZERO,
        deadline: Duration::from_secs(60),
    });
    transcriber.with_client(client)
}

fn note(bytes: &[u8]) -> VoiceNote {
    VoiceNote {
        bytes: Bytes::copy_from_slice(bytes),
        meta: AudioMeta {
            kind: Some(AudioKind::Audio),
            ..AudioMeta::default()
        },
    }
}

fn generate(dir: &Path, name: &str, seconds: u32, codec: &[&str]) -> Vec<u8> {
    let path = dir.join(name);
    let status = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg(format!(
            "anoisesrc=color=pink:amplitude=0.2:duration={seconds}"
        ))
        .args(codec)
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg could not generate {name}");
    std::fs::read(path).unwrap()
}

fn median(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..runs).map(|_| f()).collect();
    times.sort();
    times[runs / 2]
}

/// Samples the process's resident memory and that of its children every few milliseconds.
struct Sampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    children: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

impl Sampler {
    fn start() -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(rss_kb()));
        let children = Arc::new(AtomicU64::new(0));
        let thread = std::thread::spawn({
            let (stop, peak, children) = (stop.clone(), peak.clone(), children.clone());
            move || {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(rss_kb(), Ordering::Relaxed);
                    children.fetch_max(children_rss_kb(), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        });
        Sampler {
            stop,
            peak,
            children,
            thread,
        }
    }

    fn stop(self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        (
            self.peak.load(Ordering::Relaxed),
            self.children.load(Ordering::Relaxed),
        )
    }
}

fn status_kb(path: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn rss_kb() -> u64 {
    status_kb("/proc/self/status", "VmRSS:").unwrap_or(0)
}

/// The memory of every ffmpeg this process runs right now, shared libraries counted once
/// (proportional set size).
fn children_rss_kb() -> u64 {
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            status.lines().any(|l| l == format!("PPid:\t{me}"))
                && status.lines().any(|l| l == "Name:\tffmpeg")
        })
        .filter_map(|pid| status_kb(&format!("/proc/{pid}/smaps_rollup"), "Pss:"))
        .sum()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1_048_576.0
}

fn kb(bytes: usize) -> f64 {
    bytes as f64 / 1024.0
}

fn kb_mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}
