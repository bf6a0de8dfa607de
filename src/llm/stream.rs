//! Streamed replies: the Messages API's server-sent events read back into the response a
//! non-streamed request would have had, with the reply's text shown as it is written.
//!
//! A streamed message is a sequence of events: `message_start` (the message with empty content
//! and the input's usage), then for each block a `content_block_start`, its deltas
//! (`text_delta`, `thinking_delta`, `signature_delta`...) and a `content_block_stop`, then a
//! `message_delta` (the stop reason and the output's usage, counted from the start) and
//! `message_stop`. `ping` may come at any time, and an `error` event can end a stream that
//! began with 200 (an overload in the middle of a reply): it is read as the error the status
//! would have carried, so that retries treat both alike. A stream that ends before
//! `message_stop` was cut off on the way and is a network failure.
//!
//! Reading events by their `type` and ignoring the kinds this product does not use keeps the
//! reader working when the API adds new ones.

use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde::Deserialize;

use super::{
    LlmError,
    wire::{ErrorDetail, MessagesResponse, ResponseBlock, Usage},
};

/// Where a streamed reply's text shows while it is written: the text blocks' text so far
/// (with structured outputs, the JSON as far as it has come). Each attempt starts it empty,
/// so a retry or a repair never continues what an earlier attempt wrote.
pub type Partial = tokio::sync::watch::Sender<String>;

/// One event of a stream, by its `type`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    MessageStart {
        message: Started,
    },
    ContentBlockStart {
        index: usize,
        content_block: ResponseBlock,
    },
    ContentBlockDelta {
        index: usize,
        delta: Delta,
    },
    MessageDelta {
        delta: Stopped,
        #[serde(default)]
        usage: Option<DeltaUsage>,
    },
    MessageStop,
    Error {
        error: ErrorDetail,
    },
    /// `ping`, `content_block_stop` and any kind added later.
    #[serde(other)]
    Other,
}

/// The message as `message_start` gives it: only its usage matters here.
#[derive(Debug, Deserialize)]
struct Started {
    #[serde(default)]
    usage: Usage,
}

/// A change to one block.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
enum Delta {
    #[serde(rename = "text_delta")]
    Text { text: String },
    #[serde(rename = "thinking_delta")]
    Thinking { thinking: String },
    /// Signatures, tool input, citations: nothing this product reads.
    #[serde(other)]
    Other,
}

/// The end of the message.
#[derive(Debug, Deserialize)]
struct Stopped {
    #[serde(default)]
    stop_reason: Option<String>,
}

/// The usage `message_delta` reports: counted from the start of the message, so it replaces
/// what came before rather than adding to it. Fields it leaves out keep `message_start`'s.
#[derive(Debug, Deserialize)]
struct DeltaUsage {
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

/// The message being put together from its events.
#[derive(Debug, Default)]
struct Assembly {
    content: Vec<ResponseBlock>,
    stop_reason: Option<String>,
    usage: Usage,
    stopped: bool,
}

impl Assembly {
    /// Takes one event in; text that grows the reply is shown in `partial`. An `error` event
    /// ends the stream with that error.
    fn take(
        &mut self,
        event: Event,
        partial: &Partial,
        request_id: &Option<String>,
    ) -> Result<(), LlmError> {
        match event {
            Event::MessageStart { message } => self.usage = message.usage,
            Event::ContentBlockStart {
                index,
                content_block,
            } => {
                if let ResponseBlock::Text { text } = &content_block
                    && !text.is_empty()
                {
                    partial.send_modify(|shown| shown.push_str(text));
                }
                if index >= self.content.len() {
                    self.content.resize(index + 1, ResponseBlock::Other);
                }
                self.content[index] = content_block;
            }
            Event::ContentBlockDelta { index, delta } => match (self.content.get_mut(index), delta)
            {
                (Some(ResponseBlock::Text { text }), Delta::Text { text: more }) => {
                    text.push_str(&more);
                    partial.send_modify(|shown| shown.push_str(&more));
                }
                (
                    Some(ResponseBlock::Thinking { thinking }),
                    Delta::Thinking { thinking: more },
                ) => thinking.push_str(&more),
                _ => {}
            },
            Event::MessageDelta { delta, usage } => {
                self.stop_reason = delta.stop_reason;
                if let Some(usage) = usage {
                    let total = &mut self.usage;
                    total.output_tokens = usage.output_tokens.unwrap_or(total.output_tokens);
                    total.input_tokens = usage.input_tokens.unwrap_or(total.input_tokens);
                    total.cache_creation_input_tokens = usage
                        .cache_creation_input_tokens
                        .unwrap_or(total.cache_creation_input_tokens);
                    total.cache_read_input_tokens = usage
                        .cache_read_input_tokens
                        .unwrap_or(total.cache_read_input_tokens);
                }
            }
            Event::MessageStop => self.stopped = true,
            Event::Error { error } => {
                return Err(LlmError::Api {
                    status: status_of(&error.kind),
                    kind: error.kind,
                    message: error.message,
                    request_id: request_id.clone(),
                    retry_after: None,
                });
            }
            Event::Other => {}
        }
        Ok(())
    }
}

/// The HTTP status an error type stands for, for an error that arrives inside a stream (whose
/// status was already 200). Unknown types count as server errors, which are retried.
fn status_of(kind: &str) -> u16 {
    match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "overloaded_error" => 529,
        _ => 500,
    }
}

