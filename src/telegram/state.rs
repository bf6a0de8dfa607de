//! The chat's dialogue state, and its storage as JSON files beside the sessions.
//!
//! The interview itself lives in the engine's session; the dialogue only records where the
//! chat is in the setup flow and which message holds the buttons it is waiting on, so that a
//! press on any other message's buttons is recognised as stale.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use teloxide::{dispatching::dialogue::Storage, prelude::Dialogue, types::ChatId};

use crate::{
    interview::{Style, UserId},
    llm::BoxFuture,
    store::{Folder, SessionStore, StoreError},
};

/// Where a chat is in the flow. Variants waiting on buttons carry the id of the message that
/// holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ChatState {
    /// No interview and no setup under way.
    #[default]
    Idle,
    /// The language buttons are shown.
    ChoosingLanguage {
        /// The message with the buttons.
        prompt: i32,
        /// The choice switches the language of a running interview.
        during_interview: bool,
    },
    /// The personality buttons are shown.
    ChoosingStyle {
        /// The message with the buttons.
        prompt: i32,
    },
    /// The briefing and its Begin button are shown.
    Briefing {
        /// The personality chosen.
        style: Style,
        /// The message with the button.
        prompt: i32,
    },
    /// An interview is running: text is an answer.
    Interviewing,
    /// Resume or start over? (after /start during an interview, or a long break)
    ResumeOrRestart {
        /// The message with the buttons.
        prompt: i32,
        /// The interview the buttons are for.
        session: u32,
        /// Answers typed while the choice is pending; sent on resume.
        held: Vec<String>,
    },
}

/// The dialogue of one chat.
pub type ChatDialogue = Dialogue<ChatState, FileStorage>;

/// Dialogue state as JSON files in `SESSIONS_DIR/chats/`, one per private chat.
#[derive(Debug, Clone)]
pub struct FileStorage {
    store: SessionStore,
}

impl FileStorage {
    /// Storage inside `store`.
    pub fn new(store: SessionStore) -> Arc<Self> {
        Arc::new(FileStorage { store })
    }
}

/// Private chats have the user's (positive) id; nothing is stored for any other chat.
fn private(chat: ChatId) -> Option<UserId> {
    u64::try_from(chat.0).ok().filter(|id| *id > 0).map(UserId)
}

impl Storage<ChatState> for FileStorage {
    type Error = StoreError;

    fn remove_dialogue(
        self: Arc<Self>,
        chat_id: ChatId,
    ) -> BoxFuture<'static, Result<(), StoreError>> {
        Box::pin(async move {
            match private(chat_id) {
                Some(user) => self.store.remove_keyed(Folder::Chats, user).await,
                None => Ok(()),
            }
        })
    }

    fn update_dialogue(
        self: Arc<Self>,
        chat_id: ChatId,
        dialogue: ChatState,
    ) -> BoxFuture<'static, Result<(), StoreError>> {
        Box::pin(async move {
            match private(chat_id) {
                // Idle is the absence of state: nothing is kept for a chat that is not in a flow,
                // and a user who erased their data is not written back by their next message.
                Some(user) if dialogue == ChatState::Idle => {
                    self.store.remove_keyed(Folder::Chats, user).await
                }
                Some(user) => self.store.save_keyed(Folder::Chats, user, &dialogue).await,
                None => Ok(()),
            }
        })
    }

    fn get_dialogue(
        self: Arc<Self>,
        chat_id: ChatId,
    ) -> BoxFuture<'static, Result<Option<ChatState>, StoreError>> {
        Box::pin(async move {
            match private(chat_id) {
                Some(user) => self.store.load_keyed(Folder::Chats, user).await,
                None => Ok(None),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn states_round_trip_through_files_and_groups_store_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let storage = FileStorage::new(SessionStore::open(dir.path()).unwrap());
        let state = ChatState::ResumeOrRestart {
            prompt: 4,
            session: 9,
            held: vec!["hi".into()],
        };
        storage
            .clone()
            .update_dialogue(ChatId(42), state.clone())
            .await
            .unwrap();
        assert_eq!(
            storage.clone().get_dialogue(ChatId(42)).await.unwrap(),
            Some(state)
        );
        storage
            .clone()
            .update_dialogue(ChatId(-100), ChatState::Interviewing)
            .await
            .unwrap();
        assert_eq!(
            storage.clone().get_dialogue(ChatId(-100)).await.unwrap(),
            None
        );
        storage.clone().remove_dialogue(ChatId(42)).await.unwrap();
        assert_eq!(storage.get_dialogue(ChatId(42)).await.unwrap(), None);
        assert_eq!(
            std::fs::read_dir(dir.path().join("chats")).unwrap().count(),
            0
        );
    }
}
