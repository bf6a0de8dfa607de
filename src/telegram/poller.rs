//! Long polling that loses nothing: each batch from getUpdates is saved in the [`Inbox`]
//! (fsync'd) before the next call confirms it, and the poller never waits for the bot's
//! handling or sending: it only hands updates on.
//!
//! The dispatcher reads the handed-on updates through [`listener`]; shutting the dispatcher
//! down stops the poller, which then confirms the saved updates' offset to Telegram.

use std::{convert::Infallible, time::Duration};

use teloxide::{
    RequestError,
    prelude::*,
    stop::{StopFlag, StopToken, mk_stop_token},
    types::{AllowedUpdate, Update},
    update_listeners::{StatefulListener, UpdateListener},
};
use tokio::sync::mpsc;

use super::{inbox::Inbox, sender};
use crate::metrics::Metrics;

/// The long-poll timeout, below teloxide's 17 s HTTP timeout.
pub const POLL_TIMEOUT_SECS: u32 = 10;

/// The longest wait between attempts while Telegram cannot be reached.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The state of the dispatcher's update listener.
pub struct Listening {
    updates: mpsc::UnboundedReceiver<Update>,
    token: StopToken,
    flag: StopFlag,
}

/// An update listener fed by the poller (and by restarts); its stream ends when the
/// dispatcher shuts down.
pub fn listener(updates: mpsc::UnboundedReceiver<Update>) -> impl UpdateListener<Err = Infallible> {
    let (token, flag) = mk_stop_token();
    let state = Listening {
        updates,
        token,
        flag,
    };
    StatefulListener::new(state, stream, |state: &mut Listening| state.token.clone())
}

/// The listener's stream: the handed-on updates, until the stop flag is raised.
fn stream(
    state: &mut Listening,
) -> impl futures::Stream<Item = Result<Update, Infallible>> + Send + '_ {
    futures::stream::poll_fn(move |cx| {
        use std::future::Future;
        if std::pin::Pin::new(&mut state.flag).poll(cx).is_ready() {
            return std::task::Poll::Ready(None);
        }
        state.updates.poll_recv(cx).map(|u| u.map(Ok))
    })
}

/// Polls until `stop` turns true, saving every update before handing it to `out`; then
/// confirms the saved updates to Telegram.
pub async fn poll(
    bot: Bot,
    inbox: Inbox,
    out: mpsc::UnboundedSender<Update>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    metrics: Metrics,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let offset = match inbox.offset().await {
            Ok(offset) => offset,
            Err(error) => {
                tracing::warn!(%error, ?backoff, "the inbox cannot be read; polling waits");
                tokio::select! {
                    _ = stop.wait_for(|stop| *stop) => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        let request = bot
            .get_updates()
            .offset(offset)
            .timeout(POLL_TIMEOUT_SECS)
            .allowed_updates(vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery]);
        // Sent: the bot counts as polling from now on, without waiting for a long poll that
        // Telegram may hold for its whole timeout.
        metrics.poll_sent();
        let result = tokio::select! {
            _ = stop.wait_for(|stop| *stop) => break,
            result = request.send() => result,
        };
        match result {
            Ok(updates) => {
                backoff = Duration::from_secs(1);
                metrics.polled();
                if updates.is_empty() {
                    continue;
                }
                crate::faults::crash_point("updates-fetched");
                let (fresh, error) = inbox.save(updates).await;
                match (&error, fresh.is_empty()) {
                    (Some(error), false) => {
                        tracing::error!(%error, "updates could not be saved: they are handled, but a crash now would lose them");
                    }
                    (Some(error), true) => {
                        // Nothing was handed out, and the offset did not move: Telegram
                        // delivers the same updates again once the inbox can take them.
                        tracing::warn!(%error, ?backoff, "updates could not be saved; they are fetched again");
                        tokio::select! {
                            _ = stop.wait_for(|stop| *stop) => break,
                            () = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                    (None, _) => {}
                }
                for update in fresh {
                    tracing::debug!(update = update.id.0, "update saved");
                    let _ = out.send(update);
                }
            }
            Err(RequestError::RetryAfter(wait)) => {
                let wait = wait.duration().min(sender::MAX_RETRY_AFTER);
                tracing::warn!(?wait, "Telegram asked to poll later");
                tokio::select! {
                    _ = stop.wait_for(|stop| *stop) => break,
                    () = tokio::time::sleep(wait) => {}
                }
            }
            Err(error) => {
                metrics.poll_failed();
                tracing::warn!(error = %sender::describe(&error), ?backoff, "getUpdates failed; retrying");
                tokio::select! {
                    _ = stop.wait_for(|stop| *stop) => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    // Confirm what was saved, so it is not delivered again after the restart.
    let Ok(offset) = inbox.offset().await else {
        tracing::warn!(
            "the inbox cannot be read: the saved updates are confirmed by the next poll"
        );
        return;
    };
    let confirm = bot.get_updates().offset(offset).timeout(0).limit(1).send();
    match tokio::time::timeout(Duration::from_secs(5), confirm).await {
        Ok(Ok(_)) => tracing::info!("saved updates confirmed to Telegram"),
        Ok(Err(error)) => {
            tracing::warn!(error = %sender::describe(&error), "could not confirm the saved updates")
        }
        Err(_) => tracing::warn!("confirming the saved updates timed out"),
    }
}