/// Reads a successful streamed response into the message it carries, showing the reply's text
/// in `partial` as it arrives. `transport` turns a failure of the connection into the client's
/// error.
pub(super) async fn read(
    response: reqwest::Response,
    partial: &Partial,
    transport: impl Fn(reqwest::Error) -> LlmError,
) -> Result<MessagesResponse, LlmError> {
    let request_id = response
        .headers()
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    partial.send_replace(String::new());
    let mut events = response.bytes_stream().eventsource();
    let mut message = Assembly::default();
    while let Some(event) = events.next().await {
        let event = match event {
            Ok(event) => event,
            Err(eventsource_stream::EventStreamError::Transport(error)) => {
                return Err(transport(error));
            }
            Err(error) => return Err(LlmError::Decode(error.to_string())),
        };
        let event: Event = serde_json::from_str(&event.data)
            .map_err(|e| LlmError::Decode(format!("a `{}` event: {e}", event.event)))?;
        message.take(event, partial, &request_id)?;
        if message.stopped {
            break;
        }
    }
    if !message.stopped {
        return Err(LlmError::Network(
            "the stream ended before the reply was complete".into(),
        ));
    }
    Ok(MessagesResponse {
        content: message.content,
        stop_reason: message.stop_reason,
        usage: message.usage,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn feed(events: &[serde_json::Value]) -> (Result<Assembly, LlmError>, Vec<String>) {
        let (partial, mut shown) = tokio::sync::watch::channel(String::new());
        let mut seen = Vec::new();
        let mut message = Assembly::default();
        for event in events {
            let event: Event = serde_json::from_value(event.clone()).unwrap();
            if let Err(error) = message.take(event, &partial, &None) {
                return (Err(error), seen);
            }
            if shown.has_changed().unwrap_or(false) {
                seen.push(shown.borrow_and_update().clone());
            }
        }
        (Ok(message), seen)
    }

    #[test]
    fn text_deltas_build_the_text_block_and_show_as_they_come_and_thinking_stays_hidden() {
        let (message, seen) = feed(&[
            json!({"type": "message_start", "message": {"id": "m", "type": "message",
                "role": "assistant", "content": [], "model": "x", "stop_reason": null,
                "usage": {"input_tokens": 10, "output_tokens": 1,
                    "cache_read_input_tokens": 7}}}),
            json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "thinking", "thinking": ""}}),
            json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "thinking_delta", "thinking": "Hmm."}}),
            json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "signature_delta", "signature": "sig"}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "ping"}),
            json!({"type": "content_block_start", "index": 1,
                "content_block": {"type": "text", "text": ""}}),
            json!({"type": "content_block_delta", "index": 1,
                "delta": {"type": "text_delta", "text": "{\"a\":"}}),
            json!({"type": "content_block_delta", "index": 1,
                "delta": {"type": "text_delta", "text": " 1}"}}),
            json!({"type": "content_block_stop", "index": 1}),
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn",
                "stop_sequence": null}, "usage": {"output_tokens": 42}}),
            json!({"type": "message_stop"}),
        ]);
        let message = message.unwrap();
        assert!(message.stopped);
        assert_eq!(message.stop_reason.as_deref(), Some("end_turn"));
        assert_eq!(
            message.content,
            vec![
                ResponseBlock::Thinking {
                    thinking: "Hmm.".into()
                },
                ResponseBlock::Text {
                    text: "{\"a\": 1}".into()
                }
            ]
        );
        assert_eq!(seen, ["{\"a\":", "{\"a\": 1}"]);
        assert_eq!(message.usage.input_tokens, 10);
        assert_eq!(message.usage.cache_read_input_tokens, 7);
        assert_eq!(
            message.usage.output_tokens, 42,
            "the delta's count replaces"
        );
    }

    #[test]
    fn an_error_event_is_the_error_its_type_stands_for() {
        let (message, _) = feed(&[
            json!({"type": "message_start", "message": {"usage": {"input_tokens": 1}}}),
            json!({"type": "error", "error": {"type": "overloaded_error",
                "message": "Overloaded"}}),
        ]);
        match message {
            Err(LlmError::Api { status, kind, .. }) => {
                assert_eq!((status, kind.as_str()), (529, "overloaded_error"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_events_and_deltas_are_ignored() {
        let (message, seen) = feed(&[
            json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "server_tool_use", "id": "x"}}),
            json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": "{"}}),
            json!({"type": "something_new", "detail": 1}),
        ]);
        let message = message.unwrap();
        assert_eq!(message.content, vec![ResponseBlock::Other]);
        assert!(seen.is_empty() && !message.stopped);
    }
}
