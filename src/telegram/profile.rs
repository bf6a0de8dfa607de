//! The user's remembered preferences (the language): `SESSIONS_DIR/profiles/<user>.json`, or a
//! row of the database.

use serde::{Deserialize, Serialize};

use crate::{
    i18n::Lang,
    interview::UserId,
    store::{Folder, InterviewStore, StoreError, load_record, save_record},
};

/// The user's remembered preferences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The language the user chose.
    pub language: Lang,
}

impl Profile {
    /// The user's profile, if they chose anything (an unreadable one counts as none).
    pub async fn load(store: &dyn InterviewStore, user: UserId) -> Option<Profile> {
        match load_record::<Profile>(store, Folder::Profiles, user).await {
            Ok(profile) => profile,
            Err(error) => {
                tracing::warn!(%user, %error, "profile unreadable; using the client's language");
                None
            }
        }
    }

    /// Remembers the profile.
    pub async fn save(&self, store: &dyn InterviewStore, user: UserId) -> Result<(), StoreError> {
        save_record(store, Folder::Profiles, user, self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SessionStore;

    #[tokio::test]
    async fn a_hand_edited_or_cut_profile_is_quarantined_and_counts_as_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path()).unwrap();
        let user = UserId(7);
        Profile { language: Lang::Ru }
            .save(&store, user)
            .await
            .unwrap();
        assert_eq!(
            Profile::load(&store, user).await,
            Some(Profile { language: Lang::Ru })
        );
        let path = dir.path().join("profiles/7.json");
        let edits: [&[u8]; 4] = [
            br#"{"language":"de"}"#,
            br#"{"language":"#,
            br#"{"language":7}"#,
            b"\xff\xfe",
        ];
        for (n, edit) in edits.iter().enumerate() {
            std::fs::write(&path, edit).unwrap();
            assert_eq!(Profile::load(&store, user).await, None, "edit {n}");
            assert!(!path.exists(), "edit {n}: moved aside");
        }
        let quarantined = std::fs::read_dir(dir.path().join("quarantine")).unwrap();
        assert_eq!(quarantined.count(), edits.len());
    }
}
