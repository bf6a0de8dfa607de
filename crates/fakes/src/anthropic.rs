//! A fake Anthropic API on 127.0.0.1: `POST /v1/messages` and `GET /v1/models/{id}`.
//!
//! It answers in the real shapes: `thinking` and `text` blocks, `stop_reason`, usage with cache
//! counts, and errors as `{"type":"error","error":{...}}` with a `request-id` header and
//! `retry-after` on 429.
//!
//! It knows the current models and what each generation accepts, from the reference table of
//! the API's behaviour (kept here on its own, not taken from the product, so that the product's
//! rules are checked against it). A request that sends something the requested model refuses is
//! answered 400 `invalid_request_error` with a message like the real one: sampling parameters
//! on generation 5 and later, forced tool choice, assistant prefill or disabled thinking on 5.5,
//! thinking budgets from generation 5 on, `between_tools` where it does not exist or at an
//! effort it does not take, an effort on 4.x, an unknown `output_config` shape, a structured
//! output schema with keywords structured outputs refuse (`minimum`, `maxLength`...), an object
//! without `additionalProperties: false` or with properties not all required, unknown top-level
//! fields (the deprecated `output_format` included). An unknown model is a 404.
//!
//! Generation-5 models think before answering unless `between_tools` turns it off: the reply
//! starts with a `thinking` block whose tokens depend on the effort (sent, or the model's
//! default) and count against `max_tokens`, so a small budget at a high effort comes back cut,
//! with `stop_reason: max_tokens`. The thinking sizes are this fake's model, not measurements.
//!
//! Prompt caching follows the documented rules: a block with `cache_control` caches the prefix
//! up to it (output format, tools, system, messages in that order); a later request whose prefix
//! matches a cached one, at a breakpoint or up to 20 blocks before one, reads it; prefixes under
//! the model's minimum are not cached. Tokens are a quarter of the characters on 4.x models and
//! 30% more on generation 5 and later (the newer tokenizer).
//!
//! Unless a test scripts something else, the fake plays a simple interviewer: it reads the
//! engine's note for the stage and its completeness, adds `step` to the completeness each turn,
//! moves to the next stage once it reaches 100, and ends wrap_up at 100.
//!
//! Requests for a stage summary or the report (a structured output that is not a turn) are
//! "writing" requests, scripted apart from the turns ([`FakeAnthropic::script_writing`],
//! [`FakeAnthropic::always_writing`]). Unscripted, the fake writes them from the request, in
//! its language: a stage summary cites the numbered answers it was given, with their first
//! words as quotes; the report files the elements it was given into sections by kind and the
//! decision points into the table, citing their ids; a revision puts the expert's correction
//! first in the task diagram, citing `C`.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    hash::{DefaultHasher, Hash, Hasher},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Map, Value, json};

/// The key the fake accepts.
pub const API_KEY: &str = "sk-ant-test-0123456789";

/// The API versions the fake speaks (`anthropic-version`): the long-standing one, and the one
/// of 2026-10-21, under which sampling parameters are refused even at their defaults and the
/// key may come as `Authorization: Bearer`.
pub const VERSIONS: [&str; 2] = ["2023-06-01", VERSION_2026_10_21];

/// The version that refuses sampling parameters and takes a bearer token.
pub const VERSION_2026_10_21: &str = "2026-10-21";

/// How a request carried the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// `x-api-key`.
    ApiKey,
    /// `Authorization: Bearer`.
    Bearer,
    /// Both headers.
    Both,
    /// Neither.
    Missing,
}

impl Credentials {
    fn of(headers: &HeaderMap) -> Credentials {
        let key = headers.contains_key("x-api-key");
        let bearer = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer "));
        match (key, bearer) {
            (true, true) => Credentials::Both,
            (true, false) => Credentials::ApiKey,
            (false, true) => Credentials::Bearer,
            (false, false) => Credentials::Missing,
        }
    }
}

/// A model generation, as the reference table groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gen {
    /// Sonnet 4.5 / 4.6, Haiku 4.5.
    G4,
    /// Sonnet 5.
    G5,
    /// Sonnet 5.5, Opus 5.5, Haiku 5.5.
    G55,
}

/// A model the fake serves.
#[derive(Debug, Clone, Copy)]
pub struct ModelSpec {
    /// The model id.
    pub id: &'static str,
    /// The display name.
    pub display_name: &'static str,
    /// Its generation.
    pub generation: Gen,
    /// A Haiku model (different cache minimum and default effort).
    pub haiku: bool,
}

/// The models the fake knows; dated ids (`<id>-YYYYMMDD`) are accepted too.
pub const MODELS: [ModelSpec; 6] = [
    ModelSpec {
        id: "claude-sonnet-4-6",
        display_name: "Claude Sonnet 4.6",
        generation: Gen::G4,
        haiku: false,
    },
    ModelSpec {
        id: "claude-haiku-4-5",
        display_name: "Claude Haiku 4.5",
        generation: Gen::G4,
        haiku: true,
    },
    ModelSpec {
        id: "claude-sonnet-5",
        display_name: "Claude Sonnet 5",
        generation: Gen::G5,
        haiku: false,
    },
    ModelSpec {
        id: "claude-sonnet-5-5",
        display_name: "Claude Sonnet 5.5",
        generation: Gen::G55,
        haiku: false,
    },
    ModelSpec {
        id: "claude-opus-5-5",
        display_name: "Claude Opus 5.5",
        generation: Gen::G55,
        haiku: false,
    },
    ModelSpec {
        id: "claude-haiku-5-5",
        display_name: "Claude Haiku 5.5",
        generation: Gen::G55,
        haiku: true,
    },
];

/// A model the API no longer serves: its id (dated ids too), the day it was retired, and the
/// model that replaces it.
#[derive(Debug, Clone, Copy)]
pub struct Retired {
    /// The model id.
    pub id: &'static str,
    /// When it was retired.
    pub on: &'static str,
    /// Its replacement.
    pub replacement: &'static str,
}

/// Retired models: a request to one, or a look-up of it, is a 404 `not_found_error` whose
/// message names the retirement and the replacement. The real API's wording for it is not
/// documented; this message is the fake's own.
pub const RETIRED: [Retired; 1] = [Retired {
    id: "claude-sonnet-4-5",
    on: "2026-11-30",
    replacement: "claude-sonnet-5-5",
}];

impl Retired {
    /// The retired model an id names, dated variants included.
    pub fn find(id: &str) -> Option<Retired> {
        RETIRED.into_iter().find(|r| dated(id, r.id))
    }

    /// The fake's 404 message for it.
    pub fn message(&self, id: &str) -> String {
        format!(
            "model: {id} was retired on {} and is no longer available; use {} instead",
            self.on, self.replacement
        )
    }
}

/// Whether `id` is `base` or `base` with a date (`-YYYYMMDD`).
fn dated(id: &str, base: &str) -> bool {
    id == base
        || id.strip_prefix(base).is_some_and(|rest| {
            rest.len() == 9
                && rest.starts_with('-')
                && rest[1..].bytes().all(|b| b.is_ascii_digit())
        })
}

/// The context window the fake reports for every model.
pub const MAX_INPUT_TOKENS: u64 = 200_000;
/// The output limit the fake reports and enforces for every model.
pub const MAX_OUTPUT_TOKENS: u64 = 64_000;

const EFFORTS: [&str; 5] = ["low", "medium", "high", "xhigh", "max"];

impl ModelSpec {
    /// The model an id names, dated variants included.
    pub fn find(id: &str) -> Option<ModelSpec> {
        MODELS.into_iter().find(|m| dated(id, m.id))
    }

