//! What every handler and background task shares: the bot, the engine, the dialogue storage,
//! the turn workers and the access policy. Built once at start-up and injected with
//! `dptree::deps!`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use teloxide::types::{ChatId, InlineKeyboardMarkup};

use super::{
    access::Access,
    error::BotError,
    send::{self, TgBot},
    state::{ChatDialogue, ChatState, FileStorage},
    turns::Turns,
};
use crate::{
    i18n::{Catalog, Lang, Msg},
    interview::{Engine, UserId},
    locks::KeyedLocks,
    store::{Folder, StoreError},
};

/// The user's remembered preferences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The language the user chose.
    pub language: Lang,
}

/// Who an update is from, and the language to answer in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Who {
    /// The user.
    pub user: UserId,
    /// The (private) chat.
    pub chat: ChatId,
    /// The language to answer in.
    pub lang: Lang,
}

/// The bot's shared parts.
#[derive(Clone)]
pub struct Services {
    /// The bot and its flood limits.
    pub bot: TgBot,
    /// The interview engine.
    pub engine: Arc<Engine>,
    /// Dialogue state files.
    pub storage: Arc<FileStorage>,
    /// Per-user turn workers.
    pub turns: Arc<Turns>,
    /// Allow list and rate limit.
    pub access: Arc<Access>,
    /// `DEFAULT_LANGUAGE`.
    pub default_language: Lang,
    /// Held while a prompt is sent from outside the chat's update queue (by a turn worker),
    /// until its state is written; a button press waits for it before reading the state.
    pub prompt_locks: Arc<KeyedLocks<UserId>>,
}

impl Services {
    /// The catalog of user-visible text.
    pub fn catalog(&self) -> &Catalog {
        self.engine.catalog()
    }

    /// The text of `msg` in `lang`.
    pub fn text(&self, lang: Lang, msg: &Msg) -> String {
        self.catalog().text(lang, msg)
    }

    /// The dialogue of `chat`, for code outside a handler.
    pub fn dialogue(&self, chat: ChatId) -> ChatDialogue {
        ChatDialogue::new(self.storage.clone(), chat)
    }

    /// The language to answer `user` in: the one they chose, else their client's, else the
    /// default. Reading it never stores anything.
    pub async fn language_of(&self, user: UserId, client_code: Option<&str>) -> Lang {
        match self
            .engine
            .store()
            .load_keyed::<Profile>(Folder::Profiles, user)
            .await
        {
            Ok(Some(profile)) => profile.language,
            Ok(None) => client_code
                .and_then(Lang::from_code)
                .unwrap_or(self.default_language),
            Err(error) => {
                tracing::warn!(%user, %error, "profile unreadable; using the client's language");
                client_code
                    .and_then(Lang::from_code)
                    .unwrap_or(self.default_language)
            }
        }
    }

    /// Sends `text` with `keyboard` and makes the chat wait on that message: `state` receives
    /// its id, so presses on the buttons of any other message are stale.
    pub async fn await_choice(
        &self,
        who: Who,
        dialogue: &ChatDialogue,
        text: &str,
        keyboard: InlineKeyboardMarkup,
        state: impl FnOnce(i32) -> ChatState,
    ) -> Result<(), BotError> {
        let prompt = send::ask(&self.bot, who.chat, text, keyboard).await?;
        dialogue.update(state(prompt.id.0)).await?;
        Ok(())
    }

    /// Remembers the user's language.
    pub async fn remember_language(&self, user: UserId, language: Lang) -> Result<(), StoreError> {
        self.engine
            .store()
            .save_keyed(Folder::Profiles, user, &Profile { language })
            .await
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}
