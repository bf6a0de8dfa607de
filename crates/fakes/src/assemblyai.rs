//! A fake AssemblyAI REST API on 127.0.0.1.
//!
//! It answers in the spec's shapes: `{"upload_url": ...}` for uploads, transcript objects for
//! creation and polling, and `{"error": "..."}` with 400, 401, 404, 429 (`Retry-After`) and 5xx.
//! It checks what the real service checks: the `Authorization` key, `speech_models` (required;
//! an unknown model, `best` or the singular `speech_model` is a 400), the language against the
//! models' languages (the first model of the list that supports the language is used and
//! reported as `speech_model_used`; none is a 400, since AssemblyAI no longer falls back to a
//! model outside the list), and an `audio_url` it issued. The models are those of November
//! 2026: `assemblyai-stt-3-7` (the newest; whether it has Russian was not confirmed, so here it
//! has not, unless a test says otherwise with [`FakeAssemblyAi::set_languages`]),
//! `universal-3-5-pro` (deprecated, still served, no Russian) and `universal-2` (Russian too).
//! Bytes not uploaded as `application/octet-stream` still get a URL, and the transcript then
//! fails, as the real service does.
//!
//! A transcript goes queued → processing → completed over three polls; its text is the script
//! registered for the uploaded bytes (or the default script). Tests can fail any call, hold
//! transcripts in `processing` until released, and read everything the fake received.

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    extract::{DefaultBodyLimit, Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::time::Instant;

/// The key the fake accepts.
pub const API_KEY: &str = "aai-test-0123456789abcdef";

/// The speech models the fake knows, with the languages each supports at start (a short
/// list of each one's real languages: the ones tests use and a few more).
const MODELS: [(&str, &[&str]); 3] = [
    (
        "assemblyai-stt-3-7",
        &["en", "es", "fr", "de", "it", "pt", "nl", "ja", "ko", "zh"],
    ),
    (
        "universal-3-5-pro",
        &["en", "es", "fr", "de", "it", "pt", "nl"],
    ),
    (
        "universal-2",
        &[
            "en", "es", "fr", "de", "it", "pt", "nl", "ru", "uk", "pl", "tr", "ja", "ko", "zh",
        ],
    ),
];

/// What a transcript of some bytes says.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// The text.
    pub text: String,
    /// The confidence.
    pub confidence: f64,
    /// The language spoken (what detection finds).
    pub language: &'static str,
}

impl Script {
    /// A confident transcript in `language`.
    pub fn new(text: &str, language: &'static str) -> Script {
        Script {
            text: text.to_owned(),
            confidence: 0.93,
            language,
        }
    }

    /// The same with another confidence.
    pub fn confidence(mut self, confidence: f64) -> Script {
        self.confidence = confidence;
        self
    }
}

/// Which call a scripted failure applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Call {
    /// `POST /v2/upload`.
    Upload,
    /// `POST /v2/transcript`.
    Create,
    /// `GET /v2/transcript/{id}`.
    Poll,
}

/// A scripted answer to one call.
#[derive(Debug, Clone)]
pub enum Failure {
    /// An error status with `{"error": message}` and, optionally, a raw `Retry-After` value.
    Status {
        /// The HTTP status.
        status: u16,
        /// The `error` message.
        message: String,
        /// The `Retry-After` header, as sent.
        retry_after: Option<String>,
    },
    /// Wait this long, then answer normally.
    Slow(Duration),
}

impl Failure {
    /// 429 with `Retry-After: <retry_after>`.
    pub fn rate_limited(retry_after: &str) -> Failure {
        Failure::Status {
            status: 429,
            message: "Too Many Requests".into(),
            retry_after: Some(retry_after.to_owned()),
        }
    }

    /// An error status with the spec's example message for it.
    pub fn status(status: u16) -> Failure {
        let message = match status {
            401 => "Authentication error, API token missing/invalid",
            500 => "Internal Server Error",
            503 => "Service Unavailable",
            504 => "Gateway Timeout",
            _ => "This is a sample error message",
        };
        Failure::Status {
            status,
            message: message.into(),
            retry_after: None,
        }
    }
}

/// One upload the fake received.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The body.
    pub bytes: Bytes,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Request {
    /// Which call.
    pub call: Call,
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// When it arrived (tokio's clock, so paused time counts).
    pub at: Instant,
}

/// How a job ends once it has been polled enough.
#[derive(Debug, Clone)]
enum Ending {
    Completed(Script),
    Error(String),
}

#[derive(Debug)]
struct Job {
    id: String,
    body: Value,
    model: String,
    language: String,
    ending: Ending,
    polls: u32,
    done: bool,
}

