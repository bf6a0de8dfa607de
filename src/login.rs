//! One-time sign-in links for the operator's desk.
//!
//! A link carries 32 random bytes (URL-safe base64). Only their SHA-256 is kept, one small
//! file per link under `SESSIONS_DIR/desk/links/`, named by the hash and holding the expiry:
//! whoever reads the folder cannot sign in with what they find. A link is spent by removing
//! its file, which only one remover can do, so the `desk-link` command and the running bot
//! (two processes) share the links safely and a link opens at most one session. With
//! `DATABASE_URL` the links live in the database instead (`PgStore`, the same
//! [`SignInLinks`]), where every replica and the `desk-link` command share them.
//!
//! This sits low in the house (beside the store) because two front ends issue links: the
//! Telegram `/desk` command and the desk itself, which redeems them.

use std::{
    io,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Url;

pub use crate::store::links::{Refused, hash_hex};
use crate::{
    model::Lang,
    store::{
        StoreError,
        links::{SignInLinks, new_secret, well_formed},
    },
};

/// How long a link can be opened.
pub const LINK_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// The folder of the links, under `SESSIONS_DIR`.
pub const LINKS_DIR: &str = "desk/links";

/// The links folder.
#[derive(Debug, Clone)]
pub struct Links {
    dir: PathBuf,
}

impl Links {
    /// The links of the store at `sessions_dir` (the folder is made if needed).
    pub fn open(sessions_dir: &Path) -> io::Result<Links> {
        let dir = sessions_dir.join(LINKS_DIR);
        std::fs::create_dir_all(&dir)?;
        Ok(Links { dir })
    }

    /// A new link's secret, valid for [`LINK_LIFETIME`] from `now`.
    pub fn issue(&self, now: DateTime<Utc>) -> io::Result<String> {
        let lifetime = chrono::Duration::from_std(LINK_LIFETIME).unwrap_or_default();
        self.issue_until(now + lifetime)
    }

    /// A new link's secret that expires at `expires`.
    pub fn issue_until(&self, expires: DateTime<Utc>) -> io::Result<String> {
        let token = new_secret();
        let path = self.dir.join(hash_hex(&token));
        crate::store::atomic::write(&path, expires.to_rfc3339().as_bytes())?;
        Ok(token)
    }

    /// Spends the link `token` at `now`: it signs in once, and never again.
    pub fn redeem(&self, token: &str, now: DateTime<Utc>) -> Result<(), Refused> {
        // Anything but the shape we issue is refused before the file system is asked.
        if !well_formed(token) {
            return Err(Refused::Unknown);
        }
        let path = self.dir.join(hash_hex(token));
        let expires = std::fs::read_to_string(&path).map_err(|_| Refused::Unknown)?;
        // The removal decides who spends it: of two openings at once, one remover fails.
        std::fs::remove_file(&path).map_err(|_| Refused::Unknown)?;
        match DateTime::parse_from_rfc3339(expires.trim()) {
            Ok(expires) if now < expires => Ok(()),
            _ => Err(Refused::Expired),
        }
    }

    /// Removes the links that expired before `now` (nobody can use them any more).
    pub fn purge_expired(&self, now: DateTime<Utc>) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            // A link being written right now is not yet readable; leave it be.
            let name = entry.file_name();
            if name
                .to_string_lossy()
                .starts_with(crate::store::atomic::TEMP_PREFIX)
            {
                continue;
            }
            let expired = std::fs::read_to_string(entry.path())
                .ok()
                .and_then(|text| DateTime::parse_from_rfc3339(text.trim()).ok())
                .is_none_or(|expires| expires <= now);
            if expired {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// The files' links are small files read and removed in place, as the desk does today; the
/// interface moves the calls to a blocking thread.
#[async_trait]
impl SignInLinks for Links {
    async fn issue_until(&self, expires: DateTime<Utc>) -> Result<String, StoreError> {
        let (links, path) = (self.clone(), self.dir.display().to_string());
        tokio::task::spawn_blocking(move || links.issue_until(expires))
            .await?
            .map_err(|source| StoreError::Io { path, source })
    }

    async fn redeem(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Refused>, StoreError> {
        let (links, token) = (self.clone(), token.to_owned());
        Ok(tokio::task::spawn_blocking(move || links.redeem(&token, now)).await?)
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let links = self.clone();
        Ok(tokio::task::spawn_blocking(move || links.purge_expired(now)).await?)
    }
}

/// Issues links and spells them as URLs of the desk at its public address, into whichever
/// store keeps them: the files, or the database that every replica shares (a link `/desk`
/// issued on one replica signs in on another's desk, and only once).
#[derive(Debug, Clone)]
pub struct Issuer {
    links: Arc<dyn SignInLinks>,
    public_url: Url,
}

impl Issuer {
    /// Links into `links`, pointing at the desk's public address.
    pub fn new(links: Arc<dyn SignInLinks>, public_url: Url) -> Issuer {
        Issuer { links, public_url }
    }

    /// A new sign-in URL, valid for [`LINK_LIFETIME`] from `now`, whose pages open in `lang`.
    /// Links that expired unused are cleared away first, so the store holds only live ones.
    pub async fn link(&self, now: DateTime<Utc>, lang: Lang) -> Result<Url, StoreError> {
        self.links.purge_expired(now).await?;
        let lifetime = chrono::Duration::from_std(LINK_LIFETIME).unwrap_or_default();
        let token = self.links.issue_until(now + lifetime).await?;
        Ok(signin_url(&self.public_url, &token, lang))
    }
}

/// The sign-in page's URL for `token`: `<public>/signin?token=…&lang=…`.
pub fn signin_url(public_url: &Url, token: &str, lang: Lang) -> Url {
    let mut url = public_url.clone();
    let path = format!("{}/signin", url.path().trim_end_matches('/'));
    url.set_path(&path);
    url.query_pairs_mut()
        .clear()
        .append_pair("token", token)
        .append_pair("lang", lang.code());
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn a_link_signs_in_once_and_its_secret_is_not_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let links = Links::open(dir.path()).unwrap();
        let token = links.issue(now()).unwrap();
        assert_eq!(token.len(), 43);
        let files: Vec<_> = std::fs::read_dir(dir.path().join(LINKS_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(files, [hash_hex(&token)]);
        assert!(!files[0].contains(&token));
        assert_eq!(links.redeem(&token, now()), Ok(()));
        assert_eq!(links.redeem(&token, now()), Err(Refused::Unknown));
    }

    #[test]
    fn a_link_opened_after_ten_minutes_is_expired_and_spent() {
        let dir = tempfile::tempdir().unwrap();
        let links = Links::open(dir.path()).unwrap();
        let token = links.issue(now()).unwrap();
        let late = now() + chrono::Duration::minutes(10);
        assert_eq!(links.redeem(&token, late), Err(Refused::Expired));
        assert_eq!(links.redeem(&token, now()), Err(Refused::Unknown));
    }

    #[test]
    fn malformed_and_unknown_links_are_refused_alike() {
        let dir = tempfile::tempdir().unwrap();
        let links = Links::open(dir.path()).unwrap();
        for token in ["", "../../etc/passwd", &"A".repeat(43), &"é".repeat(43)] {
            assert_eq!(links.redeem(token, now()), Err(Refused::Unknown), "{token}");
        }
    }

    #[test]
    fn expired_links_are_purged_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let links = Links::open(dir.path()).unwrap();
        let old = links.issue_until(now()).unwrap();
        let live = links.issue(now()).unwrap();
        links.purge_expired(now());
        assert_eq!(links.redeem(&old, now()), Err(Refused::Unknown));
        assert_eq!(links.redeem(&live, now()), Ok(()));
    }

    #[test]
    fn the_url_keeps_the_public_path_and_carries_the_language() {
        let base = Url::parse("https://ops.example.org/desk/").unwrap();
        let url = signin_url(&base, "abc", Lang::Ru);
        assert_eq!(
            url.as_str(),
            "https://ops.example.org/desk/signin?token=abc&lang=ru"
        );
    }
}
