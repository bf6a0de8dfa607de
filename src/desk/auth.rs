//! Signing in without passwords, and the checks every private page makes.
//!
//! An admin gets a one-time link ([`crate::login`]). Opening it (GET) shows a page whose one
//! button posts the link's secret back: a link previewer or a mail scanner that fetches URLs
//! does not press buttons, so it cannot spend the link. A good link opens a session: a random
//! id in an HttpOnly, SameSite=Strict cookie, kept on the server only as its SHA-256, with a
//! CSRF token that every form posts back. The sessions live in memory: a restart signs
//! everyone out, which costs an admin one `/desk`.
//!
//! Failed sign-ins are counted per client address; past [`MAX_FAILURES`] in
//! [`FAILURE_WINDOW`], that address is refused until the window ends.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use axum::http::{HeaderMap, header};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::{login::hash_hex, model::Lang};

/// The session cookie's name.
pub const COOKIE: &str = "desk_session";

/// Failed sign-ins one address may make in [`FAILURE_WINDOW`].
pub const MAX_FAILURES: u32 = 10;

/// The window failed sign-ins are counted over.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// A signed-in admin's session.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The token the session's forms carry.
    pub csrf: String,
    /// The pages' language.
    pub lang: Lang,
    /// When the session ends.
    pub expires: DateTime<Utc>,
    /// The cookie's value, hashed: the session's key.
    key: String,
}

impl Signed {
    /// Whether `token` (from a posted form) is this session's, compared in constant time.
    pub fn csrf_matches(&self, token: &str) -> bool {
        bool::from(self.csrf.as_bytes().ct_eq(token.as_bytes()))
    }
}

/// The open sessions, by the hash of their cookie.
#[derive(Debug, Default)]
pub struct Sessions {
    open: Mutex<HashMap<String, Signed>>,
}

/// 32 random bytes, URL-safe.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Sessions {
    /// Opens a session until `expires`; returns the cookie's value (never stored).
    pub fn open(&self, lang: Lang, expires: DateTime<Utc>) -> String {
        let cookie = random_token();
        let key = hash_hex(&cookie);
        let signed = Signed {
            csrf: random_token(),
            lang,
            expires,
            key: key.clone(),
        };
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.insert(key, signed);
        cookie
    }

    /// The session whose cookie the request carries, if it is open at `now`.
    pub fn find(&self, headers: &HeaderMap, now: DateTime<Utc>) -> Option<Signed> {
        let cookie = cookie_value(headers)?;
        let key = hash_hex(cookie);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        // Ended sessions are dropped whenever one is looked up: the map stays small.
        open.retain(|_, s| s.expires > now);
        open.get(&key).cloned()
    }

    /// Changes a session's language.
    pub fn set_lang(&self, signed: &Signed, lang: Lang) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = open.get_mut(&signed.key) {
            s.lang = lang;
        }
    }

    /// Ends a session.
    pub fn close(&self, signed: &Signed) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.remove(&signed.key);
    }
}

/// The value of the session cookie in `headers`.
fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// The `Set-Cookie` value opening a session: HttpOnly (no script reads it; there is none
/// anyway), SameSite=Strict (no other site's page can send it), Secure over https.
pub fn set_cookie(value: &str, max_age: Duration, secure: Secure) -> String {
    let secure = match secure {
        Secure::Https => "; Secure",
        Secure::Http => "",
    };
    format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        max_age.as_secs()
    )
}

/// The `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(secure: Secure) -> String {
    set_cookie("", Duration::ZERO, secure)
}

/// Whether the desk is reached over https (then the cookie is only sent over https).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secure {
    /// `DESK_PUBLIC_URL` is https.
    Https,
    /// It is plain http (a tunnel, or a test).
    Http,
}

/// Failed sign-ins per client address.
#[derive(Debug, Default)]
pub struct Failures {
    by_address: Mutex<HashMap<IpAddr, (DateTime<Utc>, u32)>>,
}

impl Failures {
    /// Whether `address` may try to sign in at `now`.
    pub fn allows(&self, address: IpAddr, now: DateTime<Utc>) -> bool {
        let mut map = self
            .by_address
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let window = chrono::Duration::from_std(FAILURE_WINDOW).unwrap_or_default();
        map.retain(|_, (since, _)| now - *since < window);
        map.get(&address).is_none_or(|(_, n)| *n < MAX_FAILURES)
    }

    /// Counts a failed sign-in of `address` at `now`.
    pub fn failed(&self, address: IpAddr, now: DateTime<Utc>) {
        let mut map = self
            .by_address
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.entry(address).or_insert((now, 0)).1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn with_cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let cookie = format!("theme=dark; {COOKIE}={value}");
        headers.insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
        headers
    }

    #[test]
    fn a_session_is_found_by_its_cookie_until_it_ends_or_is_closed() {
        let sessions = Sessions::default();
        let later = now() + chrono::Duration::hours(12);
        let cookie = sessions.open(Lang::Ru, later);
        let signed = sessions.find(&with_cookie(&cookie), now()).unwrap();
        assert_eq!(signed.lang, Lang::Ru);
        assert!(signed.csrf_matches(&signed.csrf.clone()));
        assert!(!signed.csrf_matches("forged"));
        assert!(sessions.find(&with_cookie("forged"), now()).is_none());
        assert!(sessions.find(&with_cookie(&cookie), later).is_none());
        let cookie = sessions.open(Lang::En, later);
        let signed = sessions.find(&with_cookie(&cookie), now()).unwrap();
        sessions.close(&signed);
        assert!(sessions.find(&with_cookie(&cookie), now()).is_none());
    }

    #[test]
    fn an_address_that_failed_too_often_waits_for_the_window_to_end() {
        let failures = Failures::default();
        let address: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert!(failures.allows(address, now()));
            failures.failed(address, now());
        }
        assert!(!failures.allows(address, now()));
        assert!(failures.allows("192.0.2.2".parse().unwrap(), now()));
        let window = chrono::Duration::from_std(FAILURE_WINDOW).unwrap();
        assert!(failures.allows(address, now() + window));
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_over_https() {
        let cookie = set_cookie("v", Duration::from_secs(3600), Secure::Https);
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(cookie.contains("Max-Age=3600") && cookie.ends_with("; Secure"));
        assert!(!set_cookie("v", Duration::from_secs(1), Secure::Http).contains("Secure"));
    }
}
