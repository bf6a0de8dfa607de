//! The user's remembered preferences (the language), in `SESSIONS_DIR/profiles/<user>.json`.

use serde::{Deserialize, Serialize};

use crate::{
    i18n::Lang,
    interview::UserId,
    store::{Folder, SessionStore, StoreError},
};

/// The user's remembered preferences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The language the user chose.
    pub language: Lang,
}

impl Profile {
    /// The user's profile, if they chose anything (an unreadable one counts as none).
    pub async fn load(store: &SessionStore, user: UserId) -> Option<Profile> {
        match store.load_keyed::<Profile>(Folder::Profiles, user).await {
            Ok(profile) => profile,
            Err(error) => {
                tracing::warn!(%user, %error, "profile unreadable; using the client's language");
                None
            }
        }
    }

    /// Remembers the profile.
    pub async fn save(&self, store: &SessionStore, user: UserId) -> Result<(), StoreError> {
        store.save_keyed(Folder::Profiles, user, self).await
    }
}
