//! A stateful, in-process fake of the Telegram Bot API for end-to-end tests.
//!
//! [`FakeTelegram::start`] binds `127.0.0.1:0` and serves the Bot API routes
//! (`/bot<token>/<method>` and `/file/bot<token>/<file_path>`) with the same
//! response shapes, error descriptions and long-polling semantics as
//! `api.telegram.org`, so an unmodified teloxide bot can run against it:
//!
//! ```no_run
//! # use std::time::Duration;
//! # use interviewer_fakes::telegram::FakeTelegram;
//! # use teloxide::Bot;
//! # async fn example() {
//! let tg = FakeTelegram::start().await;
//! let bot = Bot::new(tg.token()).set_api_url(tg.api_url().parse().unwrap());
//! // ... start the bot's dispatcher with `bot` ...
//! let alice = tg.user(42, "Alice", Some("en"));
//! tg.send_text(&alice, "/start");
//! let reply = tg.wait_for(alice.chat_id(), Duration::from_secs(5), |m| m.plain().contains("Welcome")).await;
//! tg.press_button(&alice, reply.message_id, "lang:en");
//! # }
//! ```
//!
//! The test injects what users do (`send_text`, `send_voice`, `press_button`, ...),
//! which become updates for `getUpdates`, and observes what the bot did (`sent`,
//! `documents`, `calls`, `callback_answers`, ...). Faults can be queued per method
//! with [`FakeTelegram::fail_next`]. The server stops when the value is dropped.
//!
//! Implemented methods: getMe, getWebhookInfo, setWebhook, deleteWebhook, getUpdates,
//! setMyCommands, getMyCommands, deleteMyCommands, sendMessage, editMessageText,
//! editMessageCaption, editMessageReplyMarkup, deleteMessage, answerCallbackQuery,
//! sendChatAction, sendDocument, getFile. Any other method answers 404 "Not Found"
//! (which teloxide reports as `ApiError::InvalidToken`), and is still recorded in
//! [`FakeTelegram::calls`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State as AxumState};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};
use tokio::sync::watch;

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/// First name of the fake bot account returned by `getMe`.
pub const BOT_FIRST_NAME: &str = "Fake Test Bot";
/// Username of the fake bot account returned by `getMe` (without `@`).
pub const BOT_USERNAME: &str = "fake_test_bot";

/// Maximum message length, in characters, after entity parsing.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Maximum caption length, in characters, after entity parsing.
pub const MAX_CAPTION_CHARS: usize = 1024;
/// Maximum `callback_data` size in bytes.
pub const MAX_CALLBACK_DATA_BYTES: usize = 64;
/// Largest file a bot may download through `getFile` (20 MB).
pub const MAX_DOWNLOAD_BYTES: usize = 20 * 1024 * 1024;
/// Largest file a bot may upload (50 MB).
pub const MAX_UPLOAD_BYTES: usize = 50 * 1024 * 1024;

/// The running fake Bot API server. Dropping it shuts the server down
/// (pending long polls are answered with `[]`, new connections are refused).
pub struct FakeTelegram {
    shared: Arc<Shared>,
    url: String,
}

/// A simulated Telegram user. Create one with [`FakeTelegram::user`]; its private
/// chat with the bot has `chat_id == id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestUser {
    /// Telegram user id (also the id of the private chat with the bot).
    pub id: u64,
    /// First name shown in `from` and in the private chat.
    pub first_name: String,
    /// Optional last name.
    pub last_name: Option<String>,
    /// Optional username (without `@`).
    pub username: Option<String>,
    /// IETF language tag of the user's client, e.g. `"en"` or `"ru"`.
    pub language_code: Option<String>,
}

/// A message the bot sent, in its current state (after edits).
#[derive(Clone, Debug)]
pub struct SentMessage {
    /// Message id within the chat.
    pub message_id: i32,
    /// Chat the message was sent to.
    pub chat_id: i64,
    /// The text exactly as the bot sent it (with HTML tags / Markdown markup);
    /// for documents, the caption as sent ("" when none). See [`SentMessage::plain`].
    pub text: String,
    /// `parse_mode` the bot used, if any (as sent, e.g. `"HTML"`).
    pub parse_mode: Option<String>,
    /// Inline keyboard buttons, row by row (empty when there is no inline keyboard).
    pub buttons: Vec<Vec<Button>>,
    /// The `reply_markup` exactly as sent (inline keyboard, reply keyboard,
    /// `remove_keyboard` or `force_reply`); `None` when absent.
    pub reply_markup: Option<Value>,
    /// Id of the message this one replies to, if any.
    pub reply_to_message_id: Option<i32>,
    /// True once the message was edited by the bot.
    pub edited: bool,
    /// Set when the message is a document the bot uploaded with `sendDocument`.
    pub document: Option<SentDocument>,
    /// The `Message` object as Telegram currently has it (what the bot got back).
    pub raw: Value,
}

/// A draft the bot showed with `sendMessageDraft` (Bot API 9.5): a preview of a reply while
/// it is written, in a private chat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentDraft {
    /// The draft's id (non-zero); updates of one id are one animated draft.
    pub draft_id: i64,
    /// The text as sent ("" shows Telegram's "Thinking…" placeholder).
    pub text: String,
    /// How many messages the bot had sent to the chat when the draft arrived, deleted ones
    /// included (as [`FakeTelegram::bot_send_count`] counts them): a draft that previews the
    /// n-th message arrives with n - 1 before it.
    pub messages_before: usize,
    /// When it arrived.
    pub at: Instant,
}

/// One attempt of the fake to deliver an update to the bot's webhook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// The update's id.
    pub update_id: i64,
    /// The HTTP status the webhook answered; 0 when no answer came (refused, reset).
    pub status: u16,
}

/// An inline keyboard button as the bot sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Button {
    /// Label of the button.
    pub text: String,
    /// `callback_data`, for callback buttons.
    pub callback_data: Option<String>,
    /// `url`, for link buttons.
    pub url: Option<String>,
}

/// A document the bot sent with `sendDocument`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentDocument {
    /// Message id of the document message.
    pub message_id: i32,
    /// Chat it was sent to.
    pub chat_id: i64,
    /// `file_id` the fake assigned (usable with `getFile`).
    pub file_id: String,
    /// File name as uploaded (or of the re-sent file).
    pub file_name: String,
    /// File contents.
    pub bytes: Vec<u8>,
    /// Caption as sent (with markup), if any.
    pub caption: Option<String>,
    /// `parse_mode` of the caption, if any.
    pub parse_mode: Option<String>,
    /// MIME type: the part's `Content-Type` if the upload had one, otherwise
    /// guessed from the file extension like Telegram does.
    pub mime: String,
}

/// One request the bot made, whatever its outcome.
#[derive(Clone, Debug)]
pub struct Call {
    /// Canonical method name (e.g. `"sendMessage"`), or the name as requested
    /// when the method is unknown.
    pub method: String,
    /// Parameters merged from query string and body. Form and multipart values
    /// are strings; uploaded files appear as `{"file_name","mime_type","size"}`.
    pub params: Value,
    /// When the request arrived.
    pub received_at: Instant,
    /// HTTP status returned; 0 while a long poll is still pending or if the
    /// client went away before it was answered.
    pub status: u16,
    /// The JSON body returned (`Null` until answered).
    pub response: Value,
}

/// An `answerCallbackQuery` call the bot made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackAnswer {
    /// The callback query id (as returned by [`FakeTelegram::press_button`]).
    pub query_id: String,
    /// Notification text, if any.
    pub text: Option<String>,
    /// Whether an alert was requested instead of a toast.
    pub show_alert: bool,
    /// URL to open, if any.
    pub url: Option<String>,
}

/// A fault to inject into the next calls of a method (see [`FakeTelegram::fail_next`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// 429 `Too Many Requests: retry after N` with `parameters.retry_after = N`
    /// (teloxide: `RequestError::RetryAfter`).
    RetryAfter(u32),
    /// Any status with a JSON error body carrying this description, e.g.
    /// `Failure::Status(400, "Bad Request: chat not found".into())`.
    Status(u16, String),
    /// 500 `{"ok":false,"error_code":500,"description":"Internal Server Error"}`.
    /// Note: teloxide sleeps 10 s before reading any 5xx response.
    InternalServerError,
    /// 502 with the HTML page nginx serves in front of the Bot API (not JSON:
    /// teloxide reports `RequestError::InvalidJson`, after its 10 s 5xx delay).
    BadGateway,
    /// 401 `Unauthorized` (teloxide: `ApiError::InvalidToken`), as for a revoked token.
    Unauthorized,
}

// ---------------------------------------------------------------------------
// Internal state
// ---------------------------------------------------------------------------

struct Shared {
    token: String,
    bot_id: i64,
    state: Mutex<State>,
    /// Bumped whenever an update is queued.
    updates: watch::Sender<u64>,
    /// Bumped by every getUpdates call (to terminate older pending polls).
    polls: watch::Sender<u64>,
    /// Bumped on every observable change (calls, messages, ...).
    changes: watch::Sender<u64>,
    shutdown: watch::Sender<bool>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn changed(&self) {
        self.changes.send_modify(|v| *v += 1);
    }
}

struct QueuedUpdate {
    id: i64,
    json: Value,
}

struct FileEntry {
    bytes: Vec<u8>,
    unique_id: String,
    path: Option<String>,
}

struct StoredMessage {
    json: Value,
    from_bot: bool,
    sent_text: String,
    parse_mode: Option<String>,
    reply_markup: Option<Value>,
    edited: bool,
    deleted: bool,
    document: Option<SentDocument>,
    order: u64,
}

struct State {
    bot_user: Value,
    next_update_id: i64,
    queue: VecDeque<QueuedUpdate>,
    allowed_updates: Option<Vec<String>>,
    webhook_url: String,
    /// `setWebhook`'s `secret_token`, sent back in `X-Telegram-Bot-Api-Secret-Token`.
    webhook_secret: Option<String>,
    /// `setWebhook`'s `max_connections`.
    webhook_connections: u32,
    /// Every attempt to deliver an update to the webhook.
    webhook_deliveries: Vec<WebhookDelivery>,
    /// Why the last delivery failed, as `getWebhookInfo` reports it.
    webhook_error: Option<String>,
    chats: HashMap<i64, Value>,
    blocked: HashSet<i64>,
    last_message_id: HashMap<i64, i32>,
    messages: HashMap<(i64, i32), StoredMessage>,
    next_order: u64,
    files: HashMap<String, FileEntry>,
    /// file_id -> (directory, extension) learned from injected media, used to
    /// build realistic `file_path`s.
    file_kinds: HashMap<String, (&'static str, String)>,
    next_file_no: u64,
    /// Callback queries: answered yet, and when the press happened (Telegram refuses an
    /// answer after 15 s: "query is too old").
    queries: HashMap<String, (bool, Instant)>,
    next_query: u64,
    answers: Vec<CallbackAnswer>,
    actions: HashMap<i64, Vec<(String, Instant)>>,
    commands: HashMap<(String, String), Vec<(String, String)>>,
    failures: HashMap<String, VecDeque<Failure>>,
    calls: Vec<Call>,
    downloads: Vec<String>,
    strict_ampersand: bool,
    /// Every update ever queued, by id (to deliver one again).
    history: HashMap<i64, Value>,
    /// When each bot message (text or document) was stored, per chat, in order.
    bot_sends: HashMap<i64, Vec<Instant>>,
    /// Drafts shown, per chat, in order.
    drafts: HashMap<i64, Vec<SentDraft>>,
}

#[derive(Debug, Clone)]
struct ApiError {
    code: u16,
    description: String,
    parameters: Option<Value>,
    /// Answer with nginx's HTML error page instead of JSON.
    html: bool,
}

fn api_err(code: u16, description: impl Into<String>) -> ApiError {
    ApiError {
        code,
        description: description.into(),
        parameters: None,
        html: false,
    }
}

fn bad(description: &str) -> ApiError {
    api_err(400, format!("Bad Request: {description}"))
}

/// How long after a press Telegram accepts its answerCallbackQuery.
pub const CALLBACK_ANSWER_WINDOW: Duration = Duration::from_secs(15);

const DESC_NOT_MODIFIED: &str = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";
const DESC_QUERY_INVALID: &str =
    "query is too old and response timeout expired or query ID is invalid";
const DESC_CONFLICT: &str = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";

const METHODS: &[&str] = &[
    "getMe",
    "getWebhookInfo",
    "setWebhook",
    "deleteWebhook",
    "getUpdates",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "sendMessage",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "deleteMessage",
    "answerCallbackQuery",
    "sendChatAction",
    "sendMessageDraft",
    "sendDocument",
    "getFile",
];

const CHAT_ACTIONS: &[&str] = &[
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
];

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(1)
}

fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn unique_id_for(file_id: &str) -> String {
    format!("AgAD{:012x}", fnv(file_id) & 0xffff_ffff_ffff)
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

impl FakeTelegram {
    /// Starts the server on `127.0.0.1` with an ephemeral port and a random,
    /// valid-looking token (`"<digits>:AAFake..."`, 35-character secret).
    pub async fn start() -> FakeTelegram {
        Self::start_with_token(&random_token()).await
    }

    /// Starts the server with a fixed token of the form `"<bot id>:<secret>"`.
    /// The numeric prefix becomes the bot's user id. Panics on a malformed token.
    pub async fn start_with_token(token: &str) -> FakeTelegram {
        let bot_id: i64 = token
            .split_once(':')
            .and_then(|(id, secret)| {
                if secret.is_empty() {
                    None
                } else {
                    id.parse().ok()
                }
            })
            .expect("token must look like \"123456:secret\"");
        let bot_user = json!({
            "id": bot_id, "is_bot": true, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME
        });
        let state = State {
            bot_user,
            next_update_id: 100_000,
            queue: VecDeque::new(),
            allowed_updates: None,
            webhook_url: String::new(),
            webhook_secret: None,
            webhook_connections: 40,
            webhook_deliveries: Vec::new(),
            webhook_error: None,
            chats: HashMap::new(),
            blocked: HashSet::new(),
            last_message_id: HashMap::new(),
            messages: HashMap::new(),
            next_order: 0,
            files: HashMap::new(),
            file_kinds: HashMap::new(),
            next_file_no: 0,
            queries: HashMap::new(),
            next_query: 0,
            answers: Vec::new(),
            actions: HashMap::new(),
            commands: HashMap::new(),
            failures: HashMap::new(),
            calls: Vec::new(),
            downloads: Vec::new(),
            strict_ampersand: true,
            bot_sends: HashMap::new(),
            drafts: HashMap::new(),
            history: HashMap::new(),
        };
        let shared = Arc::new(Shared {
            token: token.to_owned(),
            bot_id,
            state: Mutex::new(state),
            updates: watch::channel(0).0,
            polls: watch::channel(0).0,
            changes: watch::channel(0).0,
            shutdown: watch::channel(false).0,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let app = Router::new()
            .fallback(handle)
            .with_state(shared.clone())
            .layer(DefaultBodyLimit::disable());
        tokio::spawn(deliver_to_webhook(shared.clone()));
        let mut stop = shared.shutdown.subscribe();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|v| *v).await;
                })
                .await;
        });
        FakeTelegram {
            shared,
            url: format!("http://{addr}"),
        }
    }

    /// Base URL for `Bot::set_api_url`, e.g. `"http://127.0.0.1:41234"`.
    pub fn api_url(&self) -> String {
        self.url.clone()
    }

    /// The bot token the server accepts.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The bot's own user id (the numeric prefix of the token).
    pub fn bot_id(&self) -> i64 {
        self.shared.bot_id
    }

    // ----- users act --------------------------------------------------------

    /// Creates a user who has started the bot (so its private chat exists).
    /// Private chat id == user id.
    pub fn user(&self, id: u64, first_name: &str, language_code: Option<&str>) -> TestUser {
        let user = TestUser {
            id,
            first_name: first_name.to_owned(),
            last_name: None,
            username: None,
            language_code: language_code.map(str::to_owned),
        };
        self.shared
            .lock()
            .chats
            .insert(user.chat_id(), user.private_chat_json());
        user
    }

    /// User sends a text message in the private chat. A `/command` at the start
    /// of a word gets a `bot_command` entity. Returns the message id.
    pub fn send_text(&self, from: &TestUser, text: &str) -> i32 {
        let mut fields = Map::new();
        fields.insert("text".into(), json!(text));
        let ents = command_entities(text);
        if !ents.is_empty() {
            fields.insert("entities".into(), Value::Array(ents));
        }
        self.inject_message(from.chat_id(), from.private_chat_json(), from, fields)
    }

    /// User sends a text message in a group (`chat_id` > -1e12) or supergroup
    /// (`chat_id` <= -1_000_000_000_000, e.g. `-1001234567890`). The chat is
    /// created on first use. Returns the message id (counted per chat).
    pub fn send_group_text(&self, chat_id: i64, from: &TestUser, text: &str) -> i32 {
        let chat = group_chat_json(chat_id);
        let mut fields = Map::new();
        fields.insert("text".into(), json!(text));
        let ents = command_entities(text);
        if !ents.is_empty() {
            fields.insert("entities".into(), Value::Array(ents));
        }
        self.inject_message(chat_id, chat, from, fields)
    }

    /// User sends a voice note (OGG/Opus). `duration` in seconds; `mime` e.g.
    /// `Some("audio/ogg")`; `size` is the reported `file_size`.
    pub fn send_voice(
        &self,
        from: &TestUser,
        file_id: &str,
        duration: u32,
        mime: Option<&str>,
        size: Option<u64>,
    ) -> i32 {
        let mut voice = file_obj(file_id, size);
        voice.insert("duration".into(), json!(duration));
        if let Some(m) = mime {
            voice.insert("mime_type".into(), json!(m));
        }
        self.note_file(file_id, "voice", "oga");
        self.inject_media(from, "voice", Value::Object(voice))
    }

    /// User sends an audio file (music). `file_name`/`mime` as the client reports them.
    pub fn send_audio(
        &self,
        from: &TestUser,
        file_id: &str,
        duration: u32,
        file_name: Option<&str>,
        mime: Option<&str>,
    ) -> i32 {
        let mut audio = file_obj(file_id, self.registered_size(file_id));
        audio.insert("duration".into(), json!(duration));
        if let Some(n) = file_name {
            audio.insert("file_name".into(), json!(n));
        }
        if let Some(m) = mime {
            audio.insert("mime_type".into(), json!(m));
        }
        let ext = file_name
            .and_then(extension)
            .unwrap_or_else(|| "mp3".into());
        self.note_file(file_id, "music", &ext);
        self.inject_media(from, "audio", Value::Object(audio))
    }

    /// User sends a photo (three sizes; the largest, 1280x960, has `file_id`,
    /// the smaller ones `"{file_id}-s"` and `"{file_id}-m"`), with an optional caption.
    pub fn send_photo(&self, from: &TestUser, file_id: &str, caption: Option<&str>) -> i32 {
        let sizes: Vec<Value> = [("-s", 90, 68), ("-m", 320, 240), ("", 1280, 960)]
            .iter()
            .map(|(suffix, w, h)| {
                let id = format!("{file_id}{suffix}");
                let mut p = file_obj(&id, self.registered_size(&id));
                p.insert("width".into(), json!(w));
                p.insert("height".into(), json!(h));
                Value::Object(p)
            })
            .collect();
        self.note_file(file_id, "photos", "jpg");
        let mut fields = Map::new();
        fields.insert("photo".into(), Value::Array(sizes));
        if let Some(c) = caption {
            fields.insert("caption".into(), json!(c));
        }
        self.inject_message(from.chat_id(), from.private_chat_json(), from, fields)
    }

    /// User sends a regular static 512x512 sticker with the given emoji.
    pub fn send_sticker(&self, from: &TestUser, file_id: &str, emoji: &str) -> i32 {
        let mut s = file_obj(file_id, self.registered_size(file_id));
        s.insert("type".into(), json!("regular"));
        s.insert("width".into(), json!(512));
        s.insert("height".into(), json!(512));
        s.insert("is_animated".into(), json!(false));
        s.insert("is_video".into(), json!(false));
        s.insert("emoji".into(), json!(emoji));
        s.insert("set_name".into(), json!("FakeStickers"));
        self.note_file(file_id, "stickers", "webp");
        self.inject_media(from, "sticker", Value::Object(s))
    }

    /// User sends a document (file). `file_size` is taken from a file
    /// registered under `file_id`, if any.
    pub fn send_document(
        &self,
        from: &TestUser,
        file_id: &str,
        file_name: &str,
        mime: Option<&str>,
    ) -> i32 {
        let mut d = file_obj(file_id, self.registered_size(file_id));
        d.insert("file_name".into(), json!(file_name));
        if let Some(m) = mime {
            d.insert("mime_type".into(), json!(m));
        }
        let ext = extension(file_name).unwrap_or_default();
        self.note_file(file_id, "documents", &ext);
        self.inject_media(from, "document", Value::Object(d))
    }

    /// User shares a location.
    pub fn send_location(&self, from: &TestUser, latitude: f64, longitude: f64) -> i32 {
        self.inject_media(
            from,
            "location",
            json!({"latitude": latitude, "longitude": longitude}),
        )
    }

    /// User sends a round video note (`length` = diameter in pixels; no MIME type,
    /// like the real API).
    pub fn send_video_note(
        &self,
        from: &TestUser,
        file_id: &str,
        duration: u32,
        length: u32,
    ) -> i32 {
        let mut v = file_obj(file_id, self.registered_size(file_id));
        v.insert("length".into(), json!(length));
        v.insert("duration".into(), json!(duration));
        self.note_file(file_id, "video_notes", "mp4");
        self.inject_media(from, "video_note", Value::Object(v))
    }

    /// User sends an arbitrary message into `chat_id` (a known chat): `fields` is
    /// merged into the `Message` object (e.g. `json!({"contact": {...}})`).
    pub fn send_raw_message(&self, chat_id: i64, from: &TestUser, fields: Value) -> i32 {
        let chat = {
            let st = self.shared.lock();
            st.chats.get(&chat_id).cloned()
        }
        .unwrap_or_else(|| panic!("send_raw_message: unknown chat {chat_id}"));
        let fields = match fields {
            Value::Object(m) => m,
            other => panic!("send_raw_message: fields must be an object, got {other}"),
        };
        self.inject_message(chat_id, chat, from, fields)
    }

    /// User presses an inline button of a bot message in their private chat.
    /// Panics if the message does not exist or has no callback button with this
    /// data (use [`FakeTelegram::send_callback`] to forge arbitrary data).
    /// Returns the callback query id; the `CallbackQuery` carries the message.
    pub fn press_button(&self, from: &TestUser, message_id: i32, data: &str) -> String {
        let chat_id = from.chat_id();
        let buttons = {
            let st = self.shared.lock();
            match st.messages.get(&(chat_id, message_id)) {
                Some(m) if !m.deleted => buttons_of(&m.json),
                _ => panic!(
                    "press_button: no message {message_id} in chat {chat_id}\n{}",
                    dump(&st, chat_id)
                ),
            }
        };
        if !buttons
            .iter()
            .flatten()
            .any(|b| b.callback_data.as_deref() == Some(data))
        {
            panic!(
                "press_button: message {message_id} in chat {chat_id} has no button with callback_data {data:?}; buttons: {buttons:?}"
            );
        }
        self.send_callback(from, chat_id, message_id, data)
    }

    /// Sends a callback query for message `message_id` in `chat_id` with any
    /// `data`, without checking the message's buttons (clients can forge data).
    /// Panics if the message does not exist. Returns the callback query id.
    pub fn send_callback(
        &self,
        from: &TestUser,
        chat_id: i64,
        message_id: i32,
        data: &str,
    ) -> String {
        let mut st = self.shared.lock();
        let msg = match st.messages.get(&(chat_id, message_id)) {
            Some(m) if !m.deleted => m.json.clone(),
            _ => panic!("send_callback: no message {message_id} in chat {chat_id}"),
        };
        st.next_query += 1;
        let id = format!("{}", 4_611_686_018_427_387_904u64 + st.next_query * 7_919);
        st.queries.insert(id.clone(), (false, Instant::now()));
        let q = json!({
            "id": id,
            "from": from.json(),
            "message": msg,
            "chat_instance": format!("-{}", fnv(&chat_id.to_string()) >> 2),
            "data": data,
        });
        st.push_update("callback_query", q);
        drop(st);
        self.notify_update();
        id
    }

    /// Queues a raw update object (without `update_id`, which is assigned), e.g.
    /// `json!({"edited_message": {...}})`. Returns the update id, or `None` if the
    /// bot's `allowed_updates` excludes it.
    pub fn push_update(&self, update: Value) -> Option<i64> {
        let Value::Object(m) = update else {
            panic!("push_update: not an object")
        };
        let (kind, payload) = m.into_iter().next().expect("push_update: empty object");
        let id = self.shared.lock().push_update(&kind, payload);
        self.notify_update();
        id
    }

    /// Delivers update `id` again, as Telegram does when its offset was never confirmed
    /// (after a crash). Returns whether there was such an update.
    pub fn redeliver(&self, id: i64) -> bool {
        let mut st = self.shared.lock();
        let Some(json) = st.history.get(&id).cloned() else {
            return false;
        };
        st.queue.push_back(QueuedUpdate { id, json });
        drop(st);
        self.notify_update();
        true
    }

    /// The id of the newest update queued so far.
    pub fn last_update_id(&self) -> Option<i64> {
        self.shared.lock().history.keys().max().copied()
    }

    /// Registers a file so that `getFile` and the download route can serve it.
    /// Its `file_path` gets a directory/extension matching the media it was sent as
    /// (`voice/file_1.oga`, `documents/file_2.pdf`, ...).
    pub fn register_file(&self, file_id: &str, bytes: Vec<u8>) {
        let mut st = self.shared.lock();
        st.files.insert(
            file_id.to_owned(),
            FileEntry {
                bytes,
                unique_id: unique_id_for(file_id),
                path: None,
            },
        );
    }

    /// Makes the user block (`true`) or unblock the bot: sends to their chat then
    /// fail with 403 "Forbidden: bot was blocked by the user".
    pub fn set_blocked(&self, user: &TestUser, blocked: bool) {
        let mut st = self.shared.lock();
        if blocked {
            st.blocked.insert(user.chat_id());
        } else {
            st.blocked.remove(&user.chat_id());
        }
    }

    /// Strict HTML (default `true`): a bare `&` that does not start one of the
    /// supported entities is rejected with "can't parse entities". The real server
    /// is lenient here and keeps such an `&` literally; pass `false` to match it.
    pub fn set_strict_ampersand(&self, strict: bool) {
        self.shared.lock().strict_ampersand = strict;
    }

    // ----- observe ----------------------------------------------------------

    /// The bot's messages in that chat that are not deleted, in sending order,
    /// each in its current state (after edits).
    pub fn sent(&self, chat_id: i64) -> Vec<SentMessage> {
        self.shared.lock().sent(chat_id, false)
    }

    /// Every attempt to deliver an update to the webhook, in order.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.shared.lock().webhook_deliveries.clone()
    }

    /// The webhook's URL and secret token, when one is set.
    pub fn webhook(&self) -> Option<(String, Option<String>)> {
        let st = self.shared.lock();
        (!st.webhook_url.is_empty()).then(|| (st.webhook_url.clone(), st.webhook_secret.clone()))
    }

    /// The drafts the bot showed in `chat_id`, in order.
    pub fn drafts(&self, chat_id: i64) -> Vec<SentDraft> {
        self.shared
            .lock()
            .drafts
            .get(&chat_id)
            .cloned()
            .unwrap_or_default()
    }

    /// How many messages (texts and documents) the bot has sent to `chat_id`: cheap to call
    /// often, unlike [`FakeTelegram::sent`].
    pub fn bot_send_count(&self, chat_id: i64) -> usize {
        self.shared
            .lock()
            .bot_sends
            .get(&chat_id)
            .map_or(0, Vec::len)
    }

    /// Waits until the bot has sent `n` messages to `chat_id` and returns when the `n`-th
    /// arrived. Checks in constant time, so many tasks can wait at once (load tools).
    pub async fn wait_for_bot_send(&self, chat_id: i64, n: usize, timeout: Duration) -> Instant {
        let mut at = None;
        self.wait_inner(timeout, || {
            at = self
                .shared
                .lock()
                .bot_sends
                .get(&chat_id)
                .and_then(|v| v.get(n.wrapping_sub(1)).copied());
            at.is_some()
        })
        .await
        .unwrap_or_else(|| {
            panic!("wait_for_bot_send: no message #{n} in chat {chat_id} within {timeout:?}")
        });
        at.expect("found")
    }

    /// The bot's messages in that chat that it has deleted (last state).
    pub fn deleted(&self, chat_id: i64) -> Vec<SentMessage> {
        self.shared.lock().sent(chat_id, true)
    }

    /// Waits until a bot message in `chat_id` satisfies `pred` (checked on every
    /// change) and returns the first such message. Panics on timeout with a dump
    /// of the chat and of the failed calls.
    pub async fn wait_for(
        &self,
        chat_id: i64,
        timeout: Duration,
        pred: impl Fn(&SentMessage) -> bool,
    ) -> SentMessage {
        let mut found = None;
        self.wait_inner(timeout, || {
            found = self.sent(chat_id).into_iter().find(|m| pred(m));
            found.is_some()
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "wait_for: no matching bot message in chat {chat_id} within {timeout:?}\n{}",
                self.dump(chat_id)
            )
        });
        found.expect("found")
    }

    /// Waits until the bot has at least `n` (non-deleted) messages in `chat_id`
    /// and returns them all. Panics on timeout with a dump of the chat.
    pub async fn wait_for_count(
        &self,
        chat_id: i64,
        n: usize,
        timeout: Duration,
    ) -> Vec<SentMessage> {
        let mut found = Vec::new();
        self.wait_inner(timeout, || {
            found = self.sent(chat_id);
            found.len() >= n
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "wait_for_count: expected {n} bot messages in chat {chat_id} within {timeout:?}\n{}",
                self.dump(chat_id)
            )
        });
        found
    }

    /// Waits until at least `n` calls of `method` have been answered and returns
    /// all calls of it. Panics on timeout.
    pub async fn wait_for_calls(&self, method: &str, n: usize, timeout: Duration) -> Vec<Call> {
        let mut found = Vec::new();
        self.wait_inner(timeout, || {
            found = self.calls(method);
            found.iter().filter(|c| c.status != 0).count() >= n
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "wait_for_calls: expected {n} answered {method} calls within {timeout:?}, got {}\n{}",
                self.calls(method).len(),
                self.dump(0)
            )
        });
        found
    }

    /// Waits until `cond(self)` holds (re-checked on every change in the fake).
    /// Panics with `what` and a dump on timeout.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        cond: impl Fn(&FakeTelegram) -> bool,
    ) {
        if self.wait_inner(timeout, || cond(self)).await.is_none() {
            panic!(
                "wait_until: {what} did not happen within {timeout:?}\n{}",
                self.dump(0)
            );
        }
    }

    /// Documents the bot sent to that chat (including deleted ones), in order.
    pub fn documents(&self, chat_id: i64) -> Vec<SentDocument> {
        let st = self.shared.lock();
        let mut docs: Vec<(u64, SentDocument)> = st
            .messages
            .iter()
            .filter(|((c, _), m)| *c == chat_id && m.from_bot)
            .filter_map(|(_, m)| m.document.clone().map(|d| (m.order, d)))
            .collect();
        docs.sort_by_key(|(o, _)| *o);
        docs.into_iter().map(|(_, d)| d).collect()
    }

    /// Every call of `method` (case-insensitive), in arrival order.
    pub fn calls(&self, method: &str) -> Vec<Call> {
        let st = self.shared.lock();
        st.calls
            .iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .cloned()
            .collect()
    }

    /// Every call the bot made, in arrival order.
    pub fn all_calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// Every `answerCallbackQuery` the server accepted, in order.
    pub fn callback_answers(&self) -> Vec<CallbackAnswer> {
        self.shared.lock().answers.clone()
    }

    /// Chat actions (`"typing"`, `"upload_document"`, ...) sent to that chat, with
    /// the time each arrived.
    pub fn chat_actions(&self, chat_id: i64) -> Vec<(String, Instant)> {
        self.shared
            .lock()
            .actions
            .get(&chat_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Commands set with `setMyCommands` for the default scope and this
    /// `language_code` (`None` = no language), as (command, description).
    pub fn commands(&self, language_code: Option<&str>) -> Vec<(String, String)> {
        self.commands_for_scope(&json!({"type": "default"}), language_code)
    }

    /// Commands set for a given `BotCommandScope` JSON (e.g.
    /// `json!({"type":"chat","chat_id":42})`) and language.
    pub fn commands_for_scope(
        &self,
        scope: &Value,
        language_code: Option<&str>,
    ) -> Vec<(String, String)> {
        let key = (
            scope_key(Some(scope)),
            language_code.unwrap_or("").to_owned(),
        );
        self.shared
            .lock()
            .commands
            .get(&key)
            .cloned()
            .unwrap_or_default()
    }

    /// File paths the bot downloaded through `/file/bot<token>/<path>`.
    pub fn downloads(&self) -> Vec<String> {
        self.shared.lock().downloads.clone()
    }

    /// Makes the next `times` calls of `method` (case-insensitive) fail with
    /// `failure` before any other processing. Queues accumulate across calls.
    pub fn fail_next(&self, method: &str, times: usize, failure: Failure) {
        let mut st = self.shared.lock();
        let q = st.failures.entry(method.to_ascii_lowercase()).or_default();
        for _ in 0..times {
            q.push_back(failure.clone());
        }
    }

    /// Number of queued updates the bot has not confirmed yet (delivered or not).
    pub fn pending_updates(&self) -> usize {
        self.shared.lock().queue.len()
    }

    /// A human-readable dump of the chat (bot messages) and recent calls, as
    /// printed by the `wait_*` helpers on timeout. `chat_id` 0 dumps calls only.
    pub fn dump(&self, chat_id: i64) -> String {
        dump(&self.shared.lock(), chat_id)
    }

    // ----- internals --------------------------------------------------------

    async fn wait_inner(&self, timeout: Duration, mut check: impl FnMut() -> bool) -> Option<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut rx = self.shared.changes.subscribe();
        loop {
            rx.borrow_and_update();
            if check() {
                return Some(());
            }
            tokio::select! {
                r = rx.changed() => { if r.is_err() { return None; } }
                _ = tokio::time::sleep_until(deadline) => {
                    return if check() { Some(()) } else { None };
                }
            }
        }
    }

    fn notify_update(&self) {
        self.shared.updates.send_modify(|v| *v += 1);
        self.shared.changed();
    }

    fn registered_size(&self, file_id: &str) -> Option<u64> {
        self.shared
            .lock()
            .files
            .get(file_id)
            .map(|f| f.bytes.len() as u64)
    }

    fn note_file(&self, file_id: &str, dir: &'static str, ext: &str) {
        self.shared
            .lock()
            .file_kinds
            .insert(file_id.to_owned(), (dir, ext.to_owned()));
    }

    fn inject_media(&self, from: &TestUser, field: &str, value: Value) -> i32 {
        let mut fields = Map::new();
        fields.insert(field.into(), value);
        self.inject_message(from.chat_id(), from.private_chat_json(), from, fields)
    }

    fn inject_message(
        &self,
        chat_id: i64,
        chat: Value,
        from: &TestUser,
        fields: Map<String, Value>,
    ) -> i32 {
        let mut st = self.shared.lock();
        st.chats.insert(chat_id, chat.clone());
        let id = st.next_message_id(chat_id);
        let mut msg = Map::new();
        msg.insert("message_id".into(), json!(id));
        msg.insert("from".into(), from.json());
        msg.insert("chat".into(), chat);
        msg.insert("date".into(), json!(unix_now()));
        msg.extend(fields);
        let msg = Value::Object(msg);
        let order = st.bump_order();
        st.messages.insert(
            (chat_id, id),
            StoredMessage {
                json: msg.clone(),
                from_bot: false,
                sent_text: msg["text"].as_str().unwrap_or_default().to_owned(),
                parse_mode: None,
                reply_markup: None,
                edited: false,
                deleted: false,
                document: None,
                order,
            },
        );
        st.push_update("message", msg);
        drop(st);
        self.notify_update();
        id
    }
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.shared.shutdown.send_replace(true);
    }
}

