//! `ai-interviewer`: a Telegram bot that conducts structured 90-120 minute expert interviews
//! and turns them into a written knowledge report.
//!
//! The library holds everything; the binary (`src/main.rs`) only parses the command line,
//! loads the settings, sets up logging and starts a front end.
//!
//! | module | what it holds |
//! |---|---|
//! | [`settings`] | typed settings from the environment, validated at start-up |
//! | [`app`] | start-up: building the engine from the settings |
//! | [`telemetry`] | tracing set-up (`LOG_LEVEL`, `LOG_FORMAT`) |
//! | [`i18n`] | languages and the fluent catalog behind typed message ids |
//! | [`interview`] | stage plan, personalities, session model, turn engine, context window, offline bank, report |
//! | [`llm`] | the Claude client, the turn schema and its validation, retries |
//! | [`locks`] | async locks by key (one turn per user; prompts sent outside a chat's queue) |
//! | [`store`] | atomic JSON session files, archive, quarantine |
//! | [`console`] | the terminal front end |
//! | [`telegram`] | the Telegram front end: handler tree, flows, keyboards, sending |
//! | [`voice`] | voice notes: probe, ffmpeg normalisation, AssemblyAI transcription, limits |

pub mod app;
pub mod console;
pub mod i18n;
pub mod interview;
pub mod llm;
pub mod locks;
pub mod settings;
pub mod store;
pub mod telegram;
pub mod telemetry;
pub mod voice;
