//! The chat's record: its dialogue state and the messages decided but not yet accepted by
//! Telegram, in one JSON file (`SESSIONS_DIR/chats/<user>.json`) written atomically. Only the
//! chat's worker reads and writes it.

use serde::{Deserialize, Serialize};

use super::{
    outbox::{Body, Outgoing},
    state::ChatState,
};
use crate::{
    i18n::Lang,
    interview::UserId,
    store::{Folder, InterviewStore, StoreError, load_record, save_record},
    voice::{AudioMeta, Submission},
};

/// Everything the Telegram side keeps about one chat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRecord {
    /// Where the chat is in the flow.
    pub dialogue: ChatState,
    /// Messages waiting for Telegram to accept them, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbox: Vec<Outgoing>,
    /// The highest update whose effect this record holds: a redelivered update at or below it
    /// has no second effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<u32>,
    /// The user blocked the bot: what is waiting is sent when they write again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blocked: bool,
    /// The ended interview whose closing notice is in the outbox; the interview is archived
    /// once its report is settled and everything is delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<u32>,
    /// What of the `closed` interview's report has been queued.
    #[serde(default, skip_serializing_if = "ReportSent::is_empty")]
    pub report: ReportSent,
    /// A voice note accepted and not yet transcribed: saved before it is downloaded, so that
    /// a restart finishes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<VoiceJob>,
}

/// A voice note being transcribed, as saved in the chat's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoiceJob {
    /// The update that brought it.
    pub update: u32,
    /// The `file_id` to download it with.
    pub file_id: String,
    /// What Telegram said about it.
    pub meta: AudioMeta,
    /// The interview's language, the transcript's language.
    pub lang: Lang,
    /// The speech recognition job, once accepted: a restart polls it instead of uploading
    /// the note again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission: Option<Submission>,
    /// The user was told the note waits in the queue.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub told_queued: bool,
}

/// What of an ended interview's report has been put in the outbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSent {
    /// The latest version queued (0: none yet; 2: the revised one).
    #[serde(default)]
    pub version: u32,
    /// The version whose "it will follow" notice was queued (Claude was unavailable).
    #[serde(default)]
    pub delay_told: u32,
}

impl ReportSent {
    /// Nothing queued yet.
    pub fn is_empty(&self) -> bool {
        *self == ReportSent::default()
    }
}

/// What an older version stored: the dialogue state alone.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Record(Box<ChatRecord>),
    Legacy(ChatState),
}

/// Whether a queued message is the chat's prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prompt {
    Yes,
    No,
}

impl ChatRecord {
    /// Queues `body` and returns its id: random, so an id is never reused, even after the
    /// record was removed and started afresh (the log of sent messages names messages by it).
    pub fn push(&mut self, body: Body) -> u64 {
        self.queue(body, Prompt::No)
    }

    /// Queues `body` as the chat's prompt (the message whose buttons are live), as
    /// [`ChatRecord::push`].
    pub fn push_prompt(&mut self, body: Body) -> u64 {
        self.queue(body, Prompt::Yes)
    }

    fn queue(&mut self, body: Body, prompt: Prompt) -> u64 {
        let id = rand::random();
        self.outbox.push(Outgoing {
            id,
            body,
            prompt: prompt == Prompt::Yes,
        });
        id
    }

    /// Notes that update `id` has had its effect.
    pub fn see(&mut self, id: u32) {
        self.seen = self.seen.max(Some(id));
    }

    /// Whether update `id`'s effect is already recorded.
    pub fn has_seen(&self, id: u32) -> bool {
        self.seen.is_some_and(|seen| id <= seen)
    }

    /// Whether nothing but the `seen` mark is worth keeping on disk.
    pub fn is_empty(&self) -> bool {
        self.dialogue == ChatState::Idle
            && self.outbox.is_empty()
            && !self.blocked
            && self.closed.is_none()
            && self.voice.is_none()
            && self.report.is_empty()
    }