impl TestUser {
    /// Returns a copy with a username (used in `from` and the private chat).
    pub fn with_username(mut self, username: &str) -> TestUser {
        self.username = Some(username.to_owned());
        self
    }

    /// Returns a copy with a last name.
    pub fn with_last_name(mut self, last_name: &str) -> TestUser {
        self.last_name = Some(last_name.to_owned());
        self
    }

    /// Id of the private chat with the bot (== user id).
    pub fn chat_id(&self) -> i64 {
        self.id as i64
    }

    /// The `User` object as Telegram sends it.
    pub fn json(&self) -> Value {
        let mut u = Map::new();
        u.insert("id".into(), json!(self.id));
        u.insert("is_bot".into(), json!(false));
        u.insert("first_name".into(), json!(self.first_name));
        if let Some(l) = &self.last_name {
            u.insert("last_name".into(), json!(l));
        }
        if let Some(n) = &self.username {
            u.insert("username".into(), json!(n));
        }
        if let Some(l) = &self.language_code {
            u.insert("language_code".into(), json!(l));
        }
        Value::Object(u)
    }

    fn private_chat_json(&self) -> Value {
        let mut c = Map::new();
        c.insert("id".into(), json!(self.id));
        c.insert("first_name".into(), json!(self.first_name));
        if let Some(l) = &self.last_name {
            c.insert("last_name".into(), json!(l));
        }
        if let Some(n) = &self.username {
            c.insert("username".into(), json!(n));
        }
        c.insert("type".into(), json!("private"));
        Value::Object(c)
    }
}

