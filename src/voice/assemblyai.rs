//! The AssemblyAI client: upload the audio, create a transcript, poll it until it completes.
//!
//! Rate limits (429, honouring `Retry-After`, capped), server errors, timeouts and dropped
//! connections are retried with exponential backoff; 400, 401, 403 and 404 are configuration
//! errors and are not. The key is sent as `Authorization` and never logged; the upload URL is
//! a capability to the user's audio and is kept in a redacting type too. Errors carry no URL.

use std::time::Duration;

use bytes::Bytes;
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::{AssemblyAiConfig, SpeechModels};
pub use crate::retry::RetryPolicy;
use crate::{
    model::Lang,
    retry::{self, LongWait},
};

/// Why a call to AssemblyAI failed. The text is for logs only; users never see it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AssemblyAiError {
    /// The request was refused as it stands (400: an unknown model, a language the models
    /// do not take...; 401/403: the key; 404): retrying will not help, the settings must change.
    #[error("AssemblyAI refused the request (HTTP {status}): {message}")]
    Configuration {
        /// The HTTP status.
        status: u16,
        /// The API's own message.
        message: String,
    },
    /// Still rate limited after every retry.
    #[error("AssemblyAI rate limit (HTTP 429) outlasted the retries")]
    RateLimited {
        /// The last wait the API asked for (capped).
        retry_after: Option<Duration>,
    },
    /// The service answered with a server error after every retry.
    #[error("AssemblyAI unavailable (HTTP {status}): {message}")]
    Unavailable {
        /// The HTTP status.
        status: u16,
        /// The API's message, if any.
        message: String,
    },
    /// No answer arrived in time, after every retry.
    #[error("no answer from AssemblyAI within {0:?}")]
    Timeout(Duration),
    /// The connection failed, after every retry.
    #[error("cannot reach AssemblyAI: {0}")]
    Network(String),
    /// The answer was not the documented shape.
    #[error("undecodable answer from AssemblyAI: {0}")]
    Decode(String),
    /// The transcript did not complete before the deadline.
    #[error("transcript {id} still {status} after {waited:?}")]
    Deadline {
        /// The transcript id.
        id: String,
        /// Its last status.
        status: String,
        /// How long it was waited for.
        waited: Duration,
    },
    /// The transcript ended with status `error`.
    #[error("transcription failed: {reason}")]
    TranscriptFailed {
        /// The `error` field of the transcript.
        reason: String,
    },
    /// The transcript completed without any words.
    #[error("the transcript is empty")]
    Empty,
}

impl AssemblyAiError {
    /// Whether the settings (key, base URL, models, language) are at fault.
    pub fn is_configuration(&self) -> bool {
        matches!(self, AssemblyAiError::Configuration { .. })
    }
}

/// The retry policy for AssemblyAI: 1 s doubling to 16 s; a `Retry-After` honoured up to
/// 60 s, and a longer one shortened to that (a voice note is worth the wait).
pub fn retry_policy(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(16),
        long_wait: LongWait::Shorten,
        ..RetryPolicy::new(max_retries)
    }
}

/// How a transcript is polled until it completes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollPolicy {
    /// The wait before the first poll.
    pub first: Duration,
    /// The longest wait between polls (waits grow by half each time up to it).
    pub max_interval: Duration,
    /// How long a transcript is waited for in all.
    pub deadline: Duration,
}

impl PollPolicy {
    /// The product's defaults: 1 s, growing to the documented 3 s, within `deadline`.
    pub fn new(deadline: Duration) -> Self {
        PollPolicy {
            first: Duration::from_secs(1),
            max_interval: Duration::from_secs(3),
            deadline,
        }
    }
}

/// Where AssemblyAI stored an upload: a capability to the user's audio, never logged.
#[derive(Clone)]
pub struct UploadUrl(SecretString);

impl std::fmt::Debug for UploadUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UploadUrl([redacted])")
    }
}

impl UploadUrl {
    /// The URL itself, for the transcript request.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// A transcript's id: what to persist to resume polling after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TranscriptId(pub String);

impl std::fmt::Display for TranscriptId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The language a transcript is asked for in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LanguageRequest {
    /// The session's language, sent as `language_code`.
    Known(Lang),
    /// `language_detection`, among the interview languages, falling back to the session's.
    Detect {
        /// The language used when detection finds none of the expected ones.
        fallback: Lang,
    },
}

/// A completed transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Completed {
    /// The transcript's id.
    pub id: TranscriptId,
    /// The text, trimmed, never empty.
    pub text: String,
    /// The confidence (0-1): the transcript's, else the mean of its words', else 0.
    pub confidence: f64,
    /// `speech_model_used`.
    pub speech_model: Option<String>,
    /// `language_code`.
    pub language_code: Option<String>,
    /// `audio_duration`.
    pub audio_duration: Option<Duration>,
}

