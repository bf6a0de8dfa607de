//! `ai-interviewer`: a Telegram bot that conducts structured 90-120 minute expert interviews
//! and turns them into a written knowledge report.
//!
//! The library holds everything; the binary (`src/main.rs`) only parses the command line,
//! loads the settings, sets up logging and starts a front end.
//!
//! | module | what it holds |
//! |---|---|
//! | [`settings`] | typed settings from the environment, validated at start-up |
//! | [`app`] | start-up: building the engine, checking the Claude key and model, starting metrics, health and retention |
//! | [`telemetry`] | tracing set-up (`LOG_LEVEL`, `LOG_FORMAT`) |
//! | [`i18n`] | languages and the fluent catalog behind typed message ids |
//! | [`interview`] | stage plan, personalities, session model, turn engine, context window, offline bank, report |
//! | [`llm`] | the Claude client, the request shape per model generation, the turn schema and its reading, offline fallback reasons, prices |
//! | [`retry`] | backoff and `Retry-After` for the calls to Claude and AssemblyAI |
//! | [`store`] | atomic JSON session files, archive, quarantine, retention |
//! | [`metrics`] | counters and gauges for operators: `/metrics` text, Prometheus, health |
//! | [`faults`] | crash points for the crash tests (with the `crash-points` feature only) |
//! | [`console`] | the terminal front end |
//! | [`telegram`] | the Telegram front end: durable inbox, handler tree, one worker per chat, fair sending |
//! | [`voice`] | voice notes: probe, ffmpeg normalisation, AssemblyAI transcription, limits |

pub mod app;
pub mod console;
pub mod faults;
pub mod i18n;
pub mod interview;
pub mod llm;
pub mod metrics;
pub mod retry;
pub mod settings;
pub mod store;
pub mod telegram;
pub mod telemetry;
pub mod voice;
