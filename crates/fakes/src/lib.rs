//! Fakes of the services `ai-interviewer` talks to, each an in-process HTTP server on
//! `127.0.0.1:0` that answers in the real service's shapes and keeps what it received for the
//! test to read:
//!
//! | module | service |
//! |---|---|
//! | [`telegram`] | the Telegram Bot API: long polling, messages, keyboards, files, faults |
//! | [`anthropic`] | the Anthropic Messages API: the models, their rules, caching, a scripted interviewer |
//! | [`assemblyai`] | AssemblyAI: uploads, transcripts over polls, faults |
//!
//! The root package's integration tests and benches use them as a dev-dependency. The fakes
//! depend on nothing of the product, so the product is checked against an independent account
//! of each service's behaviour.

pub mod anthropic;
pub mod assemblyai;
pub mod telegram;
