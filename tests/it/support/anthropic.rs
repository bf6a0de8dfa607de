//! A fake Anthropic Messages API on 127.0.0.1.
//!
//! It answers in the real shapes: `tool_use` and `text` blocks, `stop_reason`, usage with cache
//! counts, and errors as `{"type":"error","error":{...}}` with a `request-id` header and
//! `retry-after` on 429. It validates what the client sends (key, version header, alternating
//! roles, tool choice, cache breakpoints) and answers 400 when the request is malformed.
//!
//! Prompt caching is modelled after the documented rules: a block with `cache_control` caches
//! the prefix up to it (tools, system, messages in that order); a later request whose prefix
//! matches a cached one, at a breakpoint or up to 20 blocks before one, reads it; prefixes under
//! 1024 tokens are not cached. Tokens are counted as a quarter of the characters.
//!
//! Unless a test scripts something else, the fake plays a simple interviewer: it reads the
//! engine's note for the stage and its completeness, adds `step` to the completeness each turn,
//! moves to the next stage once it reaches 100, and ends wrap_up at 100.

use std::{
    collections::{HashSet, VecDeque},
    hash::{DefaultHasher, Hash, Hasher},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};

/// The key the fake accepts.
pub const API_KEY: &str = "sk-ant-test-0123456789";