/// Where a transcript stands.
#[derive(Debug, Clone, PartialEq)]
pub enum TranscriptState {
    /// `queued` or `processing`, with the status as given.
    Pending(String),
    /// `completed`.
    Completed(Completed),
    /// `error`, with the reason.
    Failed(String),
}

#[derive(Serialize)]
struct CreateBody<'a> {
    audio_url: &'a str,
    speech_models: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    language_code: Option<&'static str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    language_detection: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    language_detection_options: Option<DetectionOptions>,
}

#[derive(Serialize)]
struct DetectionOptions {
    expected_languages: Vec<&'static str>,
    fallback_language: &'static str,
}

#[derive(Deserialize)]
struct UploadBody {
    upload_url: String,
}

#[derive(Deserialize)]
struct TranscriptBody {
    id: String,
    status: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    confidence: Option<f64>,
    #[serde(default)]
    language_code: Option<String>,
    #[serde(default)]
    audio_duration: Option<f64>,
    #[serde(default)]
    speech_model_used: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    words: Option<Vec<WordBody>>,
}

#[derive(Deserialize)]
struct WordBody {
    #[serde(default)]
    confidence: Option<f64>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
}

/// A client of AssemblyAI's REST API.
#[derive(Debug, Clone)]
pub struct AssemblyAiClient {
    /// The HTTP client (connection pool).
    http: reqwest::Client,
    /// The base URL, ending with `/`.
    base: Url,
    /// The key, sent as `Authorization`.
    api_key: SecretString,
    /// The limit on one HTTP request.
    timeout: Duration,
    /// Each language's speech models, in priority order.
    speech_models: SpeechModels,
    /// Retries of one call.
    retry: RetryPolicy,
    /// Polling until completion.
    poll: PollPolicy,
}

