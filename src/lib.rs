//! `ai-interviewer`: a Telegram bot that conducts structured 90-120 minute expert interviews
//! and turns them into a written knowledge report.
//!
//! The library holds everything; the binary (`src/main.rs`) only parses the command line,
//! loads the settings, sets up logging and starts a front end.
//!
//! The modules stand on floors: each imports only from the floors below it
//! (`tests/it/layers.rs` holds the table and fails on an import upward or in a circle).
//!
//! | floor | module | what it holds |
//! |---|---|---|
//! | 0 | [`model`] | the data: session, stage, style, language, ids, clock, usage, fallback counts, stage summaries, report |
//! | 0 | [`retry`] | backoff and `Retry-After` for the calls to Claude and AssemblyAI |
//! | 0 | [`faults`] | crash points for the crash tests (with the `crash-points` feature only) |
//! | 1 | [`i18n`] | the fluent catalog behind typed message ids |
//! | 1 | [`telemetry`] | tracing set-up (`LOG_LEVEL`, `LOG_FORMAT`) |
//! | 1 | [`llm`] | the Claude client: generic structured requests, the request shape per model generation, prices |
//! | 1 | [`store`] | atomic JSON session files, archive, quarantine, retention |
//! | 2 | [`login`] | one-time sign-in links for the desk, kept hashed beside the sessions |
//! | 2 | [`voice`] | voice notes: probe, ffmpeg normalisation, AssemblyAI transcription, limits |
//! | 3 | [`metrics`] | counters and gauges for operators: `/metrics` text, Prometheus, health |
//! | 4 | [`interview`] | the turn contract, turn engine, context window, offline bank, prompts, summaries and report writing |
//! | 5 | [`telegram`] | the Telegram front end: durable inbox, handler tree, one worker per chat, fair sending |
//! | 5 | [`console`] | the terminal front end |
//! | 5 | [`desk`] | the operator's web desk: interviews, reports, overview, export, JSON API |
//! | 6 | [`settings`] | the environment read into each component's configuration, validated at start-up |
//! | 7 | [`app`] | the one assembly (`main` and the tests): engine, Claude check, metrics, health, retention, the front ends |
//!
//! Each component owns its configuration type ([`llm::ClaudeConfig`], [`voice::VoiceConfig`],
//! [`telegram::Config`], [`telemetry::LogFormat`]); only the assembly (`app` and the binary)
//! reads [`settings`].

pub mod app;
pub mod console;
pub mod desk;
pub mod faults;
pub mod i18n;
pub mod interview;
pub mod llm;
pub mod login;
pub mod metrics;
pub mod model;
pub mod retry;
pub mod settings;
pub mod store;
pub mod telegram;
pub mod telemetry;
pub mod voice;
