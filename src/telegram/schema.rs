//! The handler tree, in one place. Handlers only identify what arrived and route it to the
//! chat's worker; nothing here changes a chat's state.
//!
//! ```text
//! update
//! ├─ message
//! │  ├─ in a group ───────────────────────► one explanation per group: interviews are private
//! │  └─ from a person
//! │     ├─ not on the allow list ─────────► one polite refusal an hour, nothing stored
//! │     ├─ a known /command ──────────────► worker: Command
//! │     ├─ another /command ──────────────► worker: UnknownCommand
//! │     ├─ text ──────────────────────────► worker: Text
//! │     ├─ a recording (voice, audio, ────► worker: Voice
//! │     │  video note, audio document)
//! │     └─ anything else ─────────────────► worker: Unsupported
//! ├─ callback query in a private chat
//! │  ├─ not on the allow list ────────────► answered with the refusal
//! │  └─ ──────────────────────────────────► worker: Press (data decoded into a Callback)
//! └─ anything else ───────────────────────► marked handled (default handler)
//! ```

use std::{convert::Infallible, sync::Arc, time::Duration};

use teloxide::{
    dispatching::{UpdateHandler, dialogue::GetChatId},
    prelude::*,
    types::Update,
};

use super::{
    access::Access,
    callback::Callback,
    command::Command,
    event::{Event, Incoming, Input, Person, Press, VoiceInput},
    inbox::Inbox,
    outbox::{Body, Key},
    router::Router,
    sender::Sender,
};
use crate::{
    i18n::{Catalog, Lang, Msg},
    interview::UserId,
    model::InviteCode,
    voice::{AudioKind, AudioMeta, is_audio_document},
};

/// A handler's result: routing cannot fail.
pub type HandlerResult = Result<(), Infallible>;

/// Who sent an update, in a private chat.
#[derive(Debug, Clone)]
pub struct Who {
    /// The user.
    pub user: UserId,
    /// Their private chat.
    pub chat: ChatId,
    /// Their name and client language.
    pub person: Person,
}

/// What the handlers share besides the router.
#[derive(Debug, Clone)]
pub struct Notices {
    /// To tell groups and refused users.
    pub sender: Sender,
    /// The text.
    pub catalog: Arc<Catalog>,
    /// `DEFAULT_LANGUAGE`.
    pub default_language: Lang,
}

/// The payload of `/start <payload>` (or `/start@bot <payload>`), as a deep link
/// (`https://t.me/<bot>?start=<payload>`) sends it, if it could be an invite code. Anything
/// else after /start is not one and leaves a plain /start.
fn invite_code(text: &str) -> Option<InviteCode> {
    let rest = text.strip_prefix("/start")?;
    let rest = match rest.strip_prefix('@') {
        Some(bot) => bot.split_once(char::is_whitespace)?.1,
        None if rest.starts_with(char::is_whitespace) => rest,
        None => return None,
    };
    InviteCode::parse(rest.trim())
}

/// The bot's handler tree.
pub fn schema() -> UpdateHandler<Infallible> {
    let messages = Update::filter_message()
        .branch(dptree::filter(|msg: Message| !msg.chat.is_private()).endpoint(group))
        .filter_map(|msg: Message| {
            let from = msg.from.as_ref().filter(|u| !u.is_bot)?;
            Some(Who {
                user: UserId(from.id.0),
                chat: msg.chat.id,
                person: Person {
                    first_name: from.first_name.clone(),
                    last_name: from.last_name.clone(),
                    username: from.username.clone(),
                    language_code: from.language_code.clone(),
                },
            })
        })
        .branch(
            dptree::filter(|who: Who, access: Arc<Access>| !access.is_allowed(who.user))
                .endpoint(refuse),
        )
        .branch(
            dptree::filter_map(|msg: Message| invite_code(msg.text()?)).endpoint(
                |code: InviteCode, who: Who, update: Update, router: Arc<Router>| {
                    route(router, who, update, Input::Invite(code.as_str().to_owned()))
                },
            ),
        )
        .branch(dptree::entry().filter_command::<Command>().endpoint(
            |command: Command, who: Who, update: Update, router: Arc<Router>| {
                route(router, who, update, Input::Command(command))
            },
        ))
        .branch(
            dptree::filter(|msg: Message| msg.text().is_some_and(|t| t.starts_with('/'))).endpoint(
                |who: Who, update: Update, router: Arc<Router>| {
                    route(router, who, update, Input::UnknownCommand)
                },
            ),
        )
        .branch(Message::filter_text().endpoint(
            |text: String, who: Who, update: Update, router: Arc<Router>| {
                route(router, who, update, Input::Text(text))
            },
        ))
        .branch(
            dptree::filter_map(|msg: Message| voice_input(&msg)).endpoint(
                |voice: VoiceInput, who: Who, update: Update, router: Arc<Router>| {
                    route(router, who, update, Input::Voice(voice))
                },
            ),
        )
        .endpoint(|who: Who, update: Update, router: Arc<Router>| {
            route(router, who, update, Input::Unsupported)
        });
    let presses = Update::filter_callback_query()
        .filter_map(|query: CallbackQuery| {
            let chat = query.chat_id().filter(|c| c.is_user())?;
            Some(Who {
                user: UserId(query.from.id.0),
                chat,
                person: Person {
                    first_name: query.from.first_name.clone(),
                    last_name: query.from.last_name.clone(),
                    username: query.from.username.clone(),
                    language_code: query.from.language_code.clone(),
                },
            })
        })
        .branch(
            dptree::filter(|who: Who, access: Arc<Access>| !access.is_allowed(who.user))
                .endpoint(refuse_press),
        )
        .endpoint(
            |query: CallbackQuery, who: Who, update: Update, router: Arc<Router>| {
                let press = Press {
                    query: query.id.0.clone(),
                    message: query.message.as_ref().map(|m| m.id().0),
                    callback: query.data.as_deref().and_then(Callback::decode),
                    answered: false,
                };
                route(router, who, update, Input::Press(press))
            },
        );
    dptree::entry().branch(messages).branch(presses)
}

