//! Delivery bookkeeping: saved messages handed to the sender, what became of each, and when
//! the updates behind the chat's work may be marked handled.

use super::{ChatWorker, Step};
use crate::{
    interview::Role,
    metrics::ErrorKind,
    store::StoreError,
    telegram::outbox::{Body, Delivery, Key},
};

/// What a flush hands to the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flush {
    /// The chat record's outbox.
    Outbox,
    /// The outbox and the session's undelivered questions.
    Everything,
}

impl ChatWorker {
    /// Saves the chat record.
    pub(super) async fn save(&self) -> Result<(), StoreError> {
        self.record.save(self.deps.engine.store(), self.user).await
    }

    /// Hands every saved, undelivered message to the sender (unless the user blocked the bot):
    /// the transcript's questions first when `transcript` is set, then the outbox.
    ///
    /// A message the log of sent messages already holds (Telegram accepted it just before a
    /// crash) is recorded as delivered instead of being sent again.
    pub(super) async fn flush(&mut self, what: Flush) -> Step {
        if self.record.blocked {
            return Ok(());
        }
        let mut already = Vec::new();
        if what == Flush::Everything {
            already.extend(self.send_transcript());
        }
        for outgoing in &self.record.outbox {
            let key = Key::Outbox(outgoing.id);
            if self.in_flight.contains(&key) {
                continue;
            }
            match self.deps.sent.lookup(self.chat, key) {
                Some(message) => already.push((key, message)),
                None => {
                    self.in_flight.insert(key);
                    self.deps.sender.send(self.chat, key, outgoing.body.clone());
                }
            }
        }
        for (key, message) in already {
            tracing::info!(user = %self.user, ?key, "delivered before the restart: not sent again");
            self.delivered(key, Delivery::Sent(message)).await?;
        }
        Ok(())
    }

    /// Hands the session's undelivered questions to the sender, a stage header above each
    /// question that opens a stage; returns those the log says were already accepted.
    pub(super) fn send_transcript(&mut self) -> Vec<(Key, Option<i32>)> {
        let mut already = Vec::new();
        let mut sends = Vec::new();
        if let Some(session) = self.owner.session() {
            for (index, entry) in session.undelivered() {
                let key = Key::Transcript {
                    session: session.id,
                    index,
                };
                if self.in_flight.contains(&key) {
                    continue;
                }
                if let Some(message) = self.deps.sent.lookup(self.chat, key) {
                    already.push((key, message));
                    continue;
                }
                let opens_stage = session.transcript[..index]
                    .iter()
                    .rev()
                    .find(|e| e.role == Role::Interviewer)
                    .is_none_or(|previous| previous.stage != entry.stage);
                let header = opens_stage.then(|| self.stage_title(entry.stage));
                sends.push((key, header, entry.text.clone()));
            }
        }
        for (key, header, text) in sends {
            self.in_flight.insert(key);
            self.deps.sender.send(
                self.chat,
                key,
                Body::Text {
                    header,
                    text,
                    keyboard: None,
                },
            );
        }
        already
    }

    /// What became of a message sent.
    pub(super) async fn delivered(&mut self, key: Key, delivery: Delivery) -> Step {
        self.in_flight.remove(&key);
        match delivery {
            Delivery::Sent(message) => match key {
                Key::Outbox(id) => {
                    if let Some(at) = self.record.outbox.iter().position(|o| o.id == id) {
                        let outgoing = self.record.outbox.remove(at);
                        if outgoing.prompt
                            && let Some(message) = message
                        {
                            self.record.dialogue =
                                self.record.dialogue.clone().with_prompt(message);
                        }
                        self.save().await?;
                    }
                }
                Key::Transcript { session, index } => {
                    self.owner
                        .mark_delivered(&self.deps.engine, session, index)
                        .await?;
                    crate::faults::crash_point("reply-delivered");
                }
                Key::Unsaved => {}
            },
            Delivery::Blocked => {
                if key != Key::Unsaved && !self.record.blocked {
                    self.record.blocked = true;
                    self.save().await?;
                }
                self.in_flight.clear();
            }
            Delivery::Refused(reason) => {
                tracing::error!(user = %self.user, ?key, %reason, "a message was dropped");
                self.deps.metrics.error(ErrorKind::Delivery);
                match key {
                    Key::Outbox(id) => {
                        self.record.outbox.retain(|o| o.id != id);
                        self.save().await?;
                    }
                    Key::Transcript { session, index } => {
                        self.owner
                            .mark_delivered(&self.deps.engine, session, index)
                            .await?;
                    }
                    Key::Unsaved => {}
                }
            }
        }
        Ok(())
    }

    /// When nothing is left to do for the updates behind the chat's work, marks them handled;
    /// archives an ended interview once its report is settled and everything is delivered.
    /// While a report waits to be retried (the wake timer is set), the updates stay unhandled,
    /// so after a restart they come back and [`ChatWorker::recover`] picks the report up.
    pub(super) async fn settle(&mut self) {
        let quiet = self.op.is_none()
            && self.in_flight.is_empty()
            && self.deferred.is_empty()
            && self.parked.is_empty()
            && self.wake.is_none()
            && (self.record.outbox.is_empty() || self.record.blocked);
        if !quiet {
            return;
        }
        if let Some(closed) = self.record.closed
            && !self.record.blocked
            && let Err(error) = self.archive_ended(closed).await
        {
            self.failed(error);
            return;
        }
        for update in self.waiting.drain(..) {
            self.deps.inbox.handled(update);
        }
        if let Err(error) = self.record.tidy(self.deps.engine.store(), self.user).await {
            tracing::warn!(user = %self.user, %error, "could not remove an empty chat record");
        }
    }
}
