//! The end of an interview: the report, its check by the expert, and what happens when
//! Claude is unavailable.
//!
//! The report is composed from the stage summaries by one structured request. If Claude is
//! down, the session keeps the report pending (its failures and when the last one was) and
//! [`Engine::write_report`] says when to try again, with a backoff that doubles from a minute
//! to an hour; after a day the report is made without Claude: the transcript by stage with the
//! insights and findings collected, under a note. The expert then confirms the report or
//! corrects it once; the correction produces one revised report (or, if Claude cannot revise
//! it within a day, the report with the correction attached), and the last version written is
//! the one kept in `completed/`.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};

use super::{Engine, EngineError};
use crate::{
    interview::{
        Ending, ReportOutcome, ReportReady, Session, UserId,
        report::{self, Correction, Review},
        turn::WriteRequest,
    },
    llm::{LlmError, Model},
    store::{Folder, Loaded},
};

/// The wait before the first retry of a report Claude could not write.
const RETRY_FIRST: Duration = Duration::from_secs(60);

/// The longest wait between two retries.
const RETRY_MAX: Duration = Duration::from_secs(3600);

/// How long a report (or a revision) waits for Claude before it is made without it.
pub const REPORT_GIVE_UP: Duration = Duration::from_secs(24 * 3600);

/// The wait after the `failures`-th failed attempt: a minute, doubling up to an hour.
fn report_retry_delay(failures: u32) -> Duration {
    RETRY_FIRST
        .saturating_mul(1 << failures.saturating_sub(1).min(16))
        .min(RETRY_MAX)
}

impl Engine {
    /// Writes what the ended interview of `user` waits for: its report (stage summaries still
    /// due first), or the revision after the expert's correction. When Claude cannot write it,
    /// the attempt is recorded in the session and [`ReportOutcome::Pending`] says when to try
    /// again; asked earlier than that, it returns at once without calling Claude.
    pub async fn write_report(&self, user: UserId) -> Result<ReportOutcome, EngineError> {
        let Some(session) = self.ended(user).await? else {
            return Ok(ReportOutcome::Nothing);
        };
        match session.ending() {
            Ending::ReportDue => self.first_report(session).await,
            Ending::RevisionDue => self.revision(session).await,
            _ => Ok(ReportOutcome::Nothing),
        }
    }

    /// The expert confirmed the report. Returns whether there was one waiting for it.
    pub async fn confirm_report(&self, user: UserId) -> Result<bool, EngineError> {
        let Some(mut session) = self.ended(user).await? else {
            return Ok(false);
        };
        if session.ending() != Ending::Review {
            return Ok(false);
        }
        session.report.review = Review::Confirmed;
        self.store.save(&session).await?;
        tracing::info!(%user, session = session.id, "report confirmed by the expert");
        Ok(true)
    }

    /// Takes the expert's correction of the report and writes the one revised report.
    /// Text arriving before the revision is written joins the correction; an input already
    /// taken (`input`, as for answers) is not taken twice.
    pub async fn correct_report(
        &self,
        user: UserId,
        text: &str,
        input: Option<u64>,
    ) -> Result<ReportOutcome, EngineError> {
        let text = match self.checked(text) {
            Ok(text) => text,
            Err(rejection) => return Ok(ReportOutcome::Rejected(rejection)),
        };
        let Some(mut session) = self.ended(user).await? else {
            return Ok(ReportOutcome::Nothing);
        };
        let ending = session.ending();
        if !matches!(ending, Ending::Review | Ending::RevisionDue) {
            return Ok(ReportOutcome::Nothing);
        }
        if !input.is_some_and(|id| session.has_input(id)) {
            let now = self.clock.now();
            match &mut session.report.correction {
                Some(correction) => {
                    correction.text.push_str("\n\n");
                    correction.text.push_str(text);
                }
                None => {
                    session.report.correction = Some(Correction {
                        text: text.to_owned(),
                        at: now,
                        applied: false,
                    });
                    session.report.failures = 0;
                    session.report.failed_at = None;
                }
            }
            if input.is_some() {
                session.last_input = input.max(session.last_input);
            }
            // Saved before Claude is asked: a crash from here on loses nothing.
            self.store.save(&session).await?;
            tracing::info!(%user, session = session.id, "correction of the report saved");
        }
        self.revision(session).await
    }