    /// The `capabilities` the fake's model object carries for this model unless a test says
    /// otherwise: what the reference table says its generation accepts, in the shape the bot
    /// reads (see the product's `llm::wire::Capabilities`).
    pub fn capabilities(&self) -> Value {
        let levels = |supported: bool| {
            let mut effort = Map::new();
            effort.insert("supported".into(), json!(supported));
            if let Some(default) = self.default_effort() {
                effort.insert("default".into(), json!(default));
            }
            for level in EFFORTS {
                effort.insert(level.into(), json!({"supported": supported}));
            }
            Value::Object(effort)
        };
        let types = |supported: &[&str]| {
            let mut types = Map::new();
            for kind in ["adaptive", "enabled", "disabled", "between_tools"] {
                let mut entry = json!({"supported": supported.contains(&kind)});
                if kind == "between_tools" && supported.contains(&kind) {
                    entry["efforts"] = json!(["low", "medium", "high"]);
                }
                types.insert(kind.into(), entry);
            }
            Value::Object(types)
        };
        let (effort, default, thinking, sampling) = match self.generation {
            Gen::G4 => (
                levels(false),
                "disabled",
                types(&["enabled", "disabled"]),
                true,
            ),
            Gen::G5 => (
                levels(true),
                "adaptive",
                types(&["adaptive", "disabled"]),
                false,
            ),
            Gen::G55 => (
                levels(true),
                "adaptive",
                types(&["adaptive", "between_tools"]),
                false,
            ),
        };
        json!({
            "effort": effort,
            "structured_outputs": {"supported": true},
            "thinking": {"supported": true, "default": default, "types": thinking},
            "sampling_parameters": {"supported": sampling},
            "image_input": {"supported": true},
        })
    }

    /// The shortest prefix that is cached, in tokens.
    pub fn min_cache_tokens(&self) -> u64 {
        match (self.generation, self.haiku) {
            (Gen::G4, true) => 4096,
            (Gen::G4, false) | (Gen::G5, _) => 1024,
            (Gen::G55, _) => 512,
        }
    }

    /// The effort used when a request sends none.
    pub fn default_effort(&self) -> Option<&'static str> {
        match (self.generation, self.haiku) {
            (Gen::G4, _) => None,
            (Gen::G55, true) => Some("medium"),
            _ => Some("high"),
        }
    }

    /// The tokens a text counts for on this model.
    pub fn tokens(&self, text: &str) -> u64 {
        let chars = text.chars().count() as u64;
        match self.generation {
            Gen::G4 => chars.div_ceil(4),
            // The newer tokenizer: about 30% more tokens for the same text.
            _ => (chars * 13).div_ceil(40),
        }
    }

    /// The characters that make `tokens` tokens on this model.
    fn chars_for(&self, tokens: u64) -> usize {
        match self.generation {
            Gen::G4 => (tokens * 4) as usize,
            _ => (tokens * 40 / 13) as usize,
        }
    }
}

/// The thinking tokens the fake spends at an effort before answering.
pub fn thinking_tokens(effort: &str) -> u64 {
    match effort {
        "low" => 400,
        "medium" => 1_500,
        "high" => 3_000,
        "xhigh" => 6_000,
        _ => 12_000,
    }
}

/// What the fake does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// The automatic interviewer's turn.
    Auto,
    /// A turn with this stage and completeness (the rest filled in).
    Turn {
        stage: &'static str,
        completeness: u8,
    },
    /// A text block with this exact JSON.
    Json(Value),
    /// A reply cut off at the token limit.
    Truncated,
    /// Prose instead of the JSON asked for.
    NotJson,
    /// A refusal (`stop_reason: refusal`).
    Refusal,
    /// An error in the real shape.
    Error {
        status: u16,
        kind: &'static str,
        retry_after: Option<u64>,
    },
    /// A 400 `invalid_request_error` with this message.
    Rejected(String),
    /// Wait this long before answering (longer than the client's timeout).
    Hang(Duration),
    /// The automatic interviewer's turn, after this delay.
    Slow(Duration),
    /// The automatic interviewer's turn with this response text.
    Respond(String),
    /// Streamed, the automatic interviewer's turn broken off halfway by an `overloaded_error`
    /// event (the stream had begun with 200); not streamed, a 529.
    BrokenStream,
}

impl Reply {
    /// 429 `rate_limit_error` with `retry-after`.
    pub fn rate_limited(retry_after: u64) -> Reply {
        Reply::Error {
            status: 429,
            kind: "rate_limit_error",
            retry_after: Some(retry_after),
        }
    }
    /// 529 `overloaded_error`.
    pub fn overloaded() -> Reply {
        Reply::Error {
            status: 529,
            kind: "overloaded_error",
            retry_after: None,
        }
    }
    /// 500 `api_error`.
    pub fn server_error() -> Reply {
        Reply::Error {
            status: 500,
            kind: "api_error",
            retry_after: None,
        }
    }
    /// 401 `authentication_error`.
    pub fn unauthorized() -> Reply {
        Reply::Error {
            status: 401,
            kind: "authentication_error",
            retry_after: None,
        }
    }
}

/// One `POST /v1/messages` the fake received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The JSON body.
    pub body: Value,
    /// The `anthropic-version` header.
    pub version: Option<String>,
    /// How the key came.
    pub credentials: Credentials,
    /// When it arrived.
    pub at: Instant,
    /// The HTTP status it was answered with.
    pub status: u16,
    /// The error message, for an error answer.
    pub error: Option<String>,
    /// The `stop_reason`, for a successful answer.
    pub stop_reason: Option<String>,
    /// The content block types of a successful answer, in order.
    pub blocks: Vec<String>,
    /// The usage the fake reported for it (zero for errors).
    pub usage: Usage,
}

/// Token counts as the fake reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Uncached input tokens.
    pub input: u64,
    /// Tokens written to the cache.
    pub cache_write: u64,
    /// Tokens read from the cache.
    pub cache_read: u64,
    /// Output tokens, thinking included.
    pub output: u64,
    /// Of the output, thinking tokens.
    pub thinking: u64,
}

#[derive(Default)]
struct Inner {
    /// Replies to turn requests, in order.
    script: VecDeque<Reply>,
    /// Replies to turns when the script is empty (cycled); `Auto` when empty too.
    fallback: Vec<Reply>,
    /// Replies to writing requests (stage summaries, the report), in order.
    writing_script: VecDeque<Reply>,
    /// Replies to writing requests when their script is empty (cycled); `Auto` when empty too.
    writing_fallback: Vec<Reply>,
    received: Vec<Received>,
    model_checks: Vec<String>,
    /// Capabilities a test gave a model in place of its generation's (`None`: none stated).
    described: HashMap<&'static str, Option<Value>>,
    cache: HashSet<u64>,
    latency: Duration,
    step: u8,
    verbose: bool,
    /// Replies to held requests wait while this is false (see [`FakeAnthropic::hold_replies`]).
    open: Option<tokio::sync::watch::Sender<bool>>,
    /// Requests whose body contains this text are held; `""` holds every request.
    hold: String,
    /// Output tokens a second of a streamed reply (thinking included); `None` streams at once.
    output_rate: Option<u32>,
    /// A streamed reply stops after this many characters of text until the replies are
    /// released ([`FakeAnthropic::hold_streams_after`]).
    stream_hold: Option<usize>,
    /// Held streams wait while this is false.
    stream_gate: Option<tokio::sync::watch::Sender<bool>>,
}

/// The running fake.
pub struct FakeAnthropic {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeAnthropic {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeAnthropic {
    /// Starts the fake on an ephemeral port.
    pub async fn start() -> FakeAnthropic {
        let inner = Arc::new(Mutex::new(Inner {
            step: 50,
            ..Inner::default()
        }));
        let app = Router::new()
            .route("/v1/messages", post(messages))
            .route("/v1/models/{id}", get(model))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeAnthropic {
            url: format!("http://{addr}"),
            inner,
            server,
        }
    }

    /// Queues replies for the next turn requests, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().script.extend(replies);
    }

    /// What to answer turn requests once the script is used up (cycled).
    pub fn always(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().fallback = replies.into_iter().collect();
    }

    /// Queues replies for the next writing requests (stage summaries, the report), in order.
    pub fn script_writing(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().writing_script.extend(replies);
    }

    /// What to answer writing requests once their script is used up (cycled); empty for the
    /// written answers.
    pub fn always_writing(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().writing_fallback = replies.into_iter().collect();
    }

