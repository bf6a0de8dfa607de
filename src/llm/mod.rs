//! Claude over the Messages API: the client, the wire shapes, the turn contract, the request
//! shape each model generation accepts, why a turn fell back to the offline bank, and prices.
//! Retries follow [`crate::retry`].

mod client;
pub mod fallback;
pub mod generation;
mod model;
pub mod pricing;
pub mod turn;
pub mod wire;

pub use client::{
    API_VERSION, ClaudeClient, LlmError, MAX_BUDGET_TOKENS, TurnReply, TurnRequest, WriteRequest,
    Written,
};
pub use fallback::{Fallback, FallbackCounts};
pub use generation::{Effort, Generation, RequestRules};
pub use model::{BoxFuture, Model};
pub use pricing::{Price, PriceTable};
pub use turn::Turn;