impl SentMessage {
    /// The text as the user sees it: markup removed, HTML entities decoded,
    /// surrounding whitespace trimmed (the caption for documents).
    pub fn plain(&self) -> String {
        self.raw
            .get("text")
            .or_else(|| self.raw.get("caption"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    /// The first inline button whose label contains `label`.
    pub fn button(&self, label: &str) -> Option<&Button> {
        self.buttons
            .iter()
            .flatten()
            .find(|b| b.text.contains(label))
    }

    /// All `callback_data` values of the inline keyboard, row by row flattened.
    pub fn callback_datas(&self) -> Vec<String> {
        self.buttons
            .iter()
            .flatten()
            .filter_map(|b| b.callback_data.clone())
            .collect()
    }
}

impl Call {
    /// The error `description` of the response, if it was an error.
    pub fn description(&self) -> Option<&str> {
        self.response.get("description").and_then(Value::as_str)
    }

    /// The `result` of a successful response.
    pub fn result(&self) -> Option<&Value> {
        self.response.get("result")
    }
}

// ---------------------------------------------------------------------------
// State helpers
// ---------------------------------------------------------------------------

impl State {
    fn next_message_id(&mut self, chat_id: i64) -> i32 {
        let e = self.last_message_id.entry(chat_id).or_insert(0);
        *e += 1;
        *e
    }

    fn bump_order(&mut self) -> u64 {
        self.next_order += 1;
        self.next_order
    }

    fn push_update(&mut self, kind: &str, payload: Value) -> Option<i64> {
        if let Some(allowed) = &self.allowed_updates {
            let default_off = ["chat_member", "message_reaction", "message_reaction_count"];
            let ok = if allowed.is_empty() {
                !default_off.contains(&kind)
            } else {
                allowed.iter().any(|a| a == kind)
            };
            if !ok {
                return None;
            }
        }
        let id = self.next_update_id;
        self.next_update_id += 1;
        let mut u = Map::new();
        u.insert("update_id".into(), json!(id));
        u.insert(kind.to_owned(), payload);
        self.history.insert(id, Value::Object(u.clone()));
        self.queue.push_back(QueuedUpdate {
            id,
            json: Value::Object(u),
        });
        Some(id)
    }

    fn confirm(&mut self, offset: i64) {
        if offset > 0 {
            while self.queue.front().is_some_and(|u| u.id < offset) {
                self.queue.pop_front();
            }
        } else if offset < 0 {
            let keep = offset.unsigned_abs() as usize;
            while self.queue.len() > keep {
                self.queue.pop_front();
            }
        }
    }

    fn batch(&self, limit: usize) -> Vec<Value> {
        self.queue
            .iter()
            .take(limit)
            .map(|u| u.json.clone())
            .collect()
    }

    fn sent(&self, chat_id: i64, deleted: bool) -> Vec<SentMessage> {
        let mut v: Vec<&StoredMessage> = self
            .messages
            .iter()
            .filter(|((c, _), m)| *c == chat_id && m.from_bot && m.deleted == deleted)
            .map(|(_, m)| m)
            .collect();
        v.sort_by_key(|m| m.order);
        v.into_iter().map(|m| m.to_sent()).collect()
    }

    fn chat(&self, req: &Req) -> Result<i64, ApiError> {
        let Some(v) = req.params.get("chat_id") else {
            return Err(bad("chat_id is empty"));
        };
        let id = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) if s.trim().is_empty() => return Err(bad("chat_id is empty")),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        match id {
            Some(id) if self.chats.contains_key(&id) => Ok(id),
            _ => Err(bad("chat not found")),
        }
    }

    fn check_blocked(&self, chat_id: i64) -> Result<(), ApiError> {
        if self.blocked.contains(&chat_id) {
            Err(api_err(403, "Forbidden: bot was blocked by the user"))
        } else {
            Ok(())
        }
    }

    fn new_file_id(&mut self, prefix: &str) -> String {
        self.next_file_no += 1;
        format!("{prefix}AgACAgIAAxkDAAI{:08}", self.next_file_no)
    }
}

impl StoredMessage {
    fn to_sent(&self) -> SentMessage {
        SentMessage {
            message_id: self.json["message_id"].as_i64().unwrap_or_default() as i32,
            chat_id: self.json["chat"]["id"].as_i64().unwrap_or_default(),
            text: self.sent_text.clone(),
            parse_mode: self.parse_mode.clone(),
            buttons: buttons_of(&self.json),
            reply_markup: self.reply_markup.clone(),
            reply_to_message_id: self.json["reply_to_message"]["message_id"]
                .as_i64()
                .map(|v| v as i32),
            edited: self.edited,
            document: self.document.clone(),
            raw: self.json.clone(),
        }
    }
}

fn buttons_of(msg: &Value) -> Vec<Vec<Button>> {
    let Some(rows) = msg["reply_markup"]["inline_keyboard"].as_array() else {
        return Vec::new();
    };
    rows.iter()
        .map(|row| {
            row.as_array()
                .map(|r| {
                    r.iter()
                        .map(|b| Button {
                            text: b["text"].as_str().unwrap_or_default().to_owned(),
                            callback_data: b["callback_data"].as_str().map(str::to_owned),
                            url: b["url"].as_str().map(str::to_owned),
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

fn dump(st: &State, chat_id: i64) -> String {
    let mut out = String::new();
    if chat_id != 0 {
        let _ = writeln!(out, "Bot messages in chat {chat_id}:");
        let msgs = st.sent(chat_id, false);
        if msgs.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        for m in msgs {
            let flag = if m.edited { " [edited]" } else { "" };
            let mut text = m.text.clone();
            if text.chars().count() > 400 {
                text = text.chars().take(400).collect::<String>() + "…";
            }
            let _ = writeln!(out, "  #{}{}: {:?}", m.message_id, flag, text);
            if let Some(d) = &m.document {
                let _ = writeln!(
                    out,
                    "      document {:?} ({} bytes)",
                    d.file_name,
                    d.bytes.len()
                );
            }
            for row in &m.buttons {
                let labels: Vec<String> = row
                    .iter()
                    .map(|b| match (&b.callback_data, &b.url) {
                        (Some(d), _) => format!("[{} | {}]", b.text, d),
                        (_, Some(u)) => format!("[{} -> {}]", b.text, u),
                        _ => format!("[{}]", b.text),
                    })
                    .collect();
                let _ = writeln!(out, "      {}", labels.join(" "));
            }
        }
        let deleted = st.sent(chat_id, true);
        if !deleted.is_empty() {
            let ids: Vec<i32> = deleted.iter().map(|m| m.message_id).collect();
            let _ = writeln!(out, "  deleted: {ids:?}");
        }
    }
    let failed: Vec<&Call> = st.calls.iter().filter(|c| c.status >= 300).collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "Failed calls (last 10):");
        for c in failed.iter().rev().take(10).rev() {
            let _ = writeln!(
                out,
                "  {} -> {} {}",
                c.method,
                c.status,
                c.description().unwrap_or_default()
            );
        }
    }
    let recent: Vec<String> = st
        .calls
        .iter()
        .rev()
        .filter(|c| c.method != "getUpdates")
        .take(15)
        .map(|c| format!("{}={}", c.method, c.status))
        .collect();
    let polls = st.calls.iter().filter(|c| c.method == "getUpdates").count();
    let _ = writeln!(
        out,
        "Recent calls (newest first): {}; getUpdates calls: {polls}; pending updates: {}",
        recent.join(", "),
        st.queue.len()
    );
    out
}

fn group_chat_json(chat_id: i64) -> Value {
    if chat_id <= -1_000_000_000_000 {
        json!({"id": chat_id, "title": format!("Test Supergroup {chat_id}"), "type": "supergroup"})
    } else {
        json!({"id": chat_id, "title": format!("Test Group {chat_id}"), "type": "group"})
    }
}

fn file_obj(file_id: &str, size: Option<u64>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("file_id".into(), json!(file_id));
    m.insert("file_unique_id".into(), json!(unique_id_for(file_id)));
    if let Some(s) = size {
        m.insert("file_size".into(), json!(s));
    }
    m
}

fn extension(name: &str) -> Option<String> {
    let (_, ext) = name.rsplit_once('.')?;
    if ext.is_empty() || ext.len() > 8 || !ext.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

fn guess_mime(file_name: &str) -> &'static str {
    match extension(file_name).as_deref() {
        Some("txt") | Some("log") => "text/plain",
        Some("md") | Some("markdown") => "text/markdown",
        Some("csv") => "text/csv",
        Some("html") | Some("htm") => "text/html",
        Some("json") => "application/json",
        Some("pdf") => "application/pdf",
        Some("zip") => "application/zip",
        Some("xml") => "application/xml",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("ogg") | Some("oga") | Some("opus") => "audio/ogg",
        Some("mp3") => "audio/mpeg",
        Some("m4a") => "audio/mp4",
        Some("wav") => "audio/x-wav",
        Some("jpg") | Some("jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("mp4") => "video/mp4",
        _ => "application/octet-stream",
    }
}

fn random_token() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut seed = {
        let mut h = RandomState::new().build_hasher();
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.finish()
    };
    let mut next = || {
        // xorshift64*
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let id = 1_000_000_000 + next() % 8_999_999_999;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut secret = String::from("AAFake");
    while secret.len() < 35 {
        secret.push(ALPHABET[(next() % ALPHABET.len() as u64) as usize] as char);
    }
    format!("{id}:{secret}")
}

// ---------------------------------------------------------------------------
// HTTP layer
// ---------------------------------------------------------------------------

#[derive(Default)]
struct Req {
    params: Map<String, Value>,
    files: HashMap<String, Upload>,
}

struct Upload {
    file_name: String,
    mime: Option<String>,
    bytes: Vec<u8>,
}

impl Req {
    fn str(&self, k: &str) -> Option<String> {
        match self.params.get(k)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            other => Some(other.to_string()),
        }
    }

    fn int(&self, k: &str) -> Option<i64> {
        match self.params.get(k)? {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn flag(&self, k: &str) -> bool {
        match self.params.get(k) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => matches!(s.trim(), "true" | "True" | "1"),
            Some(Value::Number(n)) => n.as_i64() == Some(1),
            _ => false,
        }
    }

    /// A JSON-valued parameter (given as JSON in a JSON body, or as a JSON string
    /// in a form). `Err(())` when it is a string that is not valid JSON.
    fn json(&self, k: &str) -> Result<Option<Value>, ()> {
        match self.params.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s).map(Some).map_err(|_| ()),
            Some(v) => Ok(Some(v.clone())),
        }
    }

    /// Params for [`Call::params`]: uploads are described instead of included, and
    /// `"attach://<name>"` references (teloxide's way of uploading) are resolved.
    fn recorded_params(&self) -> Value {
        let describe = |f: &Upload| json!({"file_name": f.file_name, "mime_type": f.mime, "size": f.bytes.len()});
        let mut p = self.params.clone();
        let mut attached = HashSet::new();
        for v in p.values_mut() {
            let target = v
                .as_str()
                .and_then(|s| s.strip_prefix("attach://"))
                .map(str::to_owned);
            if let Some(f) = target.as_deref().and_then(|t| self.files.get(t)) {
                *v = describe(f);
                attached.insert(target.expect("target"));
            }
        }
        for (k, f) in &self.files {
            if !attached.contains(k) {
                p.insert(k.clone(), describe(f));
            }
        }
        Value::Object(p)
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_urlencoded(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

async fn parse_request(req: Request) -> Result<Req, ApiError> {
    let mut out = Req::default();
    if let Some(q) = req.uri().query() {
        for (k, v) in parse_urlencoded(q) {
            out.params.insert(k, Value::String(v));
        }
    }
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ct.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, &())
            .await
            .map_err(|e| bad(&format!("can't parse multipart/form-data: {e}")))?;
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return Err(bad(&format!("can't parse multipart/form-data: {e}"))),
            };
            let name = field.name().unwrap_or_default().to_owned();
            let file_name = field.file_name().map(str::to_owned);
            let mime = field.content_type().map(str::to_owned);
            let data = field
                .bytes()
                .await
                .map_err(|e| bad(&format!("can't parse multipart/form-data: {e}")))?;
            match file_name {
                Some(file_name) => {
                    if data.len() > MAX_UPLOAD_BYTES {
                        return Err(api_err(413, "Request Entity Too Large"));
                    }
                    out.files.insert(
                        name,
                        Upload {
                            file_name,
                            mime,
                            bytes: data.to_vec(),
                        },
                    );
                }
                None => {
                    out.params.insert(
                        name,
                        Value::String(String::from_utf8_lossy(&data).into_owned()),
                    );
                }
            }
        }
        return Ok(out);
    }
    let body = axum::body::to_bytes(req.into_body(), MAX_UPLOAD_BYTES + 1024 * 1024)
        .await
        .map_err(|_| api_err(413, "Request Entity Too Large"))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(out);
    }
    if ct.starts_with("application/x-www-form-urlencoded") {
        for (k, v) in parse_urlencoded(&String::from_utf8_lossy(&body)) {
            out.params.insert(k, Value::String(v));
        }
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(m)) => out.params.extend(m),
            Ok(_) => {}
            Err(_) => return Err(bad("can't parse JSON body")),
        }
    }
    Ok(out)
}

fn json_response(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("response")
}

fn error_body(e: &ApiError) -> Value {
    let mut m = Map::new();
    m.insert("ok".into(), json!(false));
    m.insert("error_code".into(), json!(e.code));
    m.insert("description".into(), json!(e.description));
    if let Some(p) = &e.parameters {
        m.insert("parameters".into(), p.clone());
    }
    Value::Object(m)
}

const BAD_GATEWAY_HTML: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n";

async fn handle(AxumState(sh): AxumState<Arc<Shared>>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if let Some(rest) = path.strip_prefix("/file/bot") {
        return download(&sh, rest);
    }
    let Some(rest) = path.strip_prefix("/bot") else {
        return json_response(404, &error_body(&api_err(404, "Not Found")));
    };
    let (token, method) = rest.split_once('/').unwrap_or((rest, ""));
    let token = percent_decode(token);
    let method = percent_decode(method);
    let received_at = Instant::now();
    let parsed = parse_request(req).await;
    let params = parsed
        .as_ref()
        .map(Req::recorded_params)
        .unwrap_or(Value::Null);
    let canonical = METHODS
        .iter()
        .find(|m| m.eq_ignore_ascii_case(&method))
        .copied();
    let name = canonical
        .map(str::to_owned)
        .unwrap_or_else(|| method.clone());

    let idx = {
        let mut st = sh.lock();
        st.calls.push(Call {
            method: name.clone(),
            params,
            received_at,
            status: 0,
            response: Value::Null,
        });
        st.calls.len() - 1
    };
    sh.changed();

    let outcome: Result<Value, ApiError> = async {
        if token != sh.token {
            return Err(api_err(401, "Unauthorized"));
        }
        let Some(method) = canonical else {
            return Err(api_err(404, "Not Found"));
        };
        let req = parsed?;
        let injected = sh
            .lock()
            .failures
            .get_mut(&method.to_ascii_lowercase())
            .and_then(VecDeque::pop_front);
        if let Some(f) = injected {
            return Err(match f {
                Failure::RetryAfter(n) => ApiError {
                    code: 429,
                    description: format!("Too Many Requests: retry after {n}"),
                    parameters: Some(json!({"retry_after": n})),
                    html: false,
                },
                Failure::Status(code, d) => api_err(code, d),
                Failure::InternalServerError => api_err(500, "Internal Server Error"),
                Failure::BadGateway => ApiError {
                    html: true,
                    ..api_err(502, "Bad Gateway")
                },
                Failure::Unauthorized => api_err(401, "Unauthorized"),
            });
        }
        if method == "getUpdates" {
            return get_updates(&sh, &req).await;
        }
        let mut st = sh.lock();
        dispatch(&mut st, &sh, method, &req)
    }
    .await;

    let (status, body, html) = match outcome {
        Ok(result) => (200, json!({"ok": true, "result": result}), false),
        Err(e) if e.html => (502, Value::String(BAD_GATEWAY_HTML.into()), true),
        Err(e) => (e.code, error_body(&e), false),
    };
    {
        let mut st = sh.lock();
        if let Some(c) = st.calls.get_mut(idx) {
            c.status = status;
            c.response = body.clone();
        }
    }
    sh.changed();
    if html {
        return Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .header(header::CONTENT_TYPE, "text/html")
            .body(Body::from(BAD_GATEWAY_HTML))
            .expect("response");
    }
    json_response(status, &body)
}

fn download(sh: &Arc<Shared>, rest: &str) -> Response {
    let (token, path) = rest.split_once('/').unwrap_or((rest, ""));
    if percent_decode(token) != sh.token {
        return json_response(401, &error_body(&api_err(401, "Unauthorized")));
    }
    let path = percent_decode(path);
    let bytes = {
        let mut st = sh.lock();
        st.downloads.push(path.clone());
        st.files
            .values()
            .find(|f| f.path.as_deref() == Some(path.as_str()))
            .map(|f| f.bytes.clone())
    };
    sh.changed();
    match bytes {
        Some(b) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(b))
            .expect("response"),
        None => json_response(404, &error_body(&api_err(404, "Not Found"))),
    }
}

async fn get_updates(sh: &Arc<Shared>, req: &Req) -> Result<Value, ApiError> {
    let offset = req.int("offset").unwrap_or(0);
    let limit = req.int("limit").unwrap_or(100).clamp(1, 100) as usize;
    let timeout = req.int("timeout").unwrap_or(0).max(0) as u64;
    let allowed = match req.json("allowed_updates") {
        Ok(Some(Value::Array(a))) => Some(
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect::<Vec<_>>(),
        ),
        Ok(_) => None,
        Err(()) => return Err(bad("can't parse allowed updates")),
    };
    let mut upd_rx = sh.updates.subscribe();
    let mut poll_rx = sh.polls.subscribe();
    let mut stop_rx = sh.shutdown.subscribe();
    let my_gen;
    {
        let mut st = sh.lock();
        if !st.webhook_url.is_empty() {
            return Err(api_err(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            ));
        }
        if let Some(a) = allowed {
            st.allowed_updates = Some(a);
        }
        st.confirm(offset);
        let mut g = 0;
        sh.polls.send_modify(|v| {
            *v += 1;
            g = *v;
        });
        my_gen = g;
        poll_rx.borrow_and_update();
        upd_rx.borrow_and_update();
        let batch = st.batch(limit);
        if !batch.is_empty() || timeout == 0 {
            return Ok(Value::Array(batch));
        }
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        tokio::select! {
            r = upd_rx.changed() => {
                if r.is_err() { return Ok(json!([])); }
                let batch = sh.lock().batch(limit);
                if !batch.is_empty() { return Ok(Value::Array(batch)); }
            }
            r = poll_rx.changed() => {
                if r.is_err() { return Ok(json!([])); }
                if *poll_rx.borrow_and_update() != my_gen { return Err(api_err(409, DESC_CONFLICT)); }
            }
            _ = stop_rx.wait_for(|v| *v) => return Ok(json!([])),
            _ = tokio::time::sleep_until(deadline) => return Ok(json!([])),
        }
    }
}

// ---------------------------------------------------------------------------
// Methods
// ---------------------------------------------------------------------------

fn dispatch(st: &mut State, sh: &Shared, method: &str, req: &Req) -> Result<Value, ApiError> {
    match method {
        "getMe" => Ok(json!({
            "id": sh.bot_id,
            "is_bot": true,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
            "can_join_groups": true,
            "can_read_all_group_messages": false,
            "supports_inline_queries": false,
            "can_connect_to_business": false,
            "has_main_web_app": false,
        })),
        "getWebhookInfo" => {
            let mut info = json!({
                "url": st.webhook_url,
                "has_custom_certificate": false,
                "pending_update_count": st.queue.len(),
            });
            if !st.webhook_url.is_empty() {
                info["max_connections"] = json!(st.webhook_connections);
            }
            if let Some(error) = &st.webhook_error {
                info["last_error_date"] = json!(unix_now());
                info["last_error_message"] = json!(error);
            }
            Ok(info)
        }
        "setWebhook" => set_webhook(st, req),
        "deleteWebhook" => {
            st.webhook_url.clear();
            st.webhook_secret = None;
            if req.flag("drop_pending_updates") {
                st.queue.clear();
            }
            Ok(json!(true))
        }
        "setMyCommands" => set_my_commands(st, req),
        "getMyCommands" => {
            let key = command_key(req)?;
            let list = st.commands.get(&key).cloned().unwrap_or_default();
            Ok(Value::Array(
                list.into_iter()
                    .map(|(c, d)| json!({"command": c, "description": d}))
                    .collect(),
            ))
        }
        "deleteMyCommands" => {
            let key = command_key(req)?;
            st.commands.remove(&key);
            Ok(json!(true))
        }
        "sendMessage" => send_message(st, req),
        "editMessageText" => edit_message(st, req, EditKind::Text),
        "editMessageCaption" => edit_message(st, req, EditKind::Caption),
        "editMessageReplyMarkup" => edit_message(st, req, EditKind::Markup),
        "deleteMessage" => {
            let chat_id = st.chat(req)?;
            let Some(mid) = req.int("message_id") else {
                return Err(bad("message identifier is not specified"));
            };
            let is_private = st.chats[&chat_id]["type"] == "private";
            match st.messages.get_mut(&(chat_id, mid as i32)) {
                Some(m) if !m.deleted => {
                    if !m.from_bot && !is_private {
                        return Err(bad("message can't be deleted"));
                    }
                    m.deleted = true;
                    Ok(json!(true))
                }
                _ => Err(bad("message to delete not found")),
            }
        }
        "answerCallbackQuery" => {
            let id = req.str("callback_query_id").unwrap_or_default();
            match st.queries.get_mut(&id) {
                Some((answered, at)) if !*answered && at.elapsed() <= CALLBACK_ANSWER_WINDOW => {
                    *answered = true
                }
                _ => return Err(bad(DESC_QUERY_INVALID)),
            }
            if req.str("text").is_some_and(|t| t.chars().count() > 200) {
                return Err(bad("MESSAGE_TOO_LONG"));
            }
            st.answers.push(CallbackAnswer {
                query_id: id,
                text: req.str("text"),
                show_alert: req.flag("show_alert"),
                url: req.str("url"),
            });
            Ok(json!(true))
        }
        "sendChatAction" => {
            let chat_id = st.chat(req)?;
            st.check_blocked(chat_id)?;
            let action = req.str("action").unwrap_or_default();
            if !CHAT_ACTIONS.contains(&action.as_str()) {
                return Err(bad("wrong parameter action in request"));
            }
            st.actions
                .entry(chat_id)
                .or_default()
                .push((action, Instant::now()));
            Ok(json!(true))
        }
        "sendDocument" => send_document(st, req),
        "sendMessageDraft" => send_message_draft(st, req),
        "getFile" => {
            let id = req.str("file_id").unwrap_or_default();
            if id.is_empty() {
                return Err(bad("file_id is empty"));
            }
            let next_no = st.next_file_no + 1;
            let kind = st.file_kinds.get(&id).cloned();
            let Some(f) = st.files.get_mut(&id) else {
                return Err(bad("invalid file_id"));
            };
            if f.bytes.len() > MAX_DOWNLOAD_BYTES {
                return Err(bad("file is too big"));
            }
            let mut assigned = false;
            if f.path.is_none() {
                let (dir, ext) = kind.unwrap_or(("documents", String::new()));
                let dot = if ext.is_empty() { "" } else { "." };
                f.path = Some(format!("{dir}/file_{next_no}{dot}{ext}"));
                assigned = true;
            }
            let res = json!({
                "file_id": id,
                "file_unique_id": f.unique_id,
                "file_size": f.bytes.len(),
                "file_path": f.path,
            });
            if assigned {
                st.next_file_no = next_no;
            }
            Ok(res)
        }
        _ => Err(api_err(404, "Not Found")),
    }
}

fn scope_key(scope: Option<&Value>) -> String {
    match scope {
        None | Some(Value::Null) => "default".into(),
        Some(Value::Object(m)) => {
            if m.get("type").and_then(Value::as_str) == Some("default") {
                return "default".into();
            }
            // serde_json's Map is ordered by key, so this is canonical.
            let norm: Map<String, Value> = m
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s
                            .parse::<i64>()
                            .map(|i| json!(i))
                            .unwrap_or_else(|_| v.clone()),
                        _ => v.clone(),
                    };
                    (k.clone(), v)
                })
                .collect();
            Value::Object(norm).to_string()
        }
        Some(other) => other.to_string(),
    }
}