    /// Every request so far that was for a stage summary (`"summary"`), the report
    /// (`"report"`) or a study's synthesis (`"synthesis"`), with its body.
    pub fn writing(&self) -> Vec<(&'static str, Received)> {
        self.received()
            .into_iter()
            .filter_map(|r| writing_kind(&r.body).map(|k| (k, r)))
            .collect()
    }

    /// Makes every reply wait until [`FakeAnthropic::release_replies`]: a gate instead of a
    /// timed delay, for tests that need a call to be in flight.
    pub fn hold_replies(&self) {
        self.hold_replies_to("");
    }

    /// Holds only the replies to requests whose body contains `text` (an answer, say).
    pub fn hold_replies_to(&self, text: &str) {
        self.inner.lock().unwrap().hold = serde_json::to_string(text)
            .unwrap()
            .trim_matches('"')
            .to_owned();
        self.gate().send_replace(false);
    }

    /// Lets held and future replies go, held streams included.
    pub fn release_replies(&self) {
        self.gate().send_replace(true);
        if let Some(gate) = &self.inner.lock().unwrap().stream_gate {
            gate.send_replace(true);
        }
    }

    fn gate(&self) -> tokio::sync::watch::Sender<bool> {
        self.inner
            .lock()
            .unwrap()
            .open
            .get_or_insert_with(|| tokio::sync::watch::channel(true).0)
            .clone()
    }

    /// Turns are written at this many output tokens a second (thinking first, then the
    /// text): a stream shows them as they come, a reply in one piece comes when all are
    /// written. Unset, and for writing requests (summaries, the report), replies come at once.
    pub fn set_output_rate(&self, tokens_per_second: u32) {
        self.inner.lock().unwrap().output_rate = Some(tokens_per_second.max(1));
    }

    /// Makes every streamed reply stop after `chars` characters of its text until
    /// [`FakeAnthropic::release_replies`]: a reply caught in the middle of being written.
    pub fn hold_streams_after(&self, chars: usize) {
        let mut inner = self.inner.lock().unwrap();
        inner.stream_hold = Some(chars);
        inner
            .stream_gate
            .get_or_insert_with(|| tokio::sync::watch::channel(false).0)
            .send_replace(false);
    }

    /// A delay before every answer.
    pub fn set_latency(&self, latency: Duration) {
        self.inner.lock().unwrap().latency = latency;
    }

    /// How much the automatic interviewer adds to a stage's completeness per turn.
    pub fn set_step(&self, step: u8) {
        self.inner.lock().unwrap().step = step;
    }

    /// Replies of a realistic length (an acknowledgement and a question of a few sentences,
    /// an insight, a follow-up; a summary of several hundred words), for cost figures.
    pub fn set_verbose(&self, verbose: bool) {
        self.inner.lock().unwrap().verbose = verbose;
    }

    /// Every `POST /v1/messages` received so far.
    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// How many `POST /v1/messages` were received.
    pub fn count(&self) -> usize {
        self.inner.lock().unwrap().received.len()
    }

    /// How many of them were for interview turns (not stage summaries or the report).
    pub fn turn_count(&self) -> usize {
        self.count() - self.writing().len()
    }

    /// Describes `model` (one of [`MODELS`]) with these `capabilities` from now on: its model
    /// object carries them, and requests to it are held to them too (an effort level, a
    /// thinking type or a sampling parameter they say it lacks is a 400), on top of what its
    /// generation refuses.
    pub fn describe(&self, model: &str, capabilities: Value) {
        self.set_description(model, Some(capabilities));
    }

    /// `model`'s object carries no `capabilities` at all (an older API, a proxy).
    pub fn describe_without_capabilities(&self, model: &str) {
        self.set_description(model, None);
    }

    fn set_description(&self, model: &str, capabilities: Option<Value>) {
        let spec = ModelSpec::find(model).expect("a model the fake knows");
        self.inner
            .lock()
            .unwrap()
            .described
            .insert(spec.id, capabilities);
    }

    /// The model ids asked for with `GET /v1/models/{id}`.
    pub fn model_checks(&self) -> Vec<String> {
        self.inner.lock().unwrap().model_checks.clone()
    }

    /// The text of every block of the last user message of the latest turn request.
    pub fn last_turn_blocks(&self) -> Vec<String> {
        self.turn_blocks_from_end(0)
    }

    /// The text of every block of the last user message of the turn request `back` turns
    /// before the last one (summary and report requests skipped).
    pub fn turn_blocks_from_end(&self, back: usize) -> Vec<String> {
        let received = self.received();
        let turn = received
            .iter()
            .rev()
            .filter(|r| writing_kind(&r.body).is_none())
            .nth(back)
            .expect("that many turns were asked for");
        last_user_blocks(&turn.body)
    }

