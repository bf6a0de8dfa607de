//! The handler tree, in one place.
//!
//! ```text
//! update
//! ├─ message
//! │  ├─ in a group ─────────────────────────────► explain once: interviews are private
//! │  └─ admitted (allow list, rate limit) → dialogue
//! │     ├─ a known /command ────────────────────► commands::run
//! │     ├─ another /command ────────────────────► commands::unknown
//! │     ├─ text ────────────────────────────────► messages::text (by state)
//! │     ├─ voice or audio ──────────────────────► messages::audio
//! │     └─ anything else ───────────────────────► messages::unsupported
//! └─ callback query
//!    └─ admitted (allow list) → dialogue ──────► callbacks::press
//! ```

use teloxide::{
    dispatching::{UpdateHandler, dialogue::GetChatId},
    prelude::*,
};

use super::{
    access::Admission,
    error::HandlerError,
    flows::{
        callbacks,
        commands::{self, Command},
        messages,
    },
    send,
    services::{Services, Who},
    state::{ChatState, FileStorage},
};
use crate::{i18n::Msg, interview::UserId};

/// The bot's handler tree.
pub fn schema() -> UpdateHandler<HandlerError> {
    let messages = Update::filter_message()
        .branch(dptree::filter(|msg: Message| !msg.chat.is_private()).endpoint(messages::group))
        .filter_map_async(admit_message)
        .enter_dialogue::<Message, FileStorage, ChatState>()
        .branch(
            dptree::entry()
                .filter_command::<Command>()
                .endpoint(commands::run),
        )
        .branch(
            dptree::filter(|msg: Message| msg.text().is_some_and(|t| t.starts_with('/')))
                .endpoint(commands::unknown),
        )
        .branch(Message::filter_text().endpoint(messages::text))
        .branch(dptree::filter(|msg: Message| messages::is_audio(&msg)).endpoint(messages::audio))
        .branch(dptree::endpoint(messages::unsupported));
    let callbacks = Update::filter_callback_query()
        .filter_map_async(admit_callback)
        .enter_dialogue::<CallbackQuery, FileStorage, ChatState>()
        .endpoint(callbacks::press);
    dptree::entry().branch(messages).branch(callbacks)
}

/// Identifies the sender of a private message and lets them through if they are allowed and
/// within the rate limit; refused and limited users are told (once) and go no further.
async fn admit_message(msg: Message, services: Services) -> Option<Who> {
    let from = msg.from.as_ref().filter(|u| !u.is_bot)?;
    let user = UserId(from.id.0);
    let lang = services
        .language_of(user, from.language_code.as_deref())
        .await;
    let who = Who {
        user,
        chat: msg.chat.id,
        lang,
    };
    if !services.access.is_allowed(user) {
        tracing::info!(%user, "message from a user not on the allow list");
        if services.access.tell_refused(user) {
            tell(&services, who, Msg::NotAllowed).await;
        }
        return None;
    }
    match services.access.admit(user) {
        Admission::Allowed => Some(who),
        Admission::LimitedTell(wait) => {
            tracing::info!(%user, ?wait, "rate limit reached");
            tell(
                &services,
                who,
                Msg::RateLimited {
                    seconds: wait.as_secs().max(1),
                },
            )
            .await;
            None
        }
        Admission::LimitedQuiet => None,
    }
}

/// Identifies the sender of a button press in a private chat and lets allowed users through.
async fn admit_callback(query: CallbackQuery, services: Services) -> Option<Who> {
    let chat = query.chat_id().filter(|c| c.is_user())?;
    let user = UserId(query.from.id.0);
    let lang = services
        .language_of(user, query.from.language_code.as_deref())
        .await;
    if !services.access.is_allowed(user) {
        let text = services.text(lang, &Msg::NotAllowed);
        let _ = send::retrying(|| {
            services
                .bot
                .api
                .answer_callback_query(query.id.clone())
                .text(text.clone())
                .send()
        })
        .await;
        return None;
    }
    Some(Who { user, chat, lang })
}

async fn tell(services: &Services, who: Who, msg: Msg) {
    if let Err(error) = send::say(&services.bot, who.chat, &services.text(who.lang, &msg)).await {
        tracing::warn!(%error, "could not send a notice");
    }
}