fn command_key(req: &Req) -> Result<(String, String), ApiError> {
    let scope = req
        .json("scope")
        .map_err(|_| bad("can't parse BotCommandScope JSON object"))?;
    let lang = req.str("language_code").unwrap_or_default();
    if !(lang.is_empty() || (lang.len() == 2 && lang.chars().all(|c| c.is_ascii_lowercase()))) {
        return Err(bad("invalid language code specified"));
    }
    Ok((scope_key(scope.as_ref()), lang))
}

fn set_my_commands(st: &mut State, req: &Req) -> Result<Value, ApiError> {
    let key = command_key(req)?;
    let cmds = match req.json("commands") {
        Ok(Some(Value::Array(a))) => a,
        Ok(_) => return Err(bad("commands must be an array")),
        Err(()) => return Err(bad("can't parse commands JSON object")),
    };
    if cmds.len() > 100 {
        return Err(bad("too much commands"));
    }
    let mut list = Vec::new();
    for c in cmds {
        let command = c["command"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned();
        let description = c["description"].as_str().unwrap_or_default().to_owned();
        let valid = !command.is_empty()
            && command.len() <= 32
            && command
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
        if !valid {
            return Err(bad("BOT_COMMAND_INVALID"));
        }
        let dlen = description.trim().chars().count();
        if dlen == 0 || dlen > 256 {
            return Err(bad("BOT_COMMAND_DESCRIPTION_INVALID"));
        }
        list.push((command, description));
    }
    if list.is_empty() {
        st.commands.remove(&key);
    } else {
        st.commands.insert(key, list);
    }
    Ok(json!(true))
}

/// Parses and validates `reply_markup`; returns (markup as sent, inline markup
/// to attach to the message).
fn parse_markup(req: &Req) -> Result<(Option<Value>, Option<Value>), ApiError> {
    let markup = match req.json("reply_markup") {
        Ok(Some(Value::Object(m))) => Value::Object(m),
        Ok(None) => return Ok((None, None)),
        _ => return Err(bad("can't parse reply keyboard markup JSON object")),
    };
    let Some(kb) = markup.get("inline_keyboard") else {
        if markup.get("keyboard").is_none()
            && markup.get("remove_keyboard").is_none()
            && markup.get("force_reply").is_none()
        {
            return Err(bad("can't parse reply keyboard markup JSON object"));
        }
        return Ok((Some(markup), None));
    };
    let Some(rows) = kb.as_array() else {
        return Err(bad(
            "can't parse inline keyboard: field \"inline_keyboard\" must be an Array",
        ));
    };
    let mut clean_rows = Vec::new();
    for row in rows {
        let Some(row) = row.as_array() else {
            return Err(bad(
                "can't parse inline keyboard: keyboard row must be an Array",
            ));
        };
        let mut clean = Vec::new();
        for b in row {
            let Some(obj) = b.as_object() else {
                return Err(bad(
                    "can't parse inline keyboard button: InlineKeyboardButton must be an Object",
                ));
            };
            let Some(text) = obj.get("text").and_then(Value::as_str) else {
                return Err(bad(
                    "can't parse inline keyboard button: Text must be a String",
                ));
            };
            if text.is_empty() {
                return Err(bad("BUTTON_TEXT_INVALID"));
            }
            if let Some(d) = obj.get("callback_data") {
                let d = d.as_str().unwrap_or_default();
                if d.is_empty() || d.len() > MAX_CALLBACK_DATA_BYTES {
                    return Err(bad("BUTTON_DATA_INVALID"));
                }
            }
            if let Some(u) = obj.get("url")
                && u.as_str().unwrap_or_default().trim().is_empty()
            {
                return Err(bad("BUTTON_URL_INVALID"));
            }
            let actions = [
                "url",
                "callback_data",
                "web_app",
                "login_url",
                "switch_inline_query",
                "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat",
                "copy_text",
                "callback_game",
                "pay",
            ];
            if !actions
                .iter()
                .any(|a| obj.get(*a).is_some_and(|v| !v.is_null()))
            {
                return Err(bad(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
                ));
            }
            let kept: Map<String, Value> = obj
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            clean.push(Value::Object(kept));
        }
        if !clean.is_empty() {
            clean_rows.push(Value::Array(clean));
        }
    }
    let inline = if clean_rows.is_empty() {
        None
    } else {
        Some(json!({"inline_keyboard": clean_rows}))
    };
    Ok((Some(markup), inline))
}

fn resolve_reply(st: &State, chat_id: i64, req: &Req) -> Result<Option<Value>, ApiError> {
    let params = req
        .json("reply_parameters")
        .map_err(|_| bad("can't parse reply parameters JSON object"))?;
    let (target_chat, mid, allow) = match params {
        Some(p) => {
            let mid = p["message_id"]
                .as_i64()
                .or_else(|| p["message_id"].as_str().and_then(|s| s.parse().ok()));
            let chat = p["chat_id"].as_i64().unwrap_or(chat_id);
            (
                chat,
                mid,
                p["allow_sending_without_reply"].as_bool().unwrap_or(false),
            )
        }
        None => (
            chat_id,
            req.int("reply_to_message_id"),
            req.flag("allow_sending_without_reply"),
        ),
    };
    let Some(mid) = mid else { return Ok(None) };
    match st.messages.get(&(target_chat, mid as i32)) {
        Some(m) if !m.deleted => {
            let mut j = m.json.clone();
            if let Some(o) = j.as_object_mut() {
                o.remove("reply_to_message");
            }
            Ok(Some(j))
        }
        _ if allow => Ok(None),
        _ => Err(bad("message to be replied not found")),
    }
}

/// Applies parse_mode / entities to `text`; returns (text, entities) as stored
/// by Telegram (trimmed). Parse errors become "can't parse entities".
fn format_text(
    st: &State,
    text: &str,
    parse_mode: Option<&str>,
    entities: Result<Option<Value>, ()>,
) -> Result<(String, Vec<Value>), ApiError> {
    let mode = parse_mode
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let parsed = match mode.as_str() {
        "" => {
            let ents = match entities {
                Ok(Some(Value::Array(a))) => a,
                Ok(_) => Vec::new(),
                Err(()) => return Err(bad("can't parse entities JSON object")),
            };
            Ok((text.to_owned(), ents))
        }
        "html" => parse_html(text, st.strict_ampersand),
        "markdownv2" => parse_markdown_v2(text),
        "markdown" => parse_markdown_legacy(text),
        _ => return Err(bad("unsupported parse_mode")),
    };
    let (plain, ents) = parsed.map_err(|reason| bad(&format!("can't parse entities: {reason}")))?;
    Ok(trim_text(plain, drop_nested_in_code(ents)))
}

/// `sendMessageDraft`: private chats only, a non-zero `draft_id`, text of 0 to 4096
/// characters after entity parsing (empty shows the placeholder). The error descriptions
/// are this fake's: Telegram documents the rules, not the words of each refusal.
fn send_message_draft(st: &mut State, req: &Req) -> Result<Value, ApiError> {
    let chat_id = st.chat(req)?;
    st.check_blocked(chat_id)?;
    if st.chats[&chat_id]["type"] != "private" {
        return Err(bad("TEXTDRAFT_PEER_INVALID"));
    }
    let draft_id = match req.int("draft_id") {
        None => return Err(bad("parameter \"draft_id\" is required")),
        Some(0) => return Err(bad("draft_id must be non-zero")),
        Some(id) => id,
    };
    let raw_text = req.str("text").unwrap_or_default();
    let parse_mode = req.str("parse_mode").filter(|p| !p.is_empty());
    let (text, _) = format_text(st, &raw_text, parse_mode.as_deref(), req.json("entities"))?;
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(bad("text is too long"));
    }
    let messages_before = st.bot_sends.get(&chat_id).map_or(0, Vec::len);
    st.drafts.entry(chat_id).or_default().push(SentDraft {
        draft_id,
        text: raw_text,
        messages_before,
        at: Instant::now(),
    });
    Ok(json!(true))
}