impl AssemblyAiClient {
    /// A client for the settings' endpoint with `api_key`.
    pub fn new(settings: &AssemblyAiConfig, api_key: SecretString) -> Self {
        let mut base = settings.base_url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        AssemblyAiClient {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .build()
                .expect("the TLS backend initialises"),
            base,
            api_key,
            timeout: settings.timeout,
            speech_models: settings.speech_models.clone(),
            retry: retry_policy(settings.max_retries),
            poll: PollPolicy::new(settings.transcript_timeout),
        }
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Replaces the polling policy.
    pub fn with_poll(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// Each language's speech models, in priority order.
    pub fn speech_models(&self) -> &SpeechModels {
        &self.speech_models
    }

    /// `POST /v2/upload` with the raw bytes.
    pub async fn upload(&self, audio: Bytes) -> Result<UploadUrl, AssemblyAiError> {
        let body = self
            .call(Method::POST, "v2/upload", |request| {
                request
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .body(audio.clone())
            })
            .await?;
        let upload: UploadBody = decode(&body)?;
        Ok(UploadUrl(SecretString::from(upload.upload_url)))
    }

    /// `POST /v2/transcript` for an upload, in the requested language, with that language's
    /// speech models (or, with detection, the models every language's list allows). A 400
    /// here is the models or the language: it is logged naming the setting to change.
    pub async fn submit(
        &self,
        upload: &UploadUrl,
        language: LanguageRequest,
    ) -> Result<TranscriptId, AssemblyAiError> {
        let detected;
        let body = match language {
            LanguageRequest::Known(lang) => CreateBody {
                audio_url: upload.expose(),
                speech_models: self.speech_models.for_lang(lang),
                language_code: Some(lang.code()),
                language_detection: false,
                language_detection_options: None,
            },
            LanguageRequest::Detect { fallback } => {
                detected = self.speech_models.for_detection(fallback);
                CreateBody {
                    audio_url: upload.expose(),
                    speech_models: &detected,
                    language_code: None,
                    language_detection: true,
                    language_detection_options: Some(DetectionOptions {
                        expected_languages: Lang::ALL.iter().map(|l| l.code()).collect(),
                        fallback_language: fallback.code(),
                    }),
                }
            }
        };
        let json = serde_json::to_vec(&body).map_err(|e| AssemblyAiError::Decode(e.to_string()))?;
        let json = Bytes::from(json);
        let answer = self
            .call(Method::POST, "v2/transcript", |request| {
                request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(json.clone())
            })
            .await
            .inspect_err(|error| {
                if let AssemblyAiError::Configuration {
                    status: 400,
                    message,
                } = error
                {
                    tracing::error!(
                        message = %message,
                        language = body.language_code.unwrap_or("detected"),
                        models = %body.speech_models.join(","),
                        fix = %models_hint(language),
                        "AssemblyAI refused the speech models for this language"
                    );
                }
            })?;
        let created: TranscriptBody = decode(&answer)?;
        Ok(TranscriptId(created.id))
    }

    /// `GET /v2/transcript/{id}`.
    pub async fn fetch(&self, id: &TranscriptId) -> Result<TranscriptState, AssemblyAiError> {
        // The id goes into the path as one segment, whatever it holds.
        let path = format!("v2/transcript/{}", encode_segment(&id.0));
        let body = self.call(Method::GET, &path, |request| request).await?;
        read_transcript(&body)
    }

    /// Polls a transcript until it completes, fails or the deadline passes. An empty
    /// transcript is [`AssemblyAiError::Empty`].
    pub async fn wait(&self, id: &TranscriptId) -> Result<Completed, AssemblyAiError> {
        let started = Instant::now();
        let deadline = started + self.poll.deadline;
        let mut interval = self.poll.first;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            tokio::time::sleep(interval.min(remaining)).await;
            match self.fetch(id).await? {
                TranscriptState::Completed(done) if done.text.is_empty() => {
                    return Err(AssemblyAiError::Empty);
                }
                TranscriptState::Completed(done) => return Ok(done),
                TranscriptState::Failed(reason) => {
                    return Err(AssemblyAiError::TranscriptFailed { reason });
                }
                TranscriptState::Pending(status) => {
                    if Instant::now() >= deadline {
                        return Err(AssemblyAiError::Deadline {
                            id: id.0.clone(),
                            status,
                            waited: started.elapsed(),
                        });
                    }
                }
            }
            interval = interval
                .saturating_add(interval / 2)
                .min(self.poll.max_interval);
        }
    }

    /// One call, retried on rate limits, server errors, timeouts and dropped connections.
    async fn call(
        &self,
        method: Method,
        path: &str,
        build: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<Bytes, AssemblyAiError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| AssemblyAiError::Decode(format!("bad path: {e}")))?;
        let mut retry = 0;
        loop {
            let request = self
                .http
                .request(method.clone(), url.clone())
                .timeout(self.timeout)
                .header(reqwest::header::AUTHORIZATION, self.api_key.expose_secret());
            let outcome = self.attempt(build(request)).await;
            let (error, retry_after) = match outcome {
                Ok(body) => return Ok(body),
                Err(Attempt::Final(error)) => return Err(error),
                Err(Attempt::Transient { error, retry_after }) => (error, retry_after),
            };
            let Some(wait) = self.retry.delay(retry, retry_after) else {
                return Err(error);
            };
            tracing::warn!(%error, ?wait, retry = retry + 1, "AssemblyAI call failed; retrying");
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    async fn attempt(&self, request: reqwest::RequestBuilder) -> Result<Bytes, Attempt> {
        let response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status();
        let retry_after = retry::retry_after(response.headers());
        let body = response.bytes().await.map_err(|e| self.transport(e))?;
        if status.is_success() {
            return Ok(body);
        }
        let message = error_message(&body);
        let code = status.as_u16();
        match status {
            StatusCode::TOO_MANY_REQUESTS => Err(Attempt::Transient {
                error: AssemblyAiError::RateLimited { retry_after },
                retry_after,
            }),
            StatusCode::REQUEST_TIMEOUT => Err(Attempt::Transient {
                error: AssemblyAiError::Unavailable {
                    status: code,
                    message,
                },
                retry_after,
            }),
            s if s.is_server_error() => Err(Attempt::Transient {
                error: AssemblyAiError::Unavailable {
                    status: code,
                    message,
                },
                retry_after,
            }),
            _ => Err(Attempt::Final(AssemblyAiError::Configuration {
                status: code,
                message,
            })),
        }
    }

    fn transport(&self, error: reqwest::Error) -> Attempt {
        let error = error.without_url();
        let error = if error.is_timeout() {
            AssemblyAiError::Timeout(self.timeout)
        } else if error.is_decode() {
            return Attempt::Final(AssemblyAiError::Decode(error.to_string()));
        } else {
            AssemblyAiError::Network(error.to_string())
        };
        Attempt::Transient {
            error,
            retry_after: None,
        }
    }
}

/// The outcome of one failed attempt.
enum Attempt {
    /// Not worth retrying.
    Final(AssemblyAiError),
    /// Worth retrying, after the server's wait if it gave one.
    Transient {
        error: AssemblyAiError,
        retry_after: Option<Duration>,
    },
}

/// What the operator should change when AssemblyAI refuses the models for a language: the
/// setting holding that language's list (both, with detection, which sends what they share).
fn models_hint(language: LanguageRequest) -> String {
    match language {
        LanguageRequest::Known(lang) => format!(
            "set {} to speech models this account may use that support {}, ending with {}",
            SpeechModels::setting(lang),
            lang.english_name(),
            super::UNIVERSAL_MODEL
        ),
        LanguageRequest::Detect { .. } => format!(
            "language detection sends the models {} and {} share: make them share models \
             this account may use, ending with {}",
            SpeechModels::setting(Lang::En),
            SpeechModels::setting(Lang::Ru),
            super::UNIVERSAL_MODEL
        ),
    }
}

/// Reads the body of `GET /v2/transcript/{id}`: completed (its text trimmed, its confidence a
/// finite number within 0-1), failed, or still pending.
pub fn read_transcript(body: &[u8]) -> Result<TranscriptState, AssemblyAiError> {
    decode(body).map(state)
}

fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AssemblyAiError> {
    serde_json::from_slice(body).map_err(|e| AssemblyAiError::Decode(e.to_string()))
}

/// The API's `{"error": "..."}` message, or the start of whatever came instead.
fn error_message(body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(body) => body.error,
        Err(_) => String::from_utf8_lossy(body).chars().take(200).collect(),
    }
}

fn state(body: TranscriptBody) -> TranscriptState {
    match body.status.as_str() {
        "completed" => {
            let words: Vec<f64> = body
                .words
                .unwrap_or_default()
                .into_iter()
                .filter_map(|w| w.confidence)
                .filter(|c| c.is_finite())
                .collect();
            let mean = (!words.is_empty()).then(|| words.iter().sum::<f64>() / words.len() as f64);
            let confidence = body
                .confidence
                .filter(|c| c.is_finite())
                .or(mean)
                .unwrap_or(0.0)
                .clamp(0.0, 1.0);
            TranscriptState::Completed(Completed {
                id: TranscriptId(body.id),
                text: body.text.unwrap_or_default().trim().to_owned(),
                confidence,
                speech_model: body.speech_model_used,
                language_code: body.language_code,
                audio_duration: body
                    .audio_duration
                    .and_then(|s| Duration::try_from_secs_f64(s).ok()),
            })
        }
        "error" => {
            TranscriptState::Failed(body.error.unwrap_or_else(|| "no reason given".to_owned()))
        }
        other => TranscriptState::Pending(other.to_owned()),
    }
}

/// Percent-encodes everything but letters, digits, `-`, `_` and `~`, for one path segment
/// (dots too, so that no id can be `..`).
fn encode_segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_and_stops_after_the_last_retry() {
        let policy = retry_policy(40);
        for (retry, full) in [(0, 1), (1, 2), (2, 4), (3, 8), (4, 16), (30, 16), (39, 16)] {
            let d = policy.delay(retry, None).unwrap();
            let full = Duration::from_secs(full);
            assert!(d <= full && d >= full.mul_f64(0.75), "{retry}: {d:?}");
        }
        assert_eq!(policy.delay(40, None), None);
        assert_eq!(
            policy.delay(0, Some(Duration::MAX)),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn a_completed_transcript_without_confidence_falls_back_to_its_words() {
        let body: TranscriptBody = serde_json::from_str(
            r#"{"id":"t1","status":"completed","text":" hello there ","confidence":null,
                "words":[{"text":"hello","confidence":0.5},{"text":"there","confidence":0.7}],
                "audio_duration":3,"language_code":"en","speech_model_used":"universal-2"}"#,
        )
        .unwrap();
        let TranscriptState::Completed(done) = state(body) else {
            panic!("not completed");
        };
        assert_eq!(done.text, "hello there");
        assert!((done.confidence - 0.6).abs() < 1e-9);
        assert_eq!(done.audio_duration, Some(Duration::from_secs(3)));
    }

    #[test]
    fn ids_are_encoded_as_one_path_segment() {
        assert_eq!(encode_segment("5551-ab_c~"), "5551-ab_c~");
        assert_eq!(encode_segment("../x?y"), "%2E%2E%2Fx%3Fy");
    }

    #[test]
    fn the_upload_url_is_redacted_in_debug_output() {
        let url = UploadUrl(SecretString::from(
            "https://cdn.example/upload/secret".to_owned(),
        ));
        assert!(!format!("{url:?}").contains("secret"));
    }
}