#[derive(Default)]
struct Inner {
    /// Each model and the languages it supports.
    models: Vec<(String, Vec<String>)>,
    scripts: HashMap<Bytes, Script>,
    default_script: Option<Script>,
    failures: HashMap<Call, VecDeque<Failure>>,
    /// Scripted endings for the next jobs, in order ("error" status, empty text).
    endings: VecDeque<Ending>,
    uploads: Vec<Upload>,
    /// upload URL → index in `uploads`.
    urls: HashMap<String, usize>,
    creates: Vec<Value>,
    requests: Vec<Request>,
    jobs: Vec<Job>,
    /// Transcripts stay `processing` while held.
    held: bool,
    /// Jobs created and not yet seen completed.
    active: usize,
    max_active: usize,
    polls_to_complete: u32,
    /// Upload bodies are dropped after use rather than kept (load tools).
    forget_uploads: bool,
}

/// The running fake.
pub struct FakeAssemblyAi {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeAssemblyAi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[derive(Clone)]
struct AppState {
    inner: Arc<Mutex<Inner>>,
}

impl FakeAssemblyAi {
    /// Starts the fake on an ephemeral port.
    pub async fn start() -> FakeAssemblyAi {
        let inner = Arc::new(Mutex::new(Inner {
            polls_to_complete: 2,
            models: MODELS
                .iter()
                .map(|(model, langs)| {
                    let langs = langs.iter().map(|l| (*l).to_owned()).collect();
                    ((*model).to_owned(), langs)
                })
                .collect(),
            ..Inner::default()
        }));
        let state = AppState {
            inner: inner.clone(),
        };
        let app = Router::new()
            .route("/v2/upload", post(upload))
            .route("/v2/transcript", post(create))
            .route("/v2/transcript/{id}", get(poll))
            // The real service takes uploads of up to 2.2 GB.
            .layer(DefaultBodyLimit::disable())
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeAssemblyAi {
            url: format!("http://{addr}"),
            inner,
            server,
        }
    }

    /// The settings that point the bot at this fake, with its key.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ASSEMBLYAI_BASE_URL", self.url.clone()),
            ("ASSEMBLYAI_API_KEY", API_KEY.to_owned()),
        ]
    }

    /// The languages `model` supports from now on (adding the model if the fake did not know
    /// it): say, `assemblyai-stt-3-7` with Russian, the day that is confirmed.
    pub fn set_languages(&self, model: &str, languages: &[&str]) {
        let mut inner = self.inner.lock().unwrap();
        let languages = languages.iter().map(|l| (*l).to_owned()).collect();
        match inner.models.iter_mut().find(|(m, _)| m == model) {
            Some((_, langs)) => *langs = languages,
            None => inner.models.push((model.to_owned(), languages)),
        }
    }

    /// What the transcript of exactly these bytes says.
    pub fn script(&self, bytes: &[u8], script: Script) {
        self.inner
            .lock()
            .unwrap()
            .scripts
            .insert(Bytes::copy_from_slice(bytes), script);
    }

    /// What the transcript of any other bytes says (converted audio, for instance).
    pub fn default_script(&self, script: Script) {
        self.inner.lock().unwrap().default_script = Some(script);
    }

    /// Answers the next calls of `call` with `failures`, in order.
    pub fn fail(&self, call: Call, failures: impl IntoIterator<Item = Failure>) {
        self.inner
            .lock()
            .unwrap()
            .failures
            .entry(call)
            .or_default()
            .extend(failures);
    }

    /// The next job ends with status `error` and this reason.
    pub fn end_next_with_error(&self, reason: &str) {
        self.inner
            .lock()
            .unwrap()
            .endings
            .push_back(Ending::Error(reason.to_owned()));
    }

    /// The next job completes with no words.
    pub fn end_next_empty(&self) {
        self.inner
            .lock()
            .unwrap()
            .endings
            .push_back(Ending::Completed(Script::new("", "en").confidence(0.0)));
    }

    /// Polls a transcript needs after `queued` before it completes (default 2: one
    /// `processing`, then `completed`).
    pub fn set_polls_to_complete(&self, polls: u32) {
        self.inner.lock().unwrap().polls_to_complete = polls;
    }

    /// Drops upload bodies instead of keeping them for [`FakeAssemblyAi::uploads`] (load
    /// tools sending hundreds of megabytes); scripts keyed by bytes then no longer match.
    pub fn forget_uploads(&self) {
        self.inner.lock().unwrap().forget_uploads = true;
    }

    /// Keeps every transcript in `processing` until [`FakeAssemblyAi::release`].
    pub fn hold(&self) {
        self.inner.lock().unwrap().held = true;
    }

    /// Lets held transcripts complete.
    pub fn release(&self) {
        self.inner.lock().unwrap().held = false;
    }

    /// How many transcripts have been created.
    pub fn created(&self) -> usize {
        self.inner.lock().unwrap().jobs.len()
    }

    /// Every upload received.
    pub fn uploads(&self) -> Vec<Upload> {
        self.inner.lock().unwrap().uploads.clone()
    }

    /// Every transcript request body received (valid or not).
    pub fn creates(&self) -> Vec<Value> {
        self.inner.lock().unwrap().creates.clone()
    }

    /// Every request received.
    pub fn requests(&self) -> Vec<Request> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// How many requests of `call` arrived.
    pub fn count(&self, call: Call) -> usize {
        self.requests().iter().filter(|r| r.call == call).count()
    }

    /// The most transcripts that were in progress at once.
    pub fn max_active(&self) -> usize {
        self.inner.lock().unwrap().max_active
    }

    /// The model each created job was routed to, in order.
    pub fn models_used(&self) -> Vec<String> {
        let inner = self.inner.lock().unwrap();
        inner.jobs.iter().map(|j| j.model.clone()).collect()
    }
}