/// `setWebhook`: an https URL (the fake also takes http on the loopback interface, since tests
/// have no certificates), a `secret_token` of 1-256 characters from `A-Z a-z 0-9 _ -`, and
/// `max_connections` from 1 to 100.
fn set_webhook(st: &mut State, req: &Req) -> Result<Value, ApiError> {
    let url = req.str("url").unwrap_or_default();
    let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"];
    if url.is_empty() {
        return Err(bad("url is empty"));
    }
    if !url.starts_with("https://") && !loopback.iter().any(|p| url.starts_with(p)) {
        return Err(bad(
            "bad webhook: An HTTPS URL must be provided for webhook",
        ));
    }
    let secret = req.str("secret_token").filter(|s| !s.is_empty());
    if let Some(secret) = &secret
        && (secret.len() > 256
            || !secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
    {
        return Err(bad("secret token contains unallowed characters"));
    }
    let connections = req.int("max_connections").unwrap_or(40);
    if !(1..=100).contains(&connections) {
        return Err(bad(
            "bad webhook: max_connections must be between 1 and 100",
        ));
    }
    st.webhook_url = url;
    st.webhook_secret = secret;
    st.webhook_connections = connections as u32;
    st.webhook_error = None;
    if req.flag("drop_pending_updates") {
        st.queue.clear();
    }
    Ok(json!(true))
}

fn send_message(st: &mut State, req: &Req) -> Result<Value, ApiError> {
    let chat_id = st.chat(req)?;
    st.check_blocked(chat_id)?;
    let raw_text = req.str("text").unwrap_or_default();
    if raw_text.is_empty() {
        return Err(bad("message text is empty"));
    }
    let parse_mode = req.str("parse_mode").filter(|p| !p.is_empty());
    let (text, ents) = format_text(st, &raw_text, parse_mode.as_deref(), req.json("entities"))?;
    if text.is_empty() {
        return Err(bad("message text is empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(bad("message is too long"));
    }
    let (markup, inline) = parse_markup(req)?;
    let reply = resolve_reply(st, chat_id, req)?;
    let id = st.next_message_id(chat_id);
    let mut m = Map::new();
    m.insert("message_id".into(), json!(id));
    m.insert("from".into(), st.bot_user.clone());
    m.insert("chat".into(), st.chats[&chat_id].clone());
    m.insert("date".into(), json!(unix_now()));
    if let Some(r) = reply {
        m.insert("reply_to_message".into(), r);
    }
    m.insert("text".into(), json!(text));
    if !ents.is_empty() {
        m.insert("entities".into(), Value::Array(ents));
    }
    if let Ok(Some(Value::Object(lp))) = req.json("link_preview_options") {
        let lp: Map<String, Value> = lp
            .into_iter()
            .filter(|(_, v)| !v.is_null() && *v != json!(false))
            .collect();
        if !lp.is_empty() {
            m.insert("link_preview_options".into(), Value::Object(lp));
        }
    }
    if let Some(i) = inline {
        m.insert("reply_markup".into(), i);
    }
    let json = Value::Object(m);
    let order = st.bump_order();
    st.bot_sends
        .entry(chat_id)
        .or_default()
        .push(Instant::now());
    st.messages.insert(
        (chat_id, id),
        StoredMessage {
            json: json.clone(),
            from_bot: true,
            sent_text: raw_text,
            parse_mode,
            reply_markup: markup,
            edited: false,
            deleted: false,
            document: None,
            order,
        },
    );
    Ok(json)
}

fn send_document(st: &mut State, req: &Req) -> Result<Value, ApiError> {
    let chat_id = st.chat(req)?;
    st.check_blocked(chat_id)?;
    let upload = match (req.files.get("document"), req.str("document")) {
        (Some(u), _) => Some(u),
        (None, Some(s)) if s.starts_with("attach://") => Some(
            req.files
                .get(&s["attach://".len()..])
                .ok_or_else(|| bad("there is no document in the request"))?,
        ),
        _ => None,
    };
    let (file_name, bytes, explicit_mime) = match upload {
        Some(u) => (u.file_name.clone(), u.bytes.clone(), u.mime.clone()),
        None => {
            let Some(id) = req.str("document").filter(|s| !s.is_empty()) else {
                return Err(bad("there is no document in the request"));
            };
            if id.starts_with("http://") || id.starts_with("https://") {
                return Err(bad("failed to get HTTP URL content"));
            }
            match st.files.get(&id) {
                Some(f) => {
                    let ext = st
                        .file_kinds
                        .get(&id)
                        .map(|(_, e)| e.clone())
                        .unwrap_or_default();
                    let name = if ext.is_empty() {
                        "document".to_owned()
                    } else {
                        format!("document.{ext}")
                    };
                    (name, f.bytes.clone(), None)
                }
                None => return Err(bad("wrong file identifier/HTTP URL specified")),
            }
        }
    };
    if bytes.is_empty() {
        return Err(bad("file must be non-empty"));
    }
    let raw_caption = req.str("caption").filter(|c| !c.is_empty());
    let parse_mode = req.str("parse_mode").filter(|p| !p.is_empty());
    let (caption, cents) = match &raw_caption {
        Some(c) => format_text(st, c, parse_mode.as_deref(), req.json("caption_entities"))?,
        None => (String::new(), Vec::new()),
    };
    if caption.chars().count() > MAX_CAPTION_CHARS {
        return Err(bad("message caption is too long"));
    }
    let (markup, inline) = parse_markup(req)?;
    let reply = resolve_reply(st, chat_id, req)?;
    let mime = explicit_mime
        .filter(|m| !m.is_empty() && m != "application/octet-stream")
        .unwrap_or_else(|| guess_mime(&file_name).to_owned());
    let file_id = st.new_file_id("BQAC");
    let ext = extension(&file_name).unwrap_or_default();
    st.files.insert(
        file_id.clone(),
        FileEntry {
            bytes: bytes.clone(),
            unique_id: unique_id_for(&file_id),
            path: None,
        },
    );
    st.file_kinds.insert(file_id.clone(), ("documents", ext));
    let id = st.next_message_id(chat_id);
    let mut m = Map::new();
    m.insert("message_id".into(), json!(id));
    m.insert("from".into(), st.bot_user.clone());
    m.insert("chat".into(), st.chats[&chat_id].clone());
    m.insert("date".into(), json!(unix_now()));
    if let Some(r) = reply {
        m.insert("reply_to_message".into(), r);
    }
    m.insert(
        "document".into(),
        json!({
            "file_name": file_name,
            "mime_type": mime,
            "file_id": file_id,
            "file_unique_id": unique_id_for(&file_id),
            "file_size": bytes.len(),
        }),
    );
    if !caption.is_empty() {
        m.insert("caption".into(), json!(caption));
        if !cents.is_empty() {
            m.insert("caption_entities".into(), Value::Array(cents));
        }
    }
    if let Some(i) = inline {
        m.insert("reply_markup".into(), i);
    }
    let json = Value::Object(m);
    let order = st.bump_order();
    st.bot_sends
        .entry(chat_id)
        .or_default()
        .push(Instant::now());
    st.messages.insert(
        (chat_id, id),
        StoredMessage {
            json: json.clone(),
            from_bot: true,
            sent_text: raw_caption.clone().unwrap_or_default(),
            parse_mode: parse_mode.clone(),
            reply_markup: markup,
            edited: false,
            deleted: false,
            document: Some(SentDocument {
                message_id: id,
                chat_id,
                file_id,
                file_name,
                bytes,
                caption: raw_caption,
                parse_mode,
                mime,
            }),
            order,
        },
    );
    Ok(json)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum EditKind {
    Text,
    Caption,
    Markup,
}

fn edit_message(st: &mut State, req: &Req, kind: EditKind) -> Result<Value, ApiError> {
    if req.str("inline_message_id").is_some_and(|s| !s.is_empty()) {
        return Err(bad("MESSAGE_ID_INVALID"));
    }
    let chat_id = st.chat(req)?;
    let Some(mid) = req.int("message_id") else {
        return Err(bad("message identifier is not specified"));
    };
    let raw_text = match kind {
        EditKind::Text => {
            let t = req.str("text").unwrap_or_default();
            if t.is_empty() {
                return Err(bad("message text is empty"));
            }
            t
        }
        EditKind::Caption => req.str("caption").unwrap_or_default(),
        EditKind::Markup => String::new(),
    };
    let parse_mode = req.str("parse_mode").filter(|p| !p.is_empty());
    let (old_json, from_bot) = match st.messages.get(&(chat_id, mid as i32)) {
        Some(m) if !m.deleted => (m.json.clone(), m.from_bot),
        _ => return Err(bad("message to edit not found")),
    };
    if !from_bot {
        return Err(bad("message can't be edited"));
    }
    let (field, ents_field) = match kind {
        EditKind::Text => ("text", "entities"),
        _ => ("caption", "caption_entities"),
    };
    let mut new_json = old_json.clone();
    let obj = new_json.as_object_mut().expect("message object");
    match kind {
        EditKind::Text => {
            if old_json.get("text").is_none() {
                return Err(bad("there is no text in the message to edit"));
            }
            let (text, ents) =
                format_text(st, &raw_text, parse_mode.as_deref(), req.json("entities"))?;
            if text.is_empty() {
                return Err(bad("message text is empty"));
            }
            if text.chars().count() > MAX_TEXT_CHARS {
                return Err(bad("MESSAGE_TOO_LONG"));
            }
            obj.insert(field.into(), json!(text));
            set_or_remove(obj, ents_field, ents);
        }
        EditKind::Caption => {
            if old_json.get("document").is_none() {
                return Err(bad("there is no caption in the message to edit"));
            }
            let (cap, ents) = if raw_text.is_empty() {
                (String::new(), Vec::new())
            } else {
                format_text(
                    st,
                    &raw_text,
                    parse_mode.as_deref(),
                    req.json("caption_entities"),
                )?
            };
            if cap.chars().count() > MAX_CAPTION_CHARS {
                return Err(bad("message caption is too long"));
            }
            if cap.is_empty() {
                obj.remove(field);
            } else {
                obj.insert(field.into(), json!(cap));
            }
            set_or_remove(obj, ents_field, ents);
        }
        EditKind::Markup => {}
    }
    let (markup, inline) = parse_markup(req)?;
    if markup
        .as_ref()
        .is_some_and(|m| m.get("inline_keyboard").is_none())
    {
        return Err(bad("can't parse inline keyboard markup JSON object"));
    }
    match &inline {
        Some(i) => obj.insert("reply_markup".into(), i.clone()),
        None => obj.remove("reply_markup"),
    };
    let same = |k: &str| old_json.get(k) == new_json.get(k);
    if same("text")
        && same("entities")
        && same("caption")
        && same("caption_entities")
        && same("reply_markup")
    {
        return Err(bad(DESC_NOT_MODIFIED));
    }
    new_json["edit_date"] = json!(unix_now());
    let m = st
        .messages
        .get_mut(&(chat_id, mid as i32))
        .expect("message");
    m.json = new_json.clone();
    m.edited = true;
    m.reply_markup = markup;
    match kind {
        EditKind::Text => {
            m.sent_text = raw_text;
            m.parse_mode = parse_mode;
        }
        EditKind::Caption => {
            m.sent_text = raw_text.clone();
            m.parse_mode = parse_mode.clone();
            if let Some(d) = &mut m.document {
                d.caption = Some(raw_text).filter(|c| !c.is_empty());
                d.parse_mode = parse_mode;
            }
        }
        EditKind::Markup => {}
    }
    Ok(new_json)
}

fn set_or_remove(obj: &mut Map<String, Value>, key: &str, ents: Vec<Value>) {
    if ents.is_empty() {
        obj.remove(key);
    } else {
        obj.insert(key.into(), Value::Array(ents));
    }
}

// ---------------------------------------------------------------------------
// Text formatting: entities, HTML, MarkdownV2, Markdown
// ---------------------------------------------------------------------------

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

fn entity(kind: &str, offset: usize, length: usize) -> Value {
    json!({"type": kind, "offset": offset, "length": length})
}

/// `bot_command` entities for every `/command` at the start of a word.
fn command_entities(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut off16 = 0;
    let mut prev: Option<char> = None;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let (i, c) = chars[k];
        if c == '/' && prev.is_none_or(char::is_whitespace) {
            let rest = &text[i + 1..];
            let name_len = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(rest.len());
            if name_len > 0 {
                let mut len = 1 + name_len;
                if let Some(after) = rest[name_len..].strip_prefix('@') {
                    let u = after
                        .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                        .unwrap_or(after.len());
                    if u > 0 {
                        len += 1 + u;
                    }
                }
                out.push(entity("bot_command", off16, len));
                // ASCII only, so byte length == UTF-16 length == char count.
                off16 += len;
                k += len;
                prev = Some('x');
                continue;
            }
        }
        off16 += c.len_utf16();
        prev = Some(c);
        k += 1;
    }
    out
}

/// `pre` and `code` entities cannot contain other entities: like the real
/// server, drop entities nested inside them (an inner `code` spanning the same
/// range as its `pre` is dropped too).
fn drop_nested_in_code(ents: Vec<Value>) -> Vec<Value> {
    let span = |e: &Value| {
        let o = e["offset"].as_u64().unwrap_or(0);
        (o, o + e["length"].as_u64().unwrap_or(0))
    };
    let codes: Vec<(usize, (u64, u64), bool)> = ents
        .iter()
        .enumerate()
        .filter(|(_, e)| e["type"] == "pre" || e["type"] == "code")
        .map(|(i, e)| (i, span(e), e["type"] == "pre"))
        .collect();
    ents.iter()
        .enumerate()
        .filter(|(i, e)| {
            let (s, t) = span(e);
            let is_pre = e["type"] == "pre";
            !codes.iter().any(|(j, (cs, ct), c_is_pre)| {
                j != i && *cs <= s && t <= *ct && !(is_pre && !c_is_pre && (*cs, *ct) == (s, t))
            })
        })
        .map(|(_, e)| e.clone())
        .collect()
}

/// Trims surrounding whitespace like Telegram and clips entities accordingly.
fn trim_text(text: String, ents: Vec<Value>) -> (String, Vec<Value>) {
    let trimmed = text.trim();
    let lead = utf16_len(&text[..text.len() - text.trim_start().len()]);
    let new_len = utf16_len(trimmed);
    let mut out: Vec<Value> = ents
        .into_iter()
        .filter_map(|mut e| {
            let off = e["offset"].as_u64()? as usize;
            let len = e["length"].as_u64()? as usize;
            let start = off.saturating_sub(lead);
            let end = (off + len).saturating_sub(lead).min(new_len);
            if end <= start {
                return None;
            }
            e["offset"] = json!(start);
            e["length"] = json!(end - start);
            Some(e)
        })
        .collect();
    out.sort_by(|a, b| {
        let ka = (
            a["offset"].as_u64(),
            std::cmp::Reverse(a["length"].as_u64()),
        );
        let kb = (
            b["offset"].as_u64(),
            std::cmp::Reverse(b["length"].as_u64()),
        );
        ka.cmp(&kb)
    });
    (trimmed.to_owned(), out)
}

/// Decodes an HTML entity at the start of `s` (which starts with `&`):
/// `&lt;` `&gt;` `&amp;` `&quot;` `&#NNN;` `&#xHH;`. Returns (char, bytes consumed).
fn decode_html_entity(s: &str) -> Option<(char, usize)> {
    let b = s.as_bytes();
    if b.len() < 3 {
        return None;
    }
    let end = s[1..].find(';').map(|p| p + 1)?;
    if end > 12 {
        return None;
    }
    let body = &s[1..end];
    let ch = if let Some(num) = body.strip_prefix('#') {
        let code = if let Some(hex) = num.strip_prefix('x').or_else(|| num.strip_prefix('X')) {
            if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            u32::from_str_radix(hex, 16).ok()?
        } else {
            if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            num.parse().ok()?
        };
        if code == 0 {
            return None;
        }
        char::from_u32(code)?
    } else {
        match body {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            _ => return None,
        }
    };
    Some((ch, end + 1))
}

fn normalize_url(href: &str) -> Option<String> {
    let h = href.trim();
    if h.is_empty() || h.chars().any(char::is_whitespace) {
        return None;
    }
    if let Some((scheme, rest)) = h.split_once("://") {
        let ok =
            ["http", "https", "tg", "ton", "ftp"].contains(&scheme.to_ascii_lowercase().as_str());
        return (ok && !rest.is_empty()).then(|| h.to_owned());
    }
    if h.starts_with("mailto:") {
        return Some(h.to_owned());
    }
    h.contains('.').then(|| format!("http://{h}"))
}

struct HtmlOpen {
    tag: String,
    arg: String,
    off: usize,
}

const HTML_TAGS: &[&str] = &[
    "a",
    "b",
    "strong",
    "i",
    "em",
    "s",
    "strike",
    "del",
    "u",
    "ins",
    "tg-spoiler",
    "tg-emoji",
    "span",
    "pre",
    "code",
    "blockquote",
];

fn is_html_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'\x0b' | b'\x0c')
}

/// Parses Telegram-flavoured HTML into (plain text, entities), following the
/// official server's rules and error messages.
fn parse_html(src: &str, strict_amp: bool) -> Result<(String, Vec<Value>), String> {
    let b = src.as_bytes();
    let n = b.len();
    let mut out = String::new();
    let mut off = 0usize;
    let mut stack: Vec<HtmlOpen> = Vec::new();
    let mut ents = Vec::new();
    let mut i = 0usize;
    while i < n {
        let c = b[i];
        if c == b'&' {
            if let Some((ch, len)) = decode_html_entity(&src[i..]) {
                out.push(ch);
                off += ch.len_utf16();
                i += len;
                continue;
            }
            if strict_amp {
                return Err(format!(
                    "Character '&' at byte offset {i} does not start an HTML entity; escape it as \"&amp;\""
                ));
            }
        }
        if c != b'<' {
            let ch = src[i..].chars().next().expect("char");
            out.push(ch);
            off += ch.len_utf16();
            i += ch.len_utf8();
            continue;
        }
        let begin = i;
        i += 1;
        if i < n && b[i] == b'/' {
            // end tag
            let Some(open) = stack.pop() else {
                return Err(format!("Unexpected end tag at byte offset {begin}"));
            };
            i += 1;
            let name_start = i;
            while i < n && !is_html_space(b[i]) && b[i] != b'>' {
                i += 1;
            }
            let end_name = src[name_start..i].to_ascii_lowercase();
            while i < n && is_html_space(b[i]) {
                i += 1;
            }
            if i >= n || b[i] != b'>' {
                return Err(format!("Unclosed end tag at byte offset {begin}"));
            }
            i += 1;
            if !end_name.is_empty() && end_name != open.tag {
                return Err(format!(
                    "Unmatched end tag at byte offset {begin}, expected \"</{}>\", found \"</{}>\"",
                    open.tag, end_name
                ));
            }
            if open.tag == "code"
                && !open.arg.is_empty()
                && let Some(parent) = stack
                    .last_mut()
                    .filter(|p| p.tag == "pre" && p.arg.is_empty())
            {
                parent.arg = open.arg.clone();
                continue;
            }
            if off > open.off {
                let len = off - open.off;
                let e = match open.tag.as_str() {
                    "b" | "strong" => Some(entity("bold", open.off, len)),
                    "i" | "em" => Some(entity("italic", open.off, len)),
                    "u" | "ins" => Some(entity("underline", open.off, len)),
                    "s" | "strike" | "del" => Some(entity("strikethrough", open.off, len)),
                    "tg-spoiler" | "span" => Some(entity("spoiler", open.off, len)),
                    "code" => Some(entity("code", open.off, len)),
                    "pre" => {
                        let mut e = entity("pre", open.off, len);
                        if !open.arg.is_empty() {
                            e["language"] = json!(open.arg);
                        }
                        Some(e)
                    }
                    "blockquote" if open.arg == "1" => {
                        Some(entity("expandable_blockquote", open.off, len))
                    }
                    "blockquote" => Some(entity("blockquote", open.off, len)),
                    "a" => normalize_url(&open.arg).map(|url| {
                        let mut e = entity("text_link", open.off, len);
                        e["url"] = json!(url);
                        e
                    }),
                    "tg-emoji" => (!open.arg.is_empty()).then(|| {
                        let mut e = entity("custom_emoji", open.off, len);
                        e["custom_emoji_id"] = json!(open.arg);
                        e
                    }),
                    _ => None,
                };
                ents.extend(e);
            }
            continue;
        }
        // start tag
        let name_start = i;
        while i < n && !is_html_space(b[i]) && b[i] != b'>' {
            i += 1;
        }
        if i >= n {
            return Err(format!("Unclosed start tag at byte offset {begin}"));
        }
        let tag = src[name_start..i].to_ascii_lowercase();
        if !HTML_TAGS.contains(&tag.as_str()) {
            return Err(format!(
                "Unsupported start tag \"{tag}\" at byte offset {begin}"
            ));
        }
        let mut arg = String::new();
        loop {
            while i < n && is_html_space(b[i]) {
                i += 1;
            }
            if i >= n {
                return Err(format!("Unclosed start tag at byte offset {begin}"));
            }
            if b[i] == b'>' {
                i += 1;
                break;
            }
            let an_start = i;
            while i < n && !is_html_space(b[i]) && b[i] != b'=' && b[i] != b'>' {
                i += 1;
            }
            let attr = src[an_start..i].to_ascii_lowercase();
            if attr.is_empty() {
                return Err(format!(
                    "Empty attribute name in the tag \"{tag}\" at byte offset {begin}"
                ));
            }
            while i < n && is_html_space(b[i]) {
                i += 1;
            }
            let mut value = String::new();
            if i < n && b[i] == b'=' {
                i += 1;
                while i < n && is_html_space(b[i]) {
                    i += 1;
                }
                if i >= n {
                    return Err(format!(
                        "Unclosed start tag \"{tag}\" at byte offset {begin}"
                    ));
                }
                if b[i] == b'"' || b[i] == b'\'' {
                    let quote = b[i];
                    i += 1;
                    while i < n && b[i] != quote {
                        if b[i] == b'&'
                            && let Some((ch, len)) = decode_html_entity(&src[i..])
                        {
                            value.push(ch);
                            i += len;
                            continue;
                        }
                        let ch = src[i..].chars().next().expect("char");
                        value.push(ch);
                        i += ch.len_utf8();
                    }
                    if i >= n {
                        return Err(format!("Unclosed start tag at byte offset {begin}"));
                    }
                    i += 1;
                } else {
                    let tok = i;
                    while i < n && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'-') {
                        i += 1;
                    }
                    value = src[tok..i].to_ascii_lowercase();
                    if i < n && !is_html_space(b[i]) && b[i] != b'>' {
                        return Err(format!("Unexpected end of name token at byte offset {tok}"));
                    }
                }
            } else if !(tag == "blockquote" && attr == "expandable") {
                return Err(format!(
                    "Expected equal sign in declaration of an attribute of the tag \"{tag}\" at byte offset {begin}"
                ));
            }
            match (tag.as_str(), attr.as_str()) {
                ("a", "href") => arg = value,
                ("code", "class") => {
                    if let Some(l) = value.strip_prefix("language-") {
                        arg = l.to_owned();
                    }
                }
                ("span", "class") => {
                    if let Some(l) = value.strip_prefix("tg-") {
                        arg = l.to_owned();
                    }
                }
                ("tg-emoji", "emoji-id") => arg = value,
                ("blockquote", "expandable") => arg = "1".into(),
                _ => {}
            }
        }
        if tag == "span" && arg != "spoiler" {
            return Err(format!(
                "Tag \"span\" must have class \"tg-spoiler\" at byte offset {begin}"
            ));
        }
        stack.push(HtmlOpen { tag, arg, off });
    }
    if let Some(open) = stack.last() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            open.tag
        ));
    }
    Ok((out, ents))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Md {
    Bold,
    Italic,
    Underline,
    Strikethrough,
    Spoiler,
    Code,
    Pre,
    TextUrl,
    CustomEmoji,
}