    /// The report of an ended interview as it was last written, to hand over again (after a
    /// restart, before it was delivered).
    pub async fn report_of(&self, session: &Session) -> Option<ReportReady> {
        if session.report.version == 0 {
            return None;
        }
        let path = session.report_path.clone()?;
        let markdown = match tokio::fs::read_to_string(&path).await {
            Ok(text) => text,
            Err(_) => report::render(session, &self.catalog),
        };
        Some(self.ready(session, markdown, path))
    }

    /// The user's last archived interview and its report, for /export after the end.
    pub async fn last_completed(
        &self,
        user: UserId,
    ) -> Result<Option<(Session, Option<String>)>, EngineError> {
        let Some(session) = self.store.latest(Folder::Completed, user).await? else {
            return Ok(None);
        };
        let path = self.store.retired_path(&session, Folder::Completed, "md");
        let report = tokio::fs::read_to_string(&path).await.ok();
        Ok(Some((session, report)))
    }

    /// The user's ended interview, if the active one has ended.
    async fn ended(&self, user: UserId) -> Result<Option<Session>, EngineError> {
        Ok(match self.store.load(user).await? {
            Loaded::Session(session) if session.finished_at.is_some() => Some(*session),
            _ => None,
        })
    }

    async fn first_report(&self, mut session: Session) -> Result<ReportOutcome, EngineError> {
        let started = session.finished_at.expect("an ended interview");
        let Some(claude) = self.claude.clone() else {
            return self.publish_ready(session).await;
        };
        let now = self.clock.now();
        if let Some(retry_in) = waiting(&session, started, now) {
            return Ok(ReportOutcome::Pending {
                retry_in,
                revision: false,
            });
        }
        if given_up(started, now) {
            tracing::warn!(user = %session.user, session = session.id, failures = session.report.failures,
                "Claude stayed unavailable for a day: the report is made without it");
            return self.publish_ready(session).await;
        }
        if let Err(error) = self.write_due_summaries(&mut session).await? {
            return self.attempt_failed(session, started, false, error).await;
        }
        let prompt = report::prompt(&session);
        match self.ask_for_report(&claude, &mut session, &prompt).await {
            Ok(document) => {
                tracing::info!(user = %session.user, session = session.id,
                    prompt_bytes = prompt.len(), thin_sections = document.thin().len(),
                    "report written");
                session.report.document = Some(document);
                self.publish_ready(session).await
            }
            Err(error) => self.attempt_failed(session, started, false, error).await,
        }
    }

    /// Writes the revision the expert's correction asks for.
    async fn revision(&self, mut session: Session) -> Result<ReportOutcome, EngineError> {
        let correction = session
            .report
            .correction
            .clone()
            .expect("a revision is due only after a correction");
        let started = correction.at;
        let (Some(claude), Some(document)) = (self.claude.clone(), session.report.document.clone())
        else {
            // Without Claude, or without a structured report to revise, the correction is
            // attached as written.
            return self.revised(session, None).await;
        };
        let now = self.clock.now();
        if let Some(retry_in) = waiting(&session, started, now) {
            return Ok(ReportOutcome::Pending {
                retry_in,
                revision: true,
            });
        }
        if given_up(started, now) {
            tracing::warn!(user = %session.user, session = session.id,
                "Claude stayed unavailable for a day: the correction is attached as written");
            return self.revised(session, None).await;
        }
        let prompt = report::revision_prompt(&session, &document, &correction.text);
        match self.ask_for_report(&claude, &mut session, &prompt).await {
            Ok(revised) => {
                tracing::info!(user = %session.user, session = session.id, "report revised");
                self.revised(session, Some(revised)).await
            }
            Err(error) => self.attempt_failed(session, started, true, error).await,
        }
    }

    /// Asks Claude for a report (the first one or a revision) and reads it; the tokens are
    /// counted whatever the outcome, and a report that cannot be read is an unusable answer.
    async fn ask_for_report(
        &self,
        claude: &Arc<dyn Model>,
        session: &mut Session,
        prompt: &str,
    ) -> Result<report::Report, LlmError> {
        let system = self.prompts.report_prompt(session.language);
        let schema = report::schema();
        let request = WriteRequest {
            system: &system,
            prompt,
            schema: &schema,
            max_tokens: report::REPORT_MAX_TOKENS,
            check: report::check,
        };
        let clock = Instant::now();
        let written = self.write_counted(claude, session, &request).await?;
        tracing::debug!(user = %session.user, session = session.id,
            input_tokens = written.usage.input_tokens, output_tokens = written.usage.output_tokens,
            elapsed_ms = clock.elapsed().as_millis() as u64, "report answered");
        report::read(session, written.value).map_err(|reason| LlmError::Unusable {
            reason,
            usage: Default::default(),
        })
    }

