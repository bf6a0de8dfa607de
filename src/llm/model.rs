//! The seam between Claude and whoever asks it: one structured request at a time.
//! [`ClaudeClient`](super::ClaudeClient) is the product's implementation; benchmarks plug in
//! an instant one to measure their callers alone.

use std::{future::Future, pin::Pin};

use super::{LlmError, StructuredRequest, Written};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A model that answers structured requests.
pub trait Model: Send + Sync + std::fmt::Debug {
    /// The JSON reply to `request`, checked by its `check`.
    fn ask<'a>(
        &'a self,
        request: &'a StructuredRequest<'a>,
    ) -> BoxFuture<'a, Result<Written, LlmError>>;
}

impl Model for super::ClaudeClient {
    fn ask<'a>(
        &'a self,
        request: &'a StructuredRequest<'a>,
    ) -> BoxFuture<'a, Result<Written, LlmError>> {
        Box::pin(super::ClaudeClient::ask(self, request))
    }
}
