//! Claude over the Messages API: the client, the wire shapes, the request shape each model
//! generation accepts, and prices. It answers structured requests (a system prompt, a
//! conversation, a JSON schema and a check) and knows nothing of what they are for.
//! Retries follow [`crate::retry`].

mod client;
mod config;
pub mod generation;
mod model;
pub mod pricing;
mod stream;
pub mod wire;

pub use client::{ClaudeClient, LlmError, MAX_BUDGET_TOKENS, Pace, StructuredRequest, Written};
pub use config::{ApiVersion, ClaudeConfig, DEFAULT_MODEL};
pub use generation::{Effort, Efforts, Generation, RequestRules};
pub use model::{BoxFuture, Model};
pub use pricing::{Price, PriceTable};
pub use stream::Partial;

/// Why a turn fell back to the offline bank, as [`LlmError::fallback`] names it; the type is
/// the ground floor's, since sessions and metrics count it too.
pub use crate::model::{Fallback, FallbackCounts};