    /// The text of every block of the last user message of request `n`.
    pub fn last_user_blocks(&self, n: usize) -> Vec<String> {
        let body = self.received()[n].body.clone();
        last_user_blocks(&body)
    }
}

fn last_user_blocks(body: &Value) -> Vec<String> {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let last = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .cloned()
        .unwrap_or(Value::Null);
    match &last["content"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b["text"].as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// Checks the key and the version; returns the version. The key goes in `x-api-key`, or under
/// 2026-10-21 also as `Authorization: Bearer` (what the new SDKs send with it).
fn authorised(headers: &HeaderMap) -> Result<&'static str, Refusal> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let version = header("anthropic-version");
    let bearer = header("authorization").and_then(|v| v.strip_prefix("Bearer "));
    let key_ok = header("x-api-key") == Some(API_KEY)
        || (version == Some(VERSION_2026_10_21) && bearer == Some(API_KEY));
    if !key_ok {
        return Err((401, "authentication_error", "invalid x-api-key".into()));
    }
    let Some(version) = version else {
        return Err(invalid("anthropic-version: header is required"));
    };
    VERSIONS.into_iter().find(|v| *v == version).ok_or_else(|| {
        invalid(format!(
            "anthropic-version: {version:?} is not a valid version"
        ))
    })
}

async fn model(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    inner.lock().unwrap().model_checks.push(id.clone());
    if let Err((status, kind, message)) = authorised(&headers) {
        return error(status, kind, &message, None);
    }
    if let Some(retired) = Retired::find(&id) {
        return error(404, "not_found_error", &retired.message(&id), None);
    }
    let Some(spec) = ModelSpec::find(&id) else {
        return error(404, "not_found_error", &format!("model: {id}"), None);
    };
    let capabilities = match inner.lock().unwrap().described.get(spec.id) {
        Some(described) => described.clone(),
        None => Some(spec.capabilities()),
    };
    let mut body = json!({
        "type": "model",
        "id": id,
        "display_name": spec.display_name,
        "created_at": "2026-09-28T00:00:00Z",
        "max_input_tokens": MAX_INPUT_TOKENS,
        "max_tokens": MAX_OUTPUT_TOKENS,
    });
    if let Some(capabilities) = capabilities {
        body["capabilities"] = capabilities;
    }
    let mut headers = HeaderMap::new();
    headers.insert("request-id", "req_fakemodel".parse().unwrap());
    (StatusCode::OK, headers, axum::Json(body)).into_response()
}

async fn messages(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let at = Instant::now();
    let body: Value = match serde_json::from_str(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                400,
                "invalid_request_error",
                &format!("body is not JSON: {e}"),
                None,
            );
        }
    };
    let writing = writing_kind(&body).is_some();
    let (reply, latency, step, verbose, index) = {
        let mut inner = inner.lock().unwrap();
        let inner = &mut *inner;
        let (script, fallback) = if writing {
            (&mut inner.writing_script, &inner.writing_fallback)
        } else {
            (&mut inner.script, &inner.fallback)
        };
        let reply = script.pop_front().unwrap_or_else(|| {
            if fallback.is_empty() {
                Reply::Auto
            } else {
                fallback[inner.received.len() % fallback.len()].clone()
            }
        });
        inner.received.push(Received {
            body: body.clone(),
            version: headers
                .get("anthropic-version")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            credentials: Credentials::of(&headers),
            at,
            status: 200,
            error: None,
            stop_reason: None,
            blocks: Vec::new(),
            usage: Usage::default(),
        });
        (
            reply,
            inner.latency,
            inner.step,
            inner.verbose,
            inner.received.len() - 1,
        )
    };
    let refuse = |status: u16, kind: &str, message: &str, retry_after: Option<u64>| {
        let mut inner = inner.lock().unwrap();
        inner.received[index].status = status;
        inner.received[index].error = Some(message.to_owned());
        error(status, kind, message, retry_after)
    };
    let described = inner.lock().unwrap().described.clone();
    let spec = match authorised(&headers)
        .and_then(|version| validate(&body, version))
        .and_then(|spec| held_to(&body, spec, &described))
    {
        Ok(spec) => spec,
        Err((status, kind, message)) => return refuse(status, kind, &message, None),
    };
    let (gate, hold) = {
        let inner = inner.lock().unwrap();
        (inner.open.clone(), inner.hold.clone())
    };
    if let Some(gate) = gate
        && body.to_string().contains(&hold)
    {
        let _ = gate.subscribe().wait_for(|open| *open).await;
    }
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let content = match reply {
        Reply::Error {
            status,
            kind,
            retry_after,
        } => return refuse(status, kind, "scripted failure", retry_after),
        Reply::Rejected(message) => {
            return refuse(400, "invalid_request_error", &message, None);
        }
        Reply::Hang(wait) => {
            tokio::time::sleep(wait).await;
            return refuse(500, "api_error", "hung", None);
        }
        Reply::Slow(wait) => {
            tokio::time::sleep(wait).await;
            Reply::Auto
        }
        Reply::BrokenStream if body["stream"] != json!(true) => {
            return refuse(529, "overloaded_error", "Overloaded", None);
        }
        reply => reply,
    };
    let broken = matches!(content, Reply::BrokenStream);
    let mut usage = {
        let mut inner = inner.lock().unwrap();
        cache_usage(&body, &spec, &mut inner.cache)
    };
    let (text, scripted_stop) = answer(&body, content, step, verbose);
    let (blocks, stop_reason) = generate(&body, &spec, text, scripted_stop, &mut usage);
    {
        let mut inner = inner.lock().unwrap();
        let received = &mut inner.received[index];
        received.usage = usage;
        received.stop_reason = Some(stop_reason.to_owned());
        received.blocks = blocks
            .iter()
            .map(|b| b["type"].as_str().unwrap_or_default().to_owned())
            .collect();
    }
    if body["stream"] != json!(true) {
        // A reply in one piece comes when the whole of it is written.
        let rate = inner.lock().unwrap().output_rate.filter(|_| !writing);
        if let Some(rate) = rate {
            let micros = usage.output * 1_000_000 / u64::from(rate);
            tokio::time::sleep(Duration::from_micros(micros)).await;
        }
    }
    if body["stream"] == json!(true) {
        let (rate, hold, gate) = {
            let inner = inner.lock().unwrap();
            let gate = inner.stream_gate.as_ref().map(|gate| gate.subscribe());
            (
                inner.output_rate.filter(|_| !writing),
                inner.stream_hold,
                gate,
            )
        };
        let plan = StreamPlan {
            id: format!("msg_fake{index:06}"),
            model: body["model"].clone(),
            blocks,
            stop_reason,
            usage,
            rate,
            hold: hold.zip(gate),
            broken,
        };
        return plan.respond(index);
    }
    let out = json!({
        "id": format!("msg_fake{index:06}"),
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": {
            "input_tokens": usage.input,
            "output_tokens": usage.output,
            "cache_creation_input_tokens": usage.cache_write,
            "cache_read_input_tokens": usage.cache_read,
        }
    });
    let mut headers = HeaderMap::new();
    headers.insert("request-id", format!("req_fake{index:06}").parse().unwrap());
    (StatusCode::OK, headers, axum::Json(out)).into_response()
}

/// The answer text for a request, and the stop reason when the script forces one.
fn answer(body: &Value, content: Reply, step: u8, verbose: bool) -> (String, Option<&'static str>) {
    let schema = &body["output_config"]["format"]["schema"];
    let structured = schema.is_object();
    let wants_turn = schema["properties"].get("interview_stage").is_some();
    match content {
        Reply::Json(value) => (value.to_string(), None),
        Reply::NotJson => ("Sure! Here is my question.".to_owned(), None),
        Reply::Refusal => (
            "I can't help with that request.".to_owned(),
            Some("refusal"),
        ),
        Reply::Truncated => (
            json!({"interview_stage": "greeting", "response": "Tell me"})
                .to_string()
                .chars()
                .take(30)
                .collect(),
            Some("max_tokens"),
        ),
        other if wants_turn => {
            let turn = match other {
                Reply::Turn {
                    stage,
                    completeness,
                } => turn(stage, completeness, body, verbose),
                Reply::Respond(text) => {
                    let mut turn = auto_turn(body, step, verbose);
                    turn["response"] = Value::String(text);
                    turn
                }
                _ => auto_turn(body, step, verbose),
            };
            (in_schema_order(&turn, schema), None)
        }
        _ if writing_kind(body) == Some("summary") => {
            (stage_summary(body, verbose).to_string(), None)
        }
        _ if writing_kind(body) == Some("report") => (report(body, verbose).to_string(), None),
        _ if structured => (fill(schema).to_string(), None),
        _ => ("The expert is a practitioner.".to_owned(), None),
    }
}