/// Records the request and takes its scripted failure, if any; checks the key.
async fn intake(state: &AppState, call: Call, headers: &HeaderMap) -> Result<(), Response> {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let failure = {
        let mut inner = state.inner.lock().unwrap();
        inner.requests.push(Request {
            call,
            authorization: authorization.clone(),
            at: Instant::now(),
        });
        inner.failures.get_mut(&call).and_then(VecDeque::pop_front)
    };
    match failure {
        Some(Failure::Status {
            status,
            message,
            retry_after,
        }) => return Err(error(status, &message, retry_after.as_deref())),
        Some(Failure::Slow(wait)) => tokio::time::sleep(wait).await,
        None => {}
    }
    if authorization.as_deref() != Some(API_KEY) {
        return Err(error(
            401,
            "Authentication error, API token missing/invalid",
            None,
        ));
    }
    Ok(())
}

async fn upload(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(response) = intake(&state, Call::Upload, &headers).await {
        return response;
    }
    let mut inner = state.inner.lock().unwrap();
    let index = inner.uploads.len();
    let url = format!("https://cdn.assemblyai.com/upload/fake-{index:04}");
    let body = if inner.forget_uploads {
        Bytes::new()
    } else {
        body
    };
    inner.uploads.push(Upload {
        bytes: body,
        content_type: headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    });
    inner.urls.insert(url.clone(), index);
    axum::Json(json!({ "upload_url": url })).into_response()
}

