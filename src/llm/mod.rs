//! Claude over the Messages API: the client, the wire shapes, the turn contract and the
//! retry policy.

mod client;
mod model;
pub mod pricing;
pub mod retry;
pub mod turn;
pub mod wire;

pub use client::{API_VERSION, ClaudeClient, LlmError, TurnReply, TurnRequest};
pub use model::{BoxFuture, Model};
pub use turn::{TOOL_NAME, Turn};
