//! The desk's one-time sign-in links, as any store keeps them: what a secret looks like, how
//! it is hashed, what opening one answers, and the interface of the stores (the files in
//! [`login`](crate::login), PostgreSQL in `PgStore`).
//!
//! The rules live here, below both stores, so that the two cannot disagree about them.

use std::fmt::Debug;

use async_trait::async_trait;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::StoreError;

/// Why a link does not sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Never issued, already used, or malformed: the desk cannot tell which, and says so.
    #[error("the link is unknown or was already used")]
    Unknown,
    /// Issued, but opened too late (and now spent all the same).
    #[error("the link has expired")]
    Expired,
}

/// The desk's one-time sign-in links: only a hash of each secret is kept, and a link is spent
/// by the one caller that removes it.
#[async_trait]
pub trait SignInLinks: Send + Sync + Debug {
    /// A new link's secret that expires at `expires`.
    async fn issue_until(&self, expires: DateTime<Utc>) -> Result<String, StoreError>;

    /// Spends the link `token` at `now`: the verdict, once the store could answer. A link
    /// signs in once; opened late, it is refused as expired and spent all the same.
    async fn redeem(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Refused>, StoreError>;

    /// Removes the links that expired at or before `now`.
    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<(), StoreError>;
}

/// A new link's secret: 32 random bytes, URL-safe base64 (43 characters).
pub fn new_secret() -> String {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    URL_SAFE_NO_PAD.encode(secret)
}

/// Whether `token` has the shape of the secrets [`new_secret`] makes; any other is refused
/// before a store is asked.
pub fn well_formed(token: &str) -> bool {
    token.len() == 43 && URL_SAFE_NO_PAD.decode(token).is_ok()
}

/// The SHA-256 of `secret`, in lowercase hex: how a secret is kept and looked up.
pub fn hash_hex(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
