//! Claude over the Messages API: the client, the wire shapes, the turn contract and the
//! retry policy.

mod client;
pub mod retry;
pub mod turn;
pub mod wire;

pub use client::{API_VERSION, ClaudeClient, LlmError, TurnReply, TurnRequest};
pub use turn::{TOOL_NAME, Turn};