/// The minimum cacheable prefix, in tokens (Sonnet).
const MIN_CACHE_TOKENS: u64 = 1024;

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
    /// A `record_turn` call with this exact input.
    ToolInput(Value),
    /// A tool call cut off at the token limit.
    Truncated,
    /// Text instead of a tool call.
    NoToolCall,
    /// An error in the real shape.
    Error {
        status: u16,
        kind: &'static str,
        retry_after: Option<u64>,
    },
    /// Wait this long before answering (longer than the client's timeout).
    Hang(Duration),
    /// The automatic interviewer's turn, after this delay.
    Slow(Duration),
    /// The automatic interviewer's turn with this response text.
    Respond(String),
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

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The JSON body.
    pub body: Value,
    /// When it arrived.
    pub at: Instant,
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
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    /// Replies used when the script is empty (cycled); `Auto` when empty too.
    fallback: Vec<Reply>,
    received: Vec<Received>,
    cache: HashSet<u64>,
    latency: Duration,
    step: u8,
    /// Replies to held requests wait while this is false (see [`FakeAnthropic::hold_replies`]).
    open: Option<tokio::sync::watch::Sender<bool>>,
    /// Requests whose body contains this text are held; `""` holds every request.
    hold: String,
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

    /// Queues replies for the next requests, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().script.extend(replies);
    }

    /// What to answer once the script is used up (cycled).
    pub fn always(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().fallback = replies.into_iter().collect();
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

    /// Lets held and future replies go.
    pub fn release_replies(&self) {
        self.gate().send_replace(true);
    }

    fn gate(&self) -> tokio::sync::watch::Sender<bool> {
        self.inner
            .lock()
            .unwrap()
            .open
            .get_or_insert_with(|| tokio::sync::watch::channel(true).0)
            .clone()
    }

    /// A delay before every answer.
    pub fn set_latency(&self, latency: Duration) {
        self.inner.lock().unwrap().latency = latency;
    }

    /// How much the automatic interviewer adds to a stage's completeness per turn.
    pub fn set_step(&self, step: u8) {
        self.inner.lock().unwrap().step = step;
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// How many requests were received.
    pub fn count(&self) -> usize {
        self.inner.lock().unwrap().received.len()
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
    let (reply, latency, step, index) = {
        let mut inner = inner.lock().unwrap();
        let reply = inner.script.pop_front().unwrap_or_else(|| {
            if inner.fallback.is_empty() {
                Reply::Auto
            } else {
                let n = inner.received.len() % inner.fallback.len();
                inner.fallback[n].clone()
            }
        });
        inner.received.push(Received {
            body: body.clone(),
            at,
            usage: Usage::default(),
        });
        (reply, inner.latency, inner.step, inner.received.len() - 1)
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
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(API_KEY) {
        return error(401, "authentication_error", "invalid x-api-key", None);
    }
    if headers.get("anthropic-version").is_none() {
        return error(
            400,
            "invalid_request_error",
            "anthropic-version: header is required",
            None,
        );
    }
    if let Err(problem) = validate(&body) {
        return error(400, "invalid_request_error", &problem, None);
    }
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let content = match reply {
        Reply::Error {
            status,
            kind,
            retry_after,
        } => {
            return error(status, kind, "scripted failure", retry_after);
        }
        Reply::Hang(wait) => {
            tokio::time::sleep(wait).await;
            return error(500, "api_error", "hung", None);
        }
        Reply::Slow(wait) => {
            tokio::time::sleep(wait).await;
            Reply::Auto
        }
        reply => reply,
    };
    let usage = {
        let mut inner = inner.lock().unwrap();
        let usage = cache_usage(&body, &mut inner.cache);
        inner.received[index].usage = usage;
        usage
    };
    let has_tools = body["tools"].as_array().is_some_and(|t| !t.is_empty());
    let (blocks, stop_reason) = if !has_tools {
        (
            vec![
                json!({"type": "text", "text": "The expert is a practitioner whose knowledge is summarised here."}),
            ],
            "end_turn",
        )
    } else {
        match content {
            Reply::Auto => (vec![tool_use(auto_turn(&body, step))], "tool_use"),
            Reply::Respond(text) => {
                let mut turn = auto_turn(&body, step);
                turn["response"] = Value::String(text);
                (vec![tool_use(turn)], "tool_use")
            }
            Reply::Turn {
                stage,
                completeness,
            } => (vec![tool_use(turn(stage, completeness, &body))], "tool_use"),
            Reply::ToolInput(input) => (vec![tool_use(input)], "tool_use"),
            Reply::Truncated => (
                vec![tool_use(
                    json!({"interview_stage": "greeting", "response": "Tell me"}),
                )],
                "max_tokens",
            ),
            Reply::NoToolCall => (
                vec![json!({"type": "text", "text": "Sure! Here is my question."})],
                "end_turn",
            ),
            Reply::Error { .. } | Reply::Hang(_) | Reply::Slow(_) => unreachable!(),
        }
    };
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
            "output_tokens": 120,
            "cache_creation_input_tokens": usage.cache_write,
            "cache_read_input_tokens": usage.cache_read,
        }
    });
    let mut headers = HeaderMap::new();
    headers.insert("request-id", format!("req_fake{index:06}").parse().unwrap());
    (StatusCode::OK, headers, axum::Json(out)).into_response()
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

/// The checks the real API makes that the client could get wrong.
fn validate(body: &Value) -> Result<(), String> {
    for field in ["model", "max_tokens", "messages"] {
        if body.get(field).is_none() {
            return Err(format!("{field}: Field required"));
        }
    }
    if let Some(t) = body["temperature"].as_f64()
        && !(0.0..=1.0).contains(&t)
    {
        return Err("temperature: must be between 0 and 1".into());
    }
    let messages = body["messages"]
        .as_array()
        .ok_or("messages: must be a list")?;
    if messages.is_empty() || messages[0]["role"] != "user" {
        return Err("messages: first message must use the \"user\" role".into());
    }
    for pair in messages.windows(2) {
        if pair[0]["role"] == pair[1]["role"] {
            return Err("messages: roles must alternate between \"user\" and \"assistant\"".into());
        }
    }
    for m in messages {
        let blocks = m["content"]
            .as_array()
            .ok_or("content: must be a list of blocks")?;
        if blocks.is_empty()
            || blocks
                .iter()
                .any(|b| b["text"].as_str().is_none_or(|t| t.trim().is_empty()))
        {
            return Err("messages: text content blocks must be non-empty".into());
        }
    }
    if let Some(choice) = body.get("tool_choice") {
        let name = choice["name"].as_str().unwrap_or_default();
        let known = body["tools"]
            .as_array()
            .is_some_and(|tools| tools.iter().any(|t| t["name"] == name));
        if choice["type"] == "tool" && !known {
            return Err(format!("tool_choice: tool {name:?} not found in tools"));
        }
    }
    let breakpoints = blocks(body).iter().filter(|b| b.cached).count();
    if breakpoints > 4 {
        return Err("A maximum of 4 blocks with cache_control may be provided".into());
    }
    Ok(())
}

struct Block {
    text: String,
    cached: bool,
}

/// The request flattened in cache order: tools, system blocks, then message blocks.
fn blocks(body: &Value) -> Vec<Block> {
    let mut out = Vec::new();
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

fn tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

/// Applies the cache rules to a request: what it reads, what it writes, what is left over.
fn cache_usage(body: &Value, cache: &mut HashSet<u64>) -> Usage {
    let blocks = blocks(body);
    let mut prefix = Vec::with_capacity(blocks.len());
    let mut cumulative = Vec::with_capacity(blocks.len());
    let mut hasher = DefaultHasher::new();
    let mut total = 0;
    for b in &blocks {
        b.text.hash(&mut hasher);
        prefix.push(hasher.finish());
        total += tokens(&b.text);
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
    if cumulative[last_bp] >= MIN_CACHE_TOKENS {
        write = cumulative[last_bp] - read;
        for &bp in &breakpoints {
            if cumulative[bp] >= MIN_CACHE_TOKENS {
                cache.insert(prefix[bp]);
            }
        }
    }
    let cached_end = if cumulative[last_bp] >= MIN_CACHE_TOKENS {
        cumulative[last_bp]
    } else {
        read
    };
    Usage {
        input: total - cached_end,
        cache_write: write,
        cache_read: read,
    }
}

fn tool_use(input: Value) -> Value {
    json!({"type": "tool_use", "id": "toolu_fake01", "name": "record_turn", "input": input})
}

/// Reads `Stage: <id>` and `Stage completeness so far: <n>/100` from the engine's note.
fn note_state(body: &Value) -> (String, u8) {
    let note = last_user_blocks(body).last().cloned().unwrap_or_default();
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

fn auto_turn(body: &Value, step: u8) -> Value {
    let (stage, completeness) = note_state(body);
    let reached = completeness.saturating_add(step).min(100);
    let index = STAGES.iter().position(|s| *s == stage).unwrap_or(0);
    if reached >= 100 && index + 1 < STAGES.len() {
        turn(STAGES[index + 1], 0, body)
    } else {
        turn(STAGES[index], reached, body)
    }
}

fn turn(stage: &str, completeness: u8, body: &Value) -> Value {
    let blocks = last_user_blocks(body);
    // The expert's words are the block before the engine's note, if there is one.
    let answer = match blocks.len() {
        n if n >= 2 && !blocks[n - 2].starts_with("[Interview engine]") => blocks[n - 2].clone(),
        _ => String::new(),
    };
    let gist: String = answer.chars().take(40).collect();
    let insights = if gist.is_empty() {
        vec![]
    } else {
        vec![format!("The expert said: {gist}")]
    };
    json!({
        "interview_stage": stage,
        "response": format!("[{stage}] Could you tell me more about that? (turn at {completeness}%)"),
        "metadata": {
            "question_depth": 2,
            "completeness": completeness,
            "engagement_level": "high",
            "estimated_time_remaining": "about an hour"
        },
        "internal_tracking": {
            "key_insights": insights,
            "examples_collected": 1,
            "follow_up_needed": [],
            "stage_transition_ready": completeness >= 100,
            "conversation_quality": "good"
        }
    })
}
