//! The change feed across replicas: every write that [`InterviewStore::changes`] announces is
//! also sent with `pg_notify` in the writing statement or transaction (PostgreSQL delivers it
//! when, and only if, the write commits), and each store listens on a connection of its own
//! for the writes of the others.
//!
//! A store announces its own writes at once, in process, as the file store does: a payload
//! carries the writing store's origin (random per store), and the listener drops its own.
//! Notifications are best effort: while the listening connection is down (the database
//! restarting) other replicas' changes are missed, as a lagging broadcast receiver's are, and
//! the followers' periodic full reads catch up.
//!
//! [`InterviewStore::changes`]: crate::store::InterviewStore::changes

use std::time::Duration;

use futures::StreamExt;
use tokio::sync::broadcast;
use tokio_postgres::{AsyncMessage, NoTls};

use crate::{model::UserId, store::Change};

/// The channel every store of one database notifies on.
pub(super) const CHANNEL: &str = "ai_interviewer_changes";

/// The longest wait between two attempts to listen again.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The payload announcing `change` made by the store `origin`: `<origin>:<kind>:<user>`.
pub(super) fn payload(origin: u64, change: Change) -> String {
    let kind = match change {
        Change::Saved(_) => 's',
        Change::Retired(_) => 'r',
        Change::Deleted(_) => 'd',
    };
    format!("{origin:x}:{kind}:{}", change.user())
}

/// The change a payload announces, unless it is `origin`'s own or not one of ours.
fn parse(payload: &str, origin: u64) -> Option<Change> {
    let mut parts = payload.splitn(3, ':');
    let from = u64::from_str_radix(parts.next()?, 16).ok()?;
    let kind = parts.next()?;
    let user = UserId(parts.next()?.parse().ok()?);
    if from == origin {
        return None;
    }
    match kind {
        "s" => Some(Change::Saved(user)),
        "r" => Some(Change::Retired(user)),
        "d" => Some(Change::Deleted(user)),
        _ => None,
    }
}

/// Listens for the other stores' changes and announces them on `changes`, reconnecting with a
/// backoff whenever the connection is lost ([`relay`]); runs until aborted.
pub(super) async fn listen(
    config: tokio_postgres::Config,
    origin: u64,
    changes: broadcast::Sender<Change>,
) {
    let (out, mut payloads) = tokio::sync::mpsc::unbounded_channel();
    // Ended with this task (the store's last clone aborts it), and its connection with it.
    let _relaying = super::Listener(tokio::spawn(relay(config, CHANNEL, out)));
    // An empty payload (listening started again) names no change: what was missed meanwhile is
    // missed, as a lagging receiver's is.
    while let Some(payload) = payloads.recv().await {
        if let Some(change) = parse(&payload, origin) {
            let _ = changes.send(change);
        }
    }
}

/// Relays every notification on `channel` to `out` as its payload, listening again with a
/// backoff whenever the connection is lost; after each new start of listening an empty payload
/// says that notifications may have been missed. Ends when `out` is closed.
pub(super) async fn relay(
    config: tokio_postgres::Config,
    channel: &'static str,
    out: tokio::sync::mpsc::UnboundedSender<String>,
) {
    let mut backoff = Duration::from_millis(100);
    while !out.is_closed() {
        match relay_once(&config, channel, &out).await {
            Ok(()) => tracing::warn!(channel, "a notification connection closed; listening again"),
            Err(e) => tracing::warn!(channel, error = %e, "listening failed; listening again"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn relay_once(
    config: &tokio_postgres::Config,
    channel: &'static str,
    out: &tokio::sync::mpsc::UnboundedSender<String>,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let (tx, mut messages) = futures::channel::mpsc::unbounded();
    let stream = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
    let driver = tokio::spawn(stream.map(Ok).forward(tx));
    client.batch_execute(&format!("LISTEN {channel}")).await?;
    // Listening (again): whatever was sent while nobody listened is looked for.
    if out.send(String::new()).is_err() {
        driver.abort();
        return Ok(());
    }
    while let Some(message) = messages.next().await {
        if let AsyncMessage::Notification(n) = message?
            && n.channel() == channel
            && out.send(n.payload().to_owned()).is_err()
        {
            break;
        }
    }
    driver.abort();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_names_the_change_and_its_writer_and_a_store_ignores_its_own() {
        for change in [
            Change::Saved(UserId(7)),
            Change::Retired(UserId(8)),
            Change::Deleted(UserId(u64::MAX)),
        ] {
            let text = payload(0xfeed, change);
            assert_eq!(parse(&text, 0xbeef), Some(change), "{text}");
            assert_eq!(parse(&text, 0xfeed), None, "{text}");
        }
        assert_eq!(parse("feed:x:7", 1), None);
        assert_eq!(parse("not ours", 1), None);
    }
}