/// Hands what arrived to the chat's worker.
async fn route(router: Arc<Router>, who: Who, update: Update, input: Input) -> HandlerResult {
    router.route(
        who.chat,
        Event::Incoming(Incoming {
            update: update.id.0,
            person: who.person,
            input,
        }),
    );
    Ok(())
}

/// The recording a message carries, if it is a voice note, an audio file, a round video note,
/// or a document whose type is audio.
pub fn voice_input(msg: &Message) -> Option<VoiceInput> {
    let seconds = |s: teloxide::types::Seconds| Some(Duration::from_secs(u64::from(s.seconds())));
    let (file, meta) = if let Some(voice) = msg.voice() {
        let meta = AudioMeta {
            kind: Some(AudioKind::Voice),
            declared_duration: seconds(voice.duration),
            declared_size: None,
            mime_type: voice.mime_type.as_ref().map(ToString::to_string),
            file_name: None,
        };
        (&voice.file, meta)
    } else if let Some(audio) = msg.audio() {
        let meta = AudioMeta {
            kind: Some(AudioKind::Audio),
            declared_duration: seconds(audio.duration),
            declared_size: None,
            mime_type: audio.mime_type.as_ref().map(ToString::to_string),
            file_name: audio.file_name.clone(),
        };
        (&audio.file, meta)
    } else if let Some(note) = msg.video_note() {
        let meta = AudioMeta {
            kind: Some(AudioKind::VideoNote),
            declared_duration: seconds(note.duration),
            declared_size: None,
            mime_type: None,
            file_name: None,
        };
        (&note.file, meta)
    } else if let Some(document) = msg.document() {
        let meta = AudioMeta {
            kind: Some(AudioKind::Document),
            declared_duration: None,
            declared_size: None,
            mime_type: document.mime_type.as_ref().map(ToString::to_string),
            file_name: document.file_name.clone(),
        };
        if !is_audio_document(&meta) {
            return None;
        }
        (&document.file, meta)
    } else {
        return None;
    };
    Some(VoiceInput {
        file_id: file.id.0.clone(),
        meta: AudioMeta {
            // Telegram leaves the size out at times; teloxide then reads `u32::MAX`.
            declared_size: (file.size != u32::MAX).then_some(u64::from(file.size)),
            ..meta
        },
    })
}

/// A user not on the allow list: one polite refusal an hour; nothing is stored.
async fn refuse(
    who: Who,
    update: Update,
    access: Arc<Access>,
    notices: Notices,
    inbox: Inbox,
) -> HandlerResult {
    tracing::info!(user = %who.user, "message from a user not on the allow list");
    if access.tell_refused(who.user) {
        let text = notices.text(&who.person, &Msg::NotAllowed);
        notices
            .sender
            .send(who.chat, Key::Unsaved, Body::text(text));
    }
    inbox.handled(update.id.0);
    Ok(())
}

/// A button press from a user not on the allow list.
async fn refuse_press(
    query: CallbackQuery,
    who: Who,
    update: Update,
    notices: Notices,
    inbox: Inbox,
) -> HandlerResult {
    let text = notices.text(&who.person, &Msg::NotAllowed);
    notices.sender.answer_callback(query.id.0, Some(text));
    inbox.handled(update.id.0);
    Ok(())
}

/// Anything in a group: one explanation per group that interviews run in private chats.
async fn group(
    msg: Message,
    update: Update,
    access: Arc<Access>,
    notices: Notices,
    inbox: Inbox,
) -> HandlerResult {
    if access.tell_group(msg.chat.id.0) {
        let person = Person {
            language_code: msg.from.as_ref().and_then(|u| u.language_code.clone()),
            ..Person::default()
        };
        let text = notices.text(&person, &Msg::PrivateOnly);
        notices
            .sender
            .send(msg.chat.id, Key::Unsaved, Body::text(text));
    }
    inbox.handled(update.id.0);
    Ok(())
}

impl Notices {
    fn text(&self, person: &Person, msg: &Msg) -> String {
        let lang = person
            .language_code
            .as_deref()
            .and_then(Lang::from_code)
            .unwrap_or(self.default_language);
        self.catalog.text(lang, msg)
    }
}