    /// Closes the review with the revised report, or with the correction attached.
    async fn revised(
        &self,
        mut session: Session,
        revised: Option<report::Report>,
    ) -> Result<ReportOutcome, EngineError> {
        let applied = revised.is_some();
        if let Some(revised) = revised {
            session.report.document = Some(revised);
        }
        if let Some(correction) = &mut session.report.correction {
            correction.applied = applied;
        }
        session.report.review = Review::Corrected;
        self.publish_ready(session).await
    }

    /// Records a failed attempt and says when to try again.
    async fn attempt_failed(
        &self,
        mut session: Session,
        started: DateTime<Utc>,
        revision: bool,
        error: LlmError,
    ) -> Result<ReportOutcome, EngineError> {
        let now = self.clock.now();
        session.report.failures += 1;
        session.report.failed_at = Some(now);
        self.store.save(&session).await?;
        let retry_in = waiting(&session, started, now).unwrap_or(Duration::ZERO);
        tracing::warn!(user = %session.user, session = session.id, revision, %error,
            fallback = %error.fallback(), failures = session.report.failures,
            retry_in_s = retry_in.as_secs(), "the report could not be written; it is retried later");
        Ok(ReportOutcome::Pending { retry_in, revision })
    }

    /// Writes the next version of the report (the first, or the revision) into `completed/`
    /// and saves the session.
    pub(super) async fn publish(&self, session: &mut Session) -> Result<ReportReady, EngineError> {
        let report = &mut session.report;
        report.version += 1;
        report.failures = 0;
        report.failed_at = None;
        let path = match &session.report_path {
            Some(path) => path.clone(),
            None => self.store.retired_path(session, Folder::Completed, "md"),
        };
        session.report_path = Some(path.clone());
        let markdown = report::render(session, &self.catalog);
        self.store.write_report(&path, &markdown).await?;
        self.store.save(session).await?;
        let usage = session.usage;
        let cost = self.config.price.map(|price| price.cost(&usage.tokens()));
        tracing::info!(user = %session.user, session = session.id, version = session.report.version,
            offline = session.report.document.is_none(), input_tokens = usage.input_tokens,
            cache_write_tokens = usage.cache_creation_input_tokens,
            cache_read_tokens = usage.cache_read_input_tokens, output_tokens = usage.output_tokens,
            cost_usd = cost.map(|c| format!("{c:.4}")).unwrap_or_else(|| "unknown".into()),
            "report saved");
        Ok(self.ready(session, markdown, path))
    }

    async fn publish_ready(&self, mut session: Session) -> Result<ReportOutcome, EngineError> {
        let ready = self.publish(&mut session).await?;
        Ok(ReportOutcome::Ready(Box::new(ready)))
    }

    fn ready(&self, session: &Session, markdown: String, path: std::path::PathBuf) -> ReportReady {
        ReportReady {
            session: session.id,
            version: session.report.version,
            markdown,
            screen: report::screen(session, &self.catalog),
            path,
            offline: session.report.document.is_none(),
            review: session.ending() == Ending::Review,
            language: session.language,
        }
    }
}

/// How long until the next attempt may be made, if the last one failed too recently. Never
/// past the day's limit, when the report is made without Claude.
fn waiting(session: &Session, started: DateTime<Utc>, now: DateTime<Utc>) -> Option<Duration> {
    if given_up(started, now) {
        return None;
    }
    let failed_at = session.report.failed_at?;
    let give_up_at = started + chrono::Duration::from_std(REPORT_GIVE_UP).expect("in range");
    let due = failed_at
        + chrono::Duration::from_std(report_retry_delay(session.report.failures))
            .expect("in range");
    let due = due.min(give_up_at);
    (due > now).then(|| (due - now).to_std().unwrap_or_default())
}

fn given_up(started: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    (now - started).to_std().unwrap_or_default() >= REPORT_GIVE_UP
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_a_minute_then_double_up_to_an_hour() {
        let waits: Vec<u64> = (1..=9).map(|n| report_retry_delay(n).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    }
}