    /// Loads the record of `user` (an empty one if there is none).
    pub async fn load(store: &dyn InterviewStore, user: UserId) -> Result<ChatRecord, StoreError> {
        Ok(
            match load_record::<Stored>(store, Folder::Chats, user).await? {
                Some(Stored::Record(record)) => *record,
                Some(Stored::Legacy(dialogue)) => ChatRecord {
                    dialogue,
                    ..ChatRecord::default()
                },
                None => ChatRecord::default(),
            },
        )
    }

    /// Saves the record atomically (an empty one leaves no file).
    pub async fn save(&self, store: &dyn InterviewStore, user: UserId) -> Result<(), StoreError> {
        if self.is_empty() && self.seen.is_none() {
            store.remove_value(Folder::Chats, user).await
        } else {
            save_record(store, Folder::Chats, user, self).await
        }
    }

    /// Removes the file of a record that holds nothing but its `seen` mark, once the updates
    /// it covers are marked handled in the inbox: a user with nothing under way leaves no
    /// file behind.
    pub async fn tidy(
        &mut self,
        store: &dyn InterviewStore,
        user: UserId,
    ) -> Result<(), StoreError> {
        if self.is_empty() && self.seen.is_some() {
            self.seen = None;
            store.remove_value(Folder::Chats, user).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SessionStore;

    #[tokio::test]
    async fn a_record_round_trips_and_an_older_state_file_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path()).unwrap();
        let user = UserId(42);
        let mut record = ChatRecord {
            dialogue: ChatState::ChoosingStyle { prompt: Some(3) },
            ..ChatRecord::default()
        };
        let id = record.push(Body::text("hello"));
        assert_eq!(record.outbox[0].id, id);
        record.see(17);
        record.save(&store, user).await.unwrap();
        assert_eq!(ChatRecord::load(&store, user).await.unwrap(), record);
        assert!(record.has_seen(17) && record.has_seen(3) && !record.has_seen(18));

        std::fs::write(
            dir.path().join("chats/42.json"),
            br#"{"state":"briefing","style":"stage_specific","prompt":8}"#,
        )
        .unwrap();
        let legacy = ChatRecord::load(&store, user).await.unwrap();
        assert_eq!(legacy.dialogue.prompt(), Some(8));
        assert!(legacy.outbox.is_empty());
    }

    #[tokio::test]
    async fn a_hand_edited_or_cut_record_is_quarantined_and_the_chat_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path()).unwrap();
        let user = UserId(43);
        let mut record = ChatRecord {
            dialogue: ChatState::Interviewing,
            closed: Some(2),
            ..ChatRecord::default()
        };
        record.push(Body::text("waiting"));
        record.see(9);
        record.save(&store, user).await.unwrap();
        let path = dir.path().join("chats/43.json");
        let saved = std::fs::read_to_string(&path).unwrap();
        let edits = [
            saved[..saved.len() / 2].to_owned(),
            saved.replace("interviewing", "dancing"),
            saved.replace("\"seen\":9", "\"seen\":-9"),
            saved.replace("\"closed\":2", "\"closed\":\"two\""),
            String::new(),
        ];
        for (n, edit) in edits.iter().enumerate() {
            assert_ne!(*edit, saved, "edit {n} applies");
            std::fs::write(&path, edit).unwrap();
            let loaded = ChatRecord::load(&store, user).await.unwrap();
            assert_eq!(loaded, ChatRecord::default(), "edit {n}");
            assert!(!path.exists(), "edit {n}: moved aside");
        }
        let quarantined = std::fs::read_dir(dir.path().join("quarantine")).unwrap();
        assert_eq!(quarantined.count(), edits.len());
    }

    #[tokio::test]
    async fn an_empty_record_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path()).unwrap();
        ChatRecord::default().save(&store, UserId(5)).await.unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path().join("chats")).unwrap().count(),
            0
        );
    }
}