async fn create(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(response) = intake(&state, Call::Create, &headers).await {
        return response;
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return error(400, "Request body is not valid JSON", None),
    };
    let mut inner = state.inner.lock().unwrap();
    inner.creates.push(body.clone());
    let Some(audio_url) = body["audio_url"].as_str() else {
        return error(400, "audio_url is required", None);
    };
    if body.get("speech_model").is_some() {
        return error(
            400,
            "speech_model is no longer supported: use speech_models, a priority list",
            None,
        );
    }
    let Some(models) = body["speech_models"].as_array() else {
        return error(400, "speech_models is required", None);
    };
    let models: Vec<&str> = models.iter().filter_map(Value::as_str).collect();
    if models.is_empty() {
        return error(400, "speech_models must not be empty", None);
    }
    if models.contains(&"best") {
        return error(
            400,
            "The `best` speech model is no longer available. Please choose a supported model.",
            None,
        );
    }
    if let Some(unknown) = models
        .iter()
        .find(|m| !inner.models.iter().any(|(name, _)| name == *m))
    {
        return error(
            400,
            &format!("Invalid speech model: {unknown}. Please choose a supported model."),
            None,
        );
    }
    let detection = body["language_detection"].as_bool().unwrap_or(false);
    let code = body["language_code"].as_str();
    if detection && code.is_some() {
        return error(
            400,
            "language_code cannot be set together with language_detection",
            None,
        );
    }
    let upload = inner.urls.get(audio_url).copied();
    let raw_upload = upload.is_some_and(|i| {
        inner.uploads[i].content_type.as_deref() == Some("application/octet-stream")
    });
    let script = upload
        .and_then(|i| inner.scripts.get(&inner.uploads[i].bytes).cloned())
        .or_else(|| inner.default_script.clone());
    let language = match (detection, code) {
        (true, _) => {
            let spoken = script.as_ref().map_or("en", |s| s.language);
            let expected: Vec<&str> = body["language_detection_options"]["expected_languages"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let fallback = body["language_detection_options"]["fallback_language"]
                .as_str()
                .unwrap_or("en");
            if expected.is_empty() || expected.contains(&spoken) {
                spoken.to_owned()
            } else {
                fallback.to_owned()
            }
        }
        (false, Some(code)) => code.to_owned(),
        (false, None) => "en_us".to_owned(),
    };
    let base = language.split('_').next().unwrap_or("en").to_owned();
    let Some(model) = models.iter().find(|m| {
        inner
            .models
            .iter()
            .any(|(name, langs)| name == *m && langs.contains(&base))
    }) else {
        return error(
            400,
            &format!(
                "The requested language `{language}` is not supported by any of the requested \
                 speech models: {}",
                models.join(", ")
            ),
            None,
        );
    };
    let ending = match inner.endings.pop_front() {
        Some(ending) => ending,
        None if upload.is_none() => {
            Ending::Error(format!("Download error, unable to download {audio_url}"))
        }
        None if !raw_upload => Ending::Error(
            "Transcoding failed. File does not appear to contain audio. File type is \
             application/json (JSON data)."
                .into(),
        ),
        None => match script {
            Some(script) => Ending::Completed(script),
            None => Ending::Error("No script for this audio in the fake".into()),
        },
    };
    let id = format!("5551722-f677-48a6-9287-{:012}", inner.jobs.len());
    let job = Job {
        id: id.clone(),
        body: body.clone(),
        model: model.to_string(),
        language,
        ending,
        polls: 0,
        done: false,
    };
    let answer = transcript(&job, "queued");
    inner.jobs.push(job);
    inner.active += 1;
    inner.max_active = inner.max_active.max(inner.active);
    drop(inner);
    axum::Json(answer).into_response()
}

async fn poll(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = intake(&state, Call::Poll, &headers).await {
        return response;
    }
    let mut inner = state.inner.lock().unwrap();
    let held = inner.held;
    let needed = inner.polls_to_complete;
    let Some(index) = inner.jobs.iter().position(|j| j.id == id) else {
        return error(404, "Transcript not found", None);
    };
    let job = &mut inner.jobs[index];
    job.polls += 1;
    let status = if job.polls < needed || held {
        if job.polls == 1 && !held {
            "queued"
        } else {
            "processing"
        }
    } else {
        match job.ending {
            Ending::Completed(_) => "completed",
            Ending::Error(_) => "error",
        }
    };
    let answer = transcript(job, status);
    let finished = matches!(status, "completed" | "error") && !job.done;
    if finished {
        job.done = true;
        inner.active -= 1;
    }
    axum::Json(answer).into_response()
}

/// A transcript object with the spec's required fields.
fn transcript(job: &Job, status: &str) -> Value {
    let mut out = json!({
        "id": job.id,
        "status": status,
        "audio_url": job.body["audio_url"],
        "speech_model": null,
        "speech_models": job.body["speech_models"],
        "language_model": "assemblyai_default",
        "acoustic_model": "assemblyai_default",
        "language_code": job.language,
        "language_detection": job.body["language_detection"].as_bool().unwrap_or(false),
        "language_confidence_threshold": null,
        "language_confidence": null,
        "webhook_auth": false,
        "auto_highlights": false,
        "redact_pii": false,
        "summarization": false,
        "punctuate": true,
        "format_text": true,
        "text": null,
        "words": null,
        "confidence": null,
        "audio_duration": null,
    });
    match (&job.ending, status) {
        (Ending::Completed(script), "completed") => {
            let words: Vec<Value> = script
                .text
                .split_whitespace()
                .enumerate()
                .map(|(i, word)| {
                    json!({
                        "text": word,
                        "start": i * 400,
                        "end": i * 400 + 350,
                        "confidence": script.confidence,
                        "speaker": null
                    })
                })
                .collect();
            out["text"] = json!(script.text);
            out["words"] = json!(words);
            out["confidence"] = json!(script.confidence);
            out["audio_duration"] = json!(3);
            out["speech_model_used"] = json!(job.model);
            if job.body["language_detection"].as_bool() == Some(true) {
                out["language_confidence"] = json!(0.97);
            }
        }
        (Ending::Error(reason), "error") => {
            out["error"] = json!(reason);
        }
        _ => {}
    }
    out
}

fn error(status: u16, message: &str, retry_after: Option<&str>) -> Response {
    let mut headers = HeaderMap::new();
    if let Some(value) = retry_after {
        headers.insert("retry-after", value.parse().unwrap());
    }
    (
        StatusCode::from_u16(status).unwrap(),
        headers,
        axum::Json(json!({ "error": message })),
    )
        .into_response()
}