/// `value` written with its fields in the order the schema's `required` lists them, as
/// structured outputs write them (the model generates the fields in the schema's order), so a
/// streamed reply's fields arrive in that order too. Fields the list lacks come after.
fn in_schema_order(value: &Value, schema: &Value) -> String {
    let (Some(fields), Some(order)) = (value.as_object(), schema["required"].as_array()) else {
        return value.to_string();
    };
    let mut names: Vec<&str> = order.iter().filter_map(Value::as_str).collect();
    let rest: Vec<&str> = fields
        .keys()
        .map(String::as_str)
        .filter(|k| !names.contains(k))
        .collect();
    names.extend(rest);
    let parts: Vec<String> = names
        .iter()
        .filter_map(|name| {
            fields
                .get(*name)
                .map(|v| format!("{}:{v}", Value::from(*name)))
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// What a writing request is for, by its schema: `"summary"` for a stage summary, `"report"`
/// for the report, `"synthesis"` for a study's synthesis; `None` for a turn or anything else.
pub fn writing_kind(body: &Value) -> Option<&'static str> {
    let properties = &body["output_config"]["format"]["schema"]["properties"];
    if properties.get("disagreements").is_some() {
        Some("synthesis")
    } else if properties.get("elements").is_some() {
        Some("summary")
    } else if properties.get("task_diagram").is_some() {
        Some("report")
    } else {
        None
    }
}

/// The text of the first user message of a request.
fn prompt_text(body: &Value) -> String {
    body["messages"][0]["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first `n` words of `text`'s first line.
fn first_words(text: &str, n: usize) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .take(n)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A stage summary of the request's numbered answers: an element of the stage's kinds for
/// each (a decision point too, for an incident), quoting its first words.
fn stage_summary(body: &Value, verbose: bool) -> Value {
    let prompt = prompt_text(body);
    let ru = prompt.contains("Session language: Russian");
    let stage = prompt
        .lines()
        .find_map(|l| l.strip_prefix("Stage: "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("greeting")
        .to_owned();
    let answers: Vec<(u64, String)> = prompt
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix('A')?;
            let (number, text) = rest.split_once(": ")?;
            Some((number.parse().ok()?, text.to_owned()))
        })
        .collect();
    let kinds: &[&str] = match stage.as_str() {
        "greeting" | "profiling" => &["profile"],
        "essence" => &["principle", "cue"],
        "operations" => &["step"],
        "expertise_map" => &["area", "cue", "strategy"],
        "failure_modes" => &["failure", "error"],
        "mastery" => &["mastery", "cue"],
        "growth_path" => &["learning"],
        _ => &["advice", "quote"],
    };
    let per_answer = 1;
    let mut elements = Vec::new();
    let mut decisions = Vec::new();
    for (i, (number, text)) in answers.iter().enumerate() {
        let gist: String = text.chars().take(60).collect();
        let quote = first_words(text, 6);
        for k in 0..per_answer {
            let kind = kinds[(i + k) % kinds.len()];
            let mut statement = if ru {
                format!("Эксперт рассказывает ({kind}): {gist}")
            } else {
                format!("The expert explains ({kind}): {gist}")
            };
            let mut detail = String::new();
            if verbose {
                statement.push_str(if ru {
                    " — и поясняет, почему именно так: сначала проверить, что изменилось с прошлого раза, и только потом трогать процесс."
                } else {
                    " — and why: first check what changed since the last good run, and only then touch the process."
                });
                detail = if ru {
                    "Это экономит час вместо недели переделок.".into()
                } else {
                    "It saves an hour instead of a week of rework.".into()
                };
            }
            elements.push(json!({
                "kind": kind,
                "text": statement,
                "detail": detail,
                "order": if matches!(kind, "step" | "area" | "learning") { i as u64 + 1 } else { 0 },
                "hard": kind == "step" && i == 1,
                "answer": number,
                "quote": quote,
            }));
        }
        if matches!(stage.as_str(), "failure_modes" | "mastery") && decisions.len() < 3 {
            decisions.push(if ru {
                json!({
                    "situation": format!("Решающий момент: {gist}"),
                    "cues": "цвет шва чуть отличается",
                    "strategy": "остановить линию и проверить газ",
                    "novice_error": "продолжить работу и переделывать неделю",
                    "answer": number,
                    "quote": quote,
                })
            } else {
                json!({
                    "situation": format!("A decision point: {gist}"),
                    "cues": "the weld colour is slightly off",
                    "strategy": "stop the line and check the gas",
                    "novice_error": "keep going and rework for a week",
                    "answer": number,
                    "quote": quote,
                })
            });
        }
    }
    let summary = if ru {
        format!("На этапе {stage} эксперт дал ответов: {}.", answers.len())
    } else {
        format!(
            "In the {stage} stage the expert gave {} answers.",
            answers.len()
        )
    };
    json!({"summary": summary, "elements": elements, "decisions": decisions})
}

/// The report from the request's elements and decision points, filed by kind, citing ids.
fn report(body: &Value, verbose: bool) -> Value {
    let prompt = prompt_text(body);
    let ru = prompt.contains("Report language: Russian");
    let mut out = json!({
        "summary": "", "profile": [], "essence": [], "task_diagram": [], "expertise_map": [],
        "incidents": [], "failure_modes": [], "mastery": [], "growth_path": [], "quotes": []
    });
    let mut findings = 0;
    for line in prompt.lines() {
        let Some((id, rest)) = line.split_once(" [") else {
            continue;
        };
        if !(id.starts_with('E') || id.starts_with('D')) || id[1..].parse::<u32>().is_err() {
            continue;
        }
        let Some((tags, text)) = rest.split_once("] ") else {
            continue;
        };
        let kind = tags.split(", ").next().unwrap_or_default();
        let text = text.split(" | ").next().unwrap_or_default().to_owned();
        let sources = json!([id]);
        findings += 1;
        let (section, item) = match kind {
            "profile" => ("profile", json!({"text": text, "sources": sources})),
            "principle" | "advice" => ("essence", json!({"text": text, "sources": sources})),
            "step" => (
                "task_diagram",
                json!({"step": text, "hard": tags.contains("hard"), "sources": sources}),
            ),
            "area" => (
                "expertise_map",
                json!({"area": text, "why": if ru { "основа для остального" } else { "the rest builds on it" }, "sources": sources}),
            ),
            "failure" | "error" => (
                "failure_modes",
                json!({"failure": text, "prevention": if ru { "проверять газ до начала" } else { "check the gas before starting" }, "sources": sources}),
            ),
            "mastery" | "cue" | "strategy" => {
                ("mastery", json!({"text": text, "sources": sources}))
            }
            "learning" => ("growth_path", json!({"text": text, "sources": sources})),
            "decision" => {
                let field = |name: &str| {
                    line.split(" | ")
                        .find_map(|part| {
                            part.split_once(&format!("{name}: "))
                                .map(|(_, v)| v.to_owned())
                        })
                        .unwrap_or_default()
                };
                (
                    "incidents",
                    json!({"situation": field("situation"), "cues": field("cues"),
                           "strategy": field("strategy"), "typical_error": field("novice error"),
                           "sources": sources}),
                )
            }
            _ => ("essence", json!({"text": text, "sources": sources})),
        };
        // A writer merges what repeats: at most eight items a section.
        let items = out[section].as_array_mut().unwrap();
        if items.len() < 8 {
            items.push(item);
        }
        if let Some((_, words)) = line.split_once(" | words: \"")
            && out["quotes"].as_array().unwrap().len() < 3
            && kind != "decision"
        {
            let quote = words.trim_end_matches('"').to_owned();
            out["quotes"]
                .as_array_mut()
                .unwrap()
                .push(json!({"quote": quote, "source": id}));
        }
    }
    let mut summary = if ru {
        format!("Отчёт собирает {findings} выводов из интервью с экспертом.")
    } else {
        format!("The report gathers {findings} findings from the interview with the expert.")
    };
    if verbose {
        let more = if ru {
            " Эксперт прежде всего проверяет, что изменилось с последней удачной партии, и останавливает линию при первом признаке дрейфа."
        } else {
            " The expert first checks what changed since the last good run, and stops the line at the first sign of drift."
        };
        for _ in 0..3 {
            summary.push_str(more);
        }
    }
    if let Some((_, after)) = prompt.split_once("## The expert's correction") {
        let correction = after
            .lines()
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let step = if ru {
            format!("Правка эксперта: {correction}")
        } else {
            format!("As the expert corrected: {correction}")
        };
        out["task_diagram"]
            .as_array_mut()
            .unwrap()
            .insert(0, json!({"step": step, "hard": false, "sources": ["C"]}));
        summary = if ru {
            format!("Исправлено. {summary}")
        } else {
            format!("Revised. {summary}")
        };
    }
    out["summary"] = Value::String(summary);
    out
}

/// The reply's blocks and stop reason: thinking first on models that think, everything
/// within `max_tokens`. Adds the output tokens to `usage`.
fn generate(
    body: &Value,
    spec: &ModelSpec,
    text: String,
    scripted_stop: Option<&'static str>,
    usage: &mut Usage,
) -> (Vec<Value>, &'static str) {
    let max_tokens = body["max_tokens"].as_u64().unwrap_or(0);
    let thinking = thinking_for(body, spec);
    let mut blocks = Vec::new();
    if thinking > 0 {
        blocks.push(json!({
            "type": "thinking",
            "thinking": "The expert's answer suggests a follow-up on the concrete case.",
            "signature": "sig_fake",
        }));
    }
    if thinking >= max_tokens {
        usage.output = max_tokens;
        usage.thinking = max_tokens;
        return (blocks, "max_tokens");
    }
    let room = max_tokens - thinking;
    let answer = spec.tokens(&text);
    usage.thinking = thinking;
    if answer > room {
        let cut: String = text.chars().take(spec.chars_for(room)).collect();
        usage.output = max_tokens;
        blocks.push(json!({"type": "text", "text": cut}));
        return (blocks, "max_tokens");
    }
    usage.output = thinking + answer;
    blocks.push(json!({"type": "text", "text": text}));
    (blocks, scripted_stop.unwrap_or("end_turn"))
}

/// The thinking tokens a request spends: none on 4.x or with `between_tools`, else by effort.
fn thinking_for(body: &Value, spec: &ModelSpec) -> u64 {
    if spec.generation == Gen::G4 {
        return 0;
    }
    match body["thinking"]["type"].as_str() {
        Some("between_tools") | Some("disabled") => 0,
        _ => {
            let effort = body["output_config"]["effort"]
                .as_str()
                .or(spec.default_effort())
                .unwrap_or("high");
            thinking_tokens(effort)
        }
    }
}

fn error(status: u16, kind: &str, message: &str, retry_after: Option<u64>) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert("request-id", "req_fakeerror".parse().unwrap());
    if let Some(secs) = retry_after {
        headers.insert("retry-after", secs.to_string().parse().unwrap());
    }
    let body = json!({"type": "error", "error": {"type": kind, "message": message}});
    (
        StatusCode::from_u16(status).unwrap(),
        headers,
        axum::Json(body),
    )
        .into_response()
}

type Refusal = (u16, &'static str, String);

fn invalid(message: impl Into<String>) -> Refusal {
    (400, "invalid_request_error", message.into())
}

/// Top-level fields the Messages API takes.
const FIELDS: [&str; 18] = [
    "model",
    "max_tokens",
    "messages",
    "system",
    "metadata",
    "stop_sequences",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "tools",
    "tool_choice",
    "thinking",
    "output_config",
    "service_tier",
    "container",
    "mcp_servers",
    "context_management",
];

/// The checks the real API makes that the client could get wrong, per model.
fn validate(body: &Value, version: &str) -> Result<ModelSpec, Refusal> {
    for field in ["model", "max_tokens", "messages"] {
        if body.get(field).is_none() {
            return Err(invalid(format!("{field}: Field required")));
        }
    }
    for (field, _) in body.as_object().into_iter().flatten() {
        if !FIELDS.contains(&field.as_str()) {
            return Err(invalid(format!("{field}: Extra inputs are not permitted")));
        }
    }
    let id = body["model"].as_str().unwrap_or_default();
    if let Some(retired) = Retired::find(id) {
        return Err((404, "not_found_error", retired.message(id)));
    }
    let spec =
        ModelSpec::find(id).ok_or_else(|| (404, "not_found_error", format!("model: {id}")))?;
    let max_tokens = body["max_tokens"]
        .as_u64()
        .filter(|n| *n >= 1)
        .ok_or_else(|| invalid("max_tokens: Input should be a positive integer"))?;
    if max_tokens > MAX_OUTPUT_TOKENS {
        return Err(invalid(format!(
            "max_tokens: {max_tokens} > {MAX_OUTPUT_TOKENS}, which is the maximum allowed number \
             of output tokens for {id}"
        )));
    }
    sampling(body, &spec, version)?;
    let messages = body["messages"]
        .as_array()
        .ok_or_else(|| invalid("messages: must be a list"))?;
    if messages.is_empty() || messages[0]["role"] != "user" {
        return Err(invalid(
            "messages: first message must use the \"user\" role",
        ));
    }
    for pair in messages.windows(2) {
        if pair[0]["role"] == pair[1]["role"] {
            return Err(invalid(
                "messages: roles must alternate between \"user\" and \"assistant\"",
            ));
        }
    }
    for m in messages {
        let blocks = m["content"]
            .as_array()
            .ok_or_else(|| invalid("content: must be a list of blocks"))?;
        if blocks.is_empty()
            || blocks
                .iter()
                .any(|b| b["text"].as_str().is_none_or(|t| t.trim().is_empty()))
        {
            return Err(invalid("messages: text content blocks must be non-empty"));
        }
    }
    if spec.generation == Gen::G55 && messages.last().is_some_and(|m| m["role"] == "assistant") {
        return Err(invalid(
            "This model does not support assistant message prefill. The conversation must end \
             with a user message.",
        ));
    }
    if let Some(choice) = body.get("tool_choice") {
        let kind = choice["type"].as_str().unwrap_or_default();
        if spec.generation == Gen::G55 && matches!(kind, "tool" | "any") {
            return Err(invalid(format!(
                "tool_choice: `{kind}` (forced tool use) is not supported for this model; use \
                 `auto` or `none`"
            )));
        }
        let name = choice["name"].as_str().unwrap_or_default();
        let known = body["tools"]
            .as_array()
            .is_some_and(|tools| tools.iter().any(|t| t["name"] == name));
        if kind == "tool" && !known {
            return Err(invalid(format!(
                "tool_choice: tool {name:?} not found in tools"
            )));
        }
    }
    let effort = output_config(body, &spec)?;
    thinking(body, &spec, effort, max_tokens)?;
    let breakpoints = blocks(body, &spec).iter().filter(|b| b.cached).count();
    if breakpoints > 4 {
        return Err(invalid(
            "A maximum of 4 blocks with cache_control may be provided",
        ));
    }
    Ok(spec)
}

/// `temperature`, `top_p`, `top_k`: ranges on 4.x; only the defaults on generation 5;
/// refused outright on 5.5, and on every model under API version 2026-10-21.
fn sampling(body: &Value, spec: &ModelSpec, version: &str) -> Result<(), Refusal> {
    if version == VERSION_2026_10_21
        && let Some(name) = ["temperature", "top_p", "top_k"]
            .into_iter()
            .find(|name| body.get(*name).is_some())
    {
        return Err(invalid(format!(
            "{name}: sampling parameters are not supported with anthropic-version \
             {VERSION_2026_10_21}"
        )));
    }
    for (name, default) in [
        ("temperature", Some(1.0)),
        ("top_p", Some(1.0)),
        ("top_k", None),
    ] {
        let Some(value) = body.get(name) else {
            continue;
        };
        let refused = match spec.generation {
            Gen::G4 => false,
            Gen::G5 => default.is_none() || value.as_f64() != default,
            Gen::G55 => true,
        };
        if refused {
            return Err(invalid(format!("`{name}` is deprecated for this model.")));
        }
        if name != "top_k" && value.as_f64().is_none_or(|v| !(0.0..=1.0).contains(&v)) {
            return Err(invalid(format!("{name}: must be between 0 and 1")));
        }
    }
    Ok(())
}

/// `output_config`: `format` and `effort` only; the effort only where the model takes it.
/// Returns the effort the request runs at.
fn output_config(body: &Value, spec: &ModelSpec) -> Result<Option<&'static str>, Refusal> {
    let Some(config) = body.get("output_config") else {
        return Ok(spec.default_effort());
    };
    let config = config
        .as_object()
        .ok_or_else(|| invalid("output_config: Input should be an object"))?;
    for key in config.keys() {
        if !matches!(key.as_str(), "format" | "effort") {
            return Err(invalid(format!(
                "output_config.{key}: Extra inputs are not permitted"
            )));
        }
    }
    let effort = match config.get("effort") {
        None => spec.default_effort(),
        Some(_) if spec.generation == Gen::G4 => {
            return Err(invalid(format!(
                "output_config.effort: effort is not supported for {}",
                spec.id
            )));
        }
        Some(value) => Some(
            EFFORTS
                .into_iter()
                .find(|e| value.as_str() == Some(*e))
                .ok_or_else(|| {
                    invalid(format!(
                        "output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' \
                         or 'max', got {value}"
                    ))
                })?,
        ),
    };
    if let Some(format) = config.get("format") {
        let object = format
            .as_object()
            .filter(|f| f.keys().all(|k| k == "type" || k == "schema"))
            .filter(|f| f.get("type").and_then(Value::as_str) == Some("json_schema"))
            .ok_or_else(|| {
                invalid(format!(
                    "output_config.format: expected {{\"type\": \"json_schema\", \"schema\": \
                     {{...}}}}, got {format}"
                ))
            })?;
        let schema = object
            .get("schema")
            .filter(|s| s.is_object())
            .ok_or_else(|| invalid("output_config.format.schema: Field required"))?;
        check_schema(schema, "output_config.format.schema").map_err(invalid)?;
    }
    Ok(effort)
}

/// `thinking`, per generation.
fn thinking(
    body: &Value,
    spec: &ModelSpec,
    effort: Option<&'static str>,
    max_tokens: u64,
) -> Result<(), Refusal> {
    let Some(thinking) = body.get("thinking") else {
        return Ok(());
    };
    let kind = thinking["type"].as_str().unwrap_or_default();
    if thinking.get("budget_tokens").is_some() && spec.generation != Gen::G4 {
        return Err(invalid(
            "thinking.budget_tokens: thinking budgets are not supported for this model; use \
             output_config.effort",
        ));
    }
    match (kind, spec.generation) {
        ("enabled", Gen::G4) => {
            let budget = thinking["budget_tokens"].as_u64().unwrap_or(0);
            if budget < 1024 || budget >= max_tokens {
                return Err(invalid(
                    "thinking.budget_tokens: must be at least 1024 and less than max_tokens",
                ));
            }
            Ok(())
        }
        ("disabled", Gen::G4 | Gen::G5) => Ok(()),
        ("adaptive", Gen::G5 | Gen::G55) => Ok(()),
        ("between_tools", Gen::G55) => {
            if effort.is_some_and(|e| !matches!(e, "low" | "medium" | "high")) {
                return Err(invalid(format!(
                    "thinking.type: between_tools is not supported at effort {}",
                    effort.unwrap_or_default()
                )));
            }
            Ok(())
        }
        (kind, _) => Err(invalid(format!(
            "thinking.type: {kind:?} is not supported for this model"
        ))),
    }
}

/// What a test's description of the model refuses, beyond its generation: an effort level or
/// a thinking type it says the model lacks, a sampling parameter, a structured output.
fn held_to(
    body: &Value,
    spec: ModelSpec,
    described: &HashMap<&'static str, Option<Value>>,
) -> Result<ModelSpec, Refusal> {
    let Some(Some(capabilities)) = described.get(spec.id) else {
        return Ok(spec);
    };
    let unsupported = |value: &Value| value["supported"] == json!(false);
    if let Some(effort) = body["output_config"]["effort"].as_str() {
        let stated = &capabilities["effort"];
        if unsupported(stated) || unsupported(&stated[effort]) {
            return Err(invalid(format!(
                "output_config.effort: {effort:?} is not supported for {}",
                spec.id
            )));
        }
    }
    if let Some(kind) = body["thinking"]["type"].as_str() {
        let stated = &capabilities["thinking"]["types"][kind];
        if unsupported(stated) {
            return Err(invalid(format!(
                "thinking.type: {kind:?} is not supported for this model"
            )));
        }
    }
    for name in ["temperature", "top_p", "top_k"] {
        if body.get(name).is_some() && unsupported(&capabilities["sampling_parameters"]) {
            return Err(invalid(format!(
                "`{name}` is not supported for this model."
            )));
        }
    }
    if body["output_config"].get("format").is_some()
        && unsupported(&capabilities["structured_outputs"])
    {
        return Err(invalid(
            "output_config.format: structured outputs are not supported for this model",
        ));
    }
    Ok(spec)
}

/// String formats structured outputs accept.
const FORMATS: [&str; 10] = [
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "uri",
    "ipv4",
    "ipv6",
    "uuid",
];

/// The limits structured outputs put on a schema.
fn check_schema(schema: &Value, path: &str) -> Result<(), String> {
    let Some(object) = schema.as_object() else {
        return Ok(());
    };
    for keyword in [
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "maxItems",
    ] {
        if object.contains_key(keyword) {
            return Err(format!(
                "{path}: `{keyword}` is not supported by structured outputs"
            ));
        }
    }
    if let Some(min) = object.get("minItems")
        && !matches!(min.as_u64(), Some(0 | 1))
    {
        return Err(format!("{path}: `minItems` may only be 0 or 1"));
    }
    if let Some(format) = object.get("format")
        && !format.as_str().is_some_and(|f| FORMATS.contains(&f))
    {
        return Err(format!("{path}: string format {format} is not supported"));
    }
    if object.get("type").and_then(Value::as_str) == Some("object") {
        if object.get("additionalProperties") != Some(&Value::Bool(false)) {
            return Err(format!(
                "{path}: `additionalProperties` must be set to false for every object"
            ));
        }
        let empty = Map::new();
        let properties = object
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut required: Vec<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut names: Vec<&str> = properties.keys().map(String::as_str).collect();
        required.sort_unstable();
        names.sort_unstable();
        if required != names {
            return Err(format!(
                "{path}: every property must be listed in `required`"
            ));
        }
        for (name, child) in properties {
            check_schema(child, &format!("{path}.properties.{name}"))?;
        }
    }
    if let Some(items) = object.get("items") {
        check_schema(items, &format!("{path}.items"))?;
    }
    for key in ["anyOf", "allOf"] {
        for (i, child) in object
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            check_schema(child, &format!("{path}.{key}[{i}]"))?;
        }
    }
    Ok(())
}

struct Block {
    text: String,
    cached: bool,
}

/// The request flattened in cache order: output format, tools, system blocks, then messages.
fn blocks(body: &Value, _spec: &ModelSpec) -> Vec<Block> {
    let mut out = Vec::new();
    if let Some(format) = body["output_config"].get("format") {
        out.push(Block {
            text: format.to_string(),
            cached: false,
        });
    }
    for tool in body["tools"].as_array().into_iter().flatten() {
        out.push(Block {
            text: tool.to_string(),
            cached: tool.get("cache_control").is_some(),
        });
    }
    match &body["system"] {
        Value::String(s) => out.push(Block {
            text: s.clone(),
            cached: false,
        }),
        Value::Array(blocks) => {
            for b in blocks {
                out.push(Block {
                    text: b["text"].as_str().unwrap_or_default().to_owned(),
                    cached: b.get("cache_control").is_some(),
                });
            }
        }
        _ => {}
    }
    for m in body["messages"].as_array().into_iter().flatten() {
        for b in m["content"].as_array().into_iter().flatten() {
            let text = format!("{}:{}", m["role"], b["text"].as_str().unwrap_or_default());
            out.push(Block {
                text,
                cached: b.get("cache_control").is_some(),
            });
        }
    }
    out
}

/// Applies the cache rules to a request: what it reads, what it writes, what is left over.
/// Each model has its own cache.
fn cache_usage(body: &Value, spec: &ModelSpec, cache: &mut HashSet<u64>) -> Usage {
    let blocks = blocks(body, spec);
    let min = spec.min_cache_tokens();
    let mut prefix = Vec::with_capacity(blocks.len());
    let mut cumulative = Vec::with_capacity(blocks.len());
    let mut hasher = DefaultHasher::new();
    spec.id.hash(&mut hasher);
    let mut total = 0;
    for b in &blocks {
        b.text.hash(&mut hasher);
        prefix.push(hasher.finish());
        // A block's own role marker is not a token of its text.
        total += spec.tokens(&b.text);
        cumulative.push(total);
    }
    let breakpoints: Vec<usize> = blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| b.cached)
        .map(|(i, _)| i)
        .collect();
    let Some(&last_bp) = breakpoints.last() else {
        return Usage {
            input: total,
            ..Usage::default()
        };
    };
    // The longest cached prefix found at a breakpoint or up to 20 blocks before one.
    let hit = breakpoints
        .iter()
        .flat_map(|&bp| (bp.saturating_sub(20)..=bp).rev())
        .filter(|&j| cache.contains(&prefix[j]))
        .max();
    let read = hit.map_or(0, |j| cumulative[j]);
    let mut write = 0;
    if cumulative[last_bp] >= min {
        write = cumulative[last_bp] - read;
        for &bp in &breakpoints {
            if cumulative[bp] >= min {
                cache.insert(prefix[bp]);
            }
        }
    }
    let cached_end = if cumulative[last_bp] >= min {
        cumulative[last_bp]
    } else {
        read
    };
    Usage {
        input: total - cached_end,
        cache_write: write,
        cache_read: read,
        ..Usage::default()
    }
}

/// Reads `Stage: <id>` and `Stage completeness so far: <n>/100` from the engine's note (the
/// last block of the last user message that has them).
fn note_state(body: &Value) -> (String, u8) {
    let blocks = last_user_blocks(body);
    let note = blocks
        .iter()
        .rev()
        .find(|b| b.contains("\nStage: ") || b.starts_with("Stage: "))
        .cloned()
        .unwrap_or_default();
    let stage = note
        .lines()
        .find_map(|l| l.strip_prefix("Stage: "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("greeting")
        .to_owned();
    let completeness = note
        .lines()
        .find_map(|l| l.strip_prefix("Stage completeness so far: "))
        .and_then(|rest| rest.split('/').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    (stage, completeness)
}

const STAGES: [&str; 9] = [
    "greeting",
    "profiling",
    "essence",
    "operations",
    "expertise_map",
    "failure_modes",
    "mastery",
    "growth_path",
    "wrap_up",
];

fn auto_turn(body: &Value, step: u8, verbose: bool) -> Value {
    let (stage, completeness) = note_state(body);
    let reached = completeness.saturating_add(step).min(100);
    let index = STAGES.iter().position(|s| *s == stage).unwrap_or(0);
    if reached >= 100 && index + 1 < STAGES.len() {
        turn(STAGES[index + 1], 0, body, verbose)
    } else {
        turn(STAGES[index], reached, body, verbose)
    }
}

fn turn(stage: &str, completeness: u8, body: &Value, verbose: bool) -> Value {
    // The expert's words are the last block that is not the engine's.
    let answer = last_user_blocks(body)
        .into_iter()
        .rev()
        .find(|b| !b.starts_with("[Interview engine]"))
        .unwrap_or_default();
    let gist: String = answer.chars().take(40).collect();
    let mut insights = if gist.is_empty() {
        vec![]
    } else {
        vec![format!("The expert said: {gist}")]
    };
    let mut response =
        format!("[{stage}] Could you tell me more about that? (turn at {completeness}%)");
    let mut follow_up = vec![];
    let mut quality = "good".to_owned();
    if verbose {
        response = format!(
            "That is a telling detail, and it shows how much of the judgement sits in what you \
             notice before anyone else does. {response} Take the most recent case you can \
             remember: what did you see first, what did you decide, and what would a newcomer \
             have done differently in your place?"
        );
        if !gist.is_empty() {
            insights = vec![format!(
                "When the batch changes, the expert first checks what changed since the last \
                 run (supplier, humidity, set-up) before touching the process: {gist}"
            )];
        }
        follow_up = vec!["the regulator story: how the leak was found".to_owned()];
        quality = "rich on concrete cases; open and detailed, keep asking for specifics".to_owned();
    }
    json!({
        "interview_stage": stage,
        "response": response,
        "metadata": {
            "question_depth": 2,
            "completeness": completeness,
            "engagement_level": "high",
            "estimated_time_remaining": "about an hour"
        },
        "internal_tracking": {
            "key_insights": insights,
            "examples_collected": 1,
            "follow_up_needed": follow_up,
            "stage_transition_ready": completeness >= 100,
            "conversation_quality": quality
        }
    })
}

/// A value matching a schema: the first enum value, zeros, empty lists, "text".
fn fill(schema: &Value) -> Value {
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    match schema["type"].as_str() {
        Some("object") => Value::Object(
            schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), fill(v)))
                .collect(),
        ),
        Some("array") => json!([]),
        Some("integer") | Some("number") => json!(0),
        Some("boolean") => json!(false),
        _ => json!("text"),
    }
}

/// A reply to send as server-sent events, the way the Messages API streams one.
struct StreamPlan {
    id: String,
    model: Value,
    blocks: Vec<Value>,
    stop_reason: &'static str,
    usage: Usage,
    /// Output tokens a second; `None` sends everything at once.
    rate: Option<u32>,
    /// Stop after this many characters of text until the gate opens.
    hold: Option<(usize, tokio::sync::watch::Receiver<bool>)>,
    /// End with an `overloaded_error` event halfway through the text.
    broken: bool,
}

/// Characters of text in one `text_delta` (a few tokens, as the API sends them).
const DELTA_CHARS: usize = 12;

impl StreamPlan {
    /// The streamed response: `message_start`, a `ping`, each block's start, deltas and stop,
    /// `message_delta` with the stop reason and the output's usage, `message_stop`.
    fn respond(self, index: usize) -> Response {
        let (tx, rx) = tokio::sync::mpsc::channel::<String>(16);
        tokio::spawn(self.run(tx));
        let body = axum::body::Body::from_stream(futures::stream::unfold(rx, |mut rx| async {
            let event = rx.recv().await?;
            Some((Ok::<_, std::convert::Infallible>(event), rx))
        }));
        let mut headers = HeaderMap::new();
        headers.insert("request-id", format!("req_fake{index:06}").parse().unwrap());
        headers.insert("content-type", "text/event-stream".parse().unwrap());
        headers.insert("cache-control", "no-cache".parse().unwrap());
        (StatusCode::OK, headers, body).into_response()
    }

    async fn run(mut self, tx: tokio::sync::mpsc::Sender<String>) {
        let send = |kind: &str, data: Value| {
            let tx = tx.clone();
            let event = format!("event: {kind}\ndata: {data}\n\n");
            async move { tx.send(event).await.is_ok() }
        };
        let usage = self.usage;
        let start = json!({"type": "message_start", "message": {
            "id": self.id, "type": "message", "role": "assistant", "content": [],
            "model": self.model, "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": usage.input, "output_tokens": 1,
                "cache_creation_input_tokens": usage.cache_write,
                "cache_read_input_tokens": usage.cache_read}}});
        if !send("message_start", start).await || !send("ping", json!({"type": "ping"})).await {
            return;
        }
        let blocks = std::mem::take(&mut self.blocks);
        let mut written = 0;
        for (index, block) in blocks.iter().enumerate() {
            let kind = block["type"].as_str().unwrap_or("text");
            let empty = if kind == "thinking" {
                json!({"type": "thinking", "thinking": "", "signature": ""})
            } else {
                json!({"type": "text", "text": ""})
            };
            let started = json!({"type": "content_block_start", "index": index,
                "content_block": empty});
            if !send("content_block_start", started).await {
                return;
            }
            if kind == "thinking" {
                // The thinking's tokens take their time before the answer begins.
                self.wait(usage.thinking).await;
                let text = block["thinking"].as_str().unwrap_or_default();
                let delta = json!({"type": "content_block_delta", "index": index,
                    "delta": {"type": "thinking_delta", "thinking": text}});
                let signature = json!({"type": "content_block_delta", "index": index,
                    "delta": {"type": "signature_delta", "signature": "sig_fake"}});
                if !send("content_block_delta", delta).await
                    || !send("content_block_delta", signature).await
                {
                    return;
                }
            } else {
                let text: Vec<char> = block["text"].as_str().unwrap_or_default().chars().collect();
                for piece in text.chunks(DELTA_CHARS) {
                    if self.broken && written * 2 >= text.len() {
                        let error = json!({"type": "error", "error": {
                            "type": "overloaded_error", "message": "Overloaded"}});
                        send("error", error).await;
                        return;
                    }
                    self.held(written).await;
                    // The answer's tokens, as the usage counts them, spread over its pieces.
                    let answer = usage.output.saturating_sub(usage.thinking);
                    self.wait_part(answer * piece.len() as u64, text.len() as u64)
                        .await;
                    let piece: String = piece.iter().collect();
                    written += piece.chars().count();
                    let delta = json!({"type": "content_block_delta", "index": index,
                        "delta": {"type": "text_delta", "text": piece}});
                    if !send("content_block_delta", delta).await {
                        return;
                    }
                }
            }
            let stopped = json!({"type": "content_block_stop", "index": index});
            if !send("content_block_stop", stopped).await {
                return;
            }
        }
        let delta = json!({"type": "message_delta",
            "delta": {"stop_reason": self.stop_reason, "stop_sequence": null},
            "usage": {"output_tokens": usage.output}});
        if send("message_delta", delta).await {
            send("message_stop", json!({"type": "message_stop"})).await;
        }
    }

    /// The time `tokens` take at the stream's rate.
    async fn wait(&self, tokens: u64) {
        self.wait_part(tokens, 1).await;
    }

    /// The time one of `parts` equal parts of `tokens` tokens takes at the stream's rate.
    async fn wait_part(&self, tokens: u64, parts: u64) {
        if let Some(rate) = self.rate {
            let micros = tokens * 1_000_000 / (u64::from(rate) * parts.max(1));
            tokio::time::sleep(Duration::from_micros(micros)).await;
        }
    }

    /// Waits at the hold, once `written` characters of text have gone.
    async fn held(&mut self, written: usize) {
        if let Some((at, gate)) = &mut self.hold
            && written >= *at
        {
            let _ = gate.wait_for(|open| *open).await;
            self.hold = None;
        }
    }
}
