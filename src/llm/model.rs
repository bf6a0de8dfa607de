//! The seam between the engine and the model: what the engine needs from Claude.
//! [`ClaudeClient`](super::ClaudeClient) is the product's implementation; benchmarks plug in
//! an instant one to measure the engine alone.

use std::{future::Future, pin::Pin};

use super::{LlmError, TurnReply, TurnRequest, wire::Usage};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A model that conducts interview turns and writes free text.
pub trait Model: Send + Sync + std::fmt::Debug {
    /// The next interview turn for `request`, validated.
    fn turn<'a>(&'a self, request: &'a TurnRequest) -> BoxFuture<'a, Result<TurnReply, LlmError>>;

    /// The report's summary of `prompt` under `system`, within `max_tokens` of answer (models
    /// that think get room for it on top).
    fn write<'a>(
        &'a self,
        system: &'a str,
        prompt: &'a str,
        max_tokens: u32,
    ) -> BoxFuture<'a, Result<(String, Usage), LlmError>>;
}

impl Model for super::ClaudeClient {
    fn turn<'a>(&'a self, request: &'a TurnRequest) -> BoxFuture<'a, Result<TurnReply, LlmError>> {
        Box::pin(super::ClaudeClient::turn(self, request))
    }

    fn write<'a>(
        &'a self,
        system: &'a str,
        prompt: &'a str,
        max_tokens: u32,
    ) -> BoxFuture<'a, Result<(String, Usage), LlmError>> {
        Box::pin(super::ClaudeClient::write(self, system, prompt, max_tokens))
    }
}