struct MdOpen {
    kind: Md,
    off: usize,
    pos: usize,
    lang: String,
    text_start: usize,
}

fn md_entity(kind: Md, off: usize, len: usize, lang: &str) -> Value {
    let t = match kind {
        Md::Bold => "bold",
        Md::Italic => "italic",
        Md::Underline => "underline",
        Md::Strikethrough => "strikethrough",
        Md::Spoiler => "spoiler",
        Md::Code => "code",
        Md::Pre => "pre",
        Md::TextUrl => "text_link",
        Md::CustomEmoji => "custom_emoji",
    };
    let mut e = entity(t, off, len);
    if kind == Md::Pre && !lang.is_empty() {
        e["language"] = json!(lang);
    }
    e
}

/// Parses MarkdownV2 following the official server's rules and error messages.
fn parse_markdown_v2(src: &str) -> Result<(String, Vec<Value>), String> {
    const RESERVED: &[u8] = b"_*[]()~`>#+-=|{}.!";
    let b = src.as_bytes();
    let n = b.len();
    let mut out = String::new();
    let mut off = 0usize;
    let mut stack: Vec<MdOpen> = Vec::new();
    let mut ents = Vec::new();
    let mut quote: Option<usize> = None;
    let mut i = 0usize;
    let push = |out: &mut String, off: &mut usize, ch: char| {
        out.push(ch);
        *off += ch.len_utf16();
    };
    while i < n {
        let c = b[i];
        if c == b'\\' && i + 1 < n && b[i + 1] > 0 && b[i + 1] < 127 {
            push(&mut out, &mut off, b[i + 1] as char);
            i += 2;
            continue;
        }
        let top = stack.last().map(|o| o.kind);
        if matches!(top, Some(Md::Code) | Some(Md::Pre)) {
            let closes = match top {
                Some(Md::Code) => c == b'`',
                _ => src[i..].starts_with("```"),
            };
            if closes {
                let o = stack.pop().expect("open");
                if off > o.off {
                    ents.push(md_entity(o.kind, o.off, off - o.off, &o.lang));
                }
                i += if o.kind == Md::Code { 1 } else { 3 };
            } else {
                let ch = src[i..].chars().next().expect("char");
                push(&mut out, &mut off, ch);
                i += ch.len_utf8();
            }
            continue;
        }
        let line_start = i == 0 || b[i - 1] == b'\n';
        if c == b'>' && line_start {
            if quote.is_none() {
                quote = Some(off);
            }
            i += 1;
            continue;
        }
        if c == b'\n'
            && let Some(q) = quote
            && !(i + 1 < n && b[i + 1] == b'>')
        {
            if off > q {
                ents.push(entity("blockquote", q, off - q));
            }
            quote = None;
        }
        if !RESERVED.contains(&c) {
            let ch = src[i..].chars().next().expect("char");
            push(&mut out, &mut off, ch);
            i += ch.len_utf8();
            continue;
        }
        let next = b.get(i + 1).copied();
        let is_end = match top {
            Some(Md::Bold) => c == b'*',
            Some(Md::Italic) => c == b'_' && next != Some(b'_'),
            Some(Md::Underline) => c == b'_' && next == Some(b'_'),
            Some(Md::Strikethrough) => c == b'~',
            Some(Md::Spoiler) => c == b'|' && next == Some(b'|'),
            Some(Md::TextUrl) | Some(Md::CustomEmoji) => c == b']',
            _ => false,
        };
        if is_end {
            let o = stack.pop().expect("open");
            match o.kind {
                Md::Underline | Md::Spoiler => i += 2,
                Md::TextUrl | Md::CustomEmoji => {
                    i += 1;
                    let mut url = String::new();
                    if i < n && b[i] == b'(' {
                        i += 1;
                        let url_start = i;
                        while i < n && b[i] != b')' {
                            if b[i] == b'\\' && i + 1 < n {
                                i += 1;
                            }
                            let ch = src[i..].chars().next().expect("char");
                            url.push(ch);
                            i += ch.len_utf8();
                        }
                        if i >= n {
                            return Err(format!(
                                "Can't find end of a URL at byte offset {url_start}"
                            ));
                        }
                        i += 1;
                    } else {
                        url = out[o.text_start..].to_owned();
                    }
                    if off > o.off {
                        if o.kind == Md::CustomEmoji {
                            let Some(id) = url.strip_prefix("tg://emoji?id=") else {
                                return Err(
                                    "Custom emoji entity must contain a tg://emoji URL".into()
                                );
                            };
                            let mut e = md_entity(Md::CustomEmoji, o.off, off - o.off, "");
                            e["custom_emoji_id"] = json!(id);
                            ents.push(e);
                        } else if let Some(u) = normalize_url(&url) {
                            let mut e = md_entity(Md::TextUrl, o.off, off - o.off, "");
                            e["url"] = json!(u);
                            ents.push(e);
                        }
                    }
                    continue;
                }
                _ => i += 1,
            }
            if off > o.off {
                ents.push(md_entity(o.kind, o.off, off - o.off, ""));
            }
            continue;
        }
        let begin = i;
        let (kind, skip) = match c {
            b'_' if next == Some(b'_') => (Md::Underline, 2),
            b'_' => (Md::Italic, 1),
            b'*' => (Md::Bold, 1),
            b'~' => (Md::Strikethrough, 1),
            b'|' if next == Some(b'|') => (Md::Spoiler, 2),
            b'[' => (Md::TextUrl, 1),
            b'!' if next == Some(b'[') => (Md::CustomEmoji, 2),
            b'`' if src[i..].starts_with("```") => (Md::Pre, 3),
            b'`' => (Md::Code, 1),
            _ => {
                return Err(format!(
                    "Character '{}' is reserved and must be escaped with the preceding '\\'",
                    c as char
                ));
            }
        };
        i += skip;
        let mut lang = String::new();
        if kind == Md::Pre {
            let rest = &src[i..];
            if let Some(nl) = rest.find('\n') {
                let first = &rest[..nl];
                if !first.contains('`') && !first.contains(' ') {
                    lang = first.to_owned();
                    i += nl + 1;
                }
            }
        }
        stack.push(MdOpen {
            kind,
            off,
            pos: begin,
            lang,
            text_start: out.len(),
        });
    }
    if let Some(o) = stack.last() {
        return Err(format!(
            "Can't find end of {:?} entity at byte offset {}",
            o.kind, o.pos
        ));
    }
    if let Some(q) = quote
        && off > q
    {
        ents.push(entity("blockquote", q, off - q));
    }
    Ok((out, ents))
}

