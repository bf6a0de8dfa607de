//! The seam between the engine and the model: what the engine needs from Claude.
//! [`ClaudeClient`](super::ClaudeClient) is the product's implementation; benchmarks plug in
//! an instant one to measure the engine alone.

use std::{future::Future, pin::Pin};

use super::{LlmError, TurnReply, TurnRequest, WriteRequest, Written};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A model that conducts interview turns and writes stage summaries and reports.
pub trait Model: Send + Sync + std::fmt::Debug {
    /// The next interview turn for `request`, validated.
    fn turn<'a>(&'a self, request: &'a TurnRequest) -> BoxFuture<'a, Result<TurnReply, LlmError>>;

    /// A structured reply to `request` (a stage summary, the report), checked by its `check`.
    fn write<'a>(
        &'a self,
        request: &'a WriteRequest<'a>,
    ) -> BoxFuture<'a, Result<Written, LlmError>>;
}

impl Model for super::ClaudeClient {
    fn turn<'a>(&'a self, request: &'a TurnRequest) -> BoxFuture<'a, Result<TurnReply, LlmError>> {
        Box::pin(super::ClaudeClient::turn(self, request))
    }

    fn write<'a>(
        &'a self,
        request: &'a WriteRequest<'a>,
    ) -> BoxFuture<'a, Result<Written, LlmError>> {
        Box::pin(super::ClaudeClient::write(self, request))
    }
}