/// Parses legacy Markdown (`*bold*`, `_italic_`, `` `code` ``, ```` ```pre``` ````,
/// `[text](url)`).
fn parse_markdown_legacy(src: &str) -> Result<(String, Vec<Value>), String> {
    let b = src.as_bytes();
    let n = b.len();
    let mut out = String::new();
    let mut off = 0usize;
    let mut ents = Vec::new();
    let mut i = 0usize;
    while i < n {
        let c = b[i];
        if c == b'\\' && i + 1 < n && b"_*`[".contains(&b[i + 1]) {
            out.push(b[i + 1] as char);
            off += 1;
            i += 2;
            continue;
        }
        if !b"_*`[".contains(&c) {
            let ch = src[i..].chars().next().expect("char");
            out.push(ch);
            off += ch.len_utf16();
            i += ch.len_utf8();
            continue;
        }
        let begin = i;
        let unclosed = || format!("Can't find end of the entity starting at byte offset {begin}");
        if c == b'[' {
            let close = src[i + 1..]
                .find(']')
                .map(|p| p + i + 1)
                .ok_or_else(unclosed)?;
            let inner = &src[i + 1..close];
            if src[close + 1..].starts_with('(') {
                let end = src[close + 2..]
                    .find(')')
                    .map(|p| p + close + 2)
                    .ok_or_else(unclosed)?;
                let url = &src[close + 2..end];
                let start = off;
                out.push_str(inner);
                off += utf16_len(inner);
                if off > start
                    && let Some(u) = normalize_url(url)
                {
                    let mut e = entity("text_link", start, off - start);
                    e["url"] = json!(u);
                    ents.push(e);
                }
                i = end + 1;
            } else {
                out.push('[');
                off += 1;
                i += 1;
            }
            continue;
        }
        let (delim, kind) = match c {
            b'`' if src[i..].starts_with("```") => ("```", "pre"),
            b'`' => ("`", "code"),
            b'*' => ("*", "bold"),
            _ => ("_", "italic"),
        };
        let content_start = i + delim.len();
        let end = src[content_start..]
            .find(delim)
            .map(|p| p + content_start)
            .ok_or_else(unclosed)?;
        let mut inner = &src[content_start..end];
        let mut lang = String::new();
        if kind == "pre"
            && let Some(nl) = inner.find('\n')
            && !inner[..nl].contains(' ')
        {
            lang = inner[..nl].to_owned();
            inner = &inner[nl + 1..];
        }
        let start = off;
        out.push_str(inner);
        off += utf16_len(inner);
        if off > start {
            let mut e = entity(kind, start, off - start);
            if !lang.is_empty() {
                e["language"] = json!(lang);
            }
            ents.push(e);
        }
        i = end + delim.len();
    }
    Ok((out, ents))
}

/// While a webhook is set, delivers the queued updates to it one at a time, in order, as
/// Telegram does with `max_connections` 1: an update leaves the queue only when the webhook
/// answers 2xx, and is sent again after a short pause otherwise (an error status, a refused
/// or reset connection).
async fn deliver_to_webhook(sh: Arc<Shared>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a plain HTTP client builds");
    let mut updates = sh.updates.subscribe();
    let mut changes = sh.changes.subscribe();
    let mut stop = sh.shutdown.subscribe();
    loop {
        updates.borrow_and_update();
        changes.borrow_and_update();
        let next = {
            let st = sh.lock();
            st.queue
                .front()
                .filter(|_| !st.webhook_url.is_empty())
                .map(|u| {
                    (
                        st.webhook_url.clone(),
                        st.webhook_secret.clone(),
                        u.id,
                        u.json.clone(),
                    )
                })
        };
        let Some((url, secret, id, update)) = next else {
            tokio::select! {
                _ = updates.changed() => {}
                _ = changes.changed() => {}
                _ = stop.wait_for(|v| *v) => return,
            }
            continue;
        };
        let mut request = client.post(&url).json(&update);
        if let Some(secret) = &secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        let status = match request.send().await {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        };
        {
            let mut st = sh.lock();
            st.webhook_deliveries.push(WebhookDelivery {
                update_id: id,
                status,
            });
            if (200..300).contains(&status) {
                if st.queue.front().is_some_and(|u| u.id == id) {
                    st.queue.pop_front();
                }
                st.webhook_error = None;
            } else {
                st.webhook_error = Some(if status == 0 {
                    "Connection refused".to_owned()
                } else {
                    format!("Wrong response from the webhook: {status}")
                });
            }
        }
        sh.changed();
        if !(200..300).contains(&status) {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = stop.wait_for(|v| *v) => return,
            }
        }
    }
}
