//! The end of an interview: the report, its check by the expert, and what happens when
//! Claude is unavailable.
//!
//! The report is composed from the stage summaries by one structured request. If Claude is
//! down, the session keeps the report pending (its failures and when the last one was) and
//! [`Engine::write_report`] says when to try again, with a backoff that doubles from a minute
//! to an hour; after a day the report is made without Claude: the expert's answers arranged
//! under the report's sections, under a note. The expert then confirms the report or
//! corrects it once; the correction produces one revised report (or, if Claude cannot revise
//! it within a day, the report with the correction attached), and the last version written is
//! the one kept in `completed/`.
//!
//! As for turns, writing happens on a copy: [`Engine::report_job`] decides from the session
//! what is due (and whether now), [`Engine::write_report`] asks Claude, and
//! [`Engine::apply_report`] brings the result into the session as it is by then.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};

use super::{Engine, EngineError, SummariesDone, Usage, Work};
use crate::{
    interview::{
        Ending, ReportOutcome, ReportReady, Session, UserId,
        outcome::Rejection,
        report::{self, Correction, Review},
        turn::WriteRequest,
    },
    llm::{LlmError, Model},
    store::{Filed, Folder},
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

/// What an ended interview waits for, with what doing it needs: [`Session::ending`]'s
/// `ReportDue` and `RevisionDue`, as types. A session file edited by hand into a state that
/// has neither (ended with no end time, a revision due without a correction) waits for
/// nothing here, rather than tripping over what is missing.
enum Due<'a> {
    /// The first report, due since the interview ended.
    Report { ended: DateTime<Utc> },
    /// The revision the expert's correction asks for.
    Revision { correction: &'a Correction },
}

fn due(session: &Session) -> Option<Due<'_>> {
    match session.ending() {
        Ending::ReportDue => session.finished_at.map(|ended| Due::Report { ended }),
        Ending::RevisionDue => session
            .report
            .correction
            .as_ref()
            .map(|correction| Due::Revision { correction }),
        Ending::Running | Ending::Review | Ending::Done => None,
    }
}

/// What an ended interview's report needs now, decided from its session by
/// [`Engine::report_job`]; [`Engine::write_report`] does it.
#[derive(Debug)]
pub struct ReportJob {
    session: u32,
    step: JobStep,
}

#[derive(Debug)]
enum JobStep {
    /// Nothing is due.
    Nothing,
    /// The last attempt failed too recently.
    Wait { retry_in: Duration, revision: bool },
    /// The first report, made without Claude (none configured, or a day went by without it).
    Offline,
    /// The correction, attached as written.
    Attach,
    /// The first report, by Claude, after the summaries still due.
    Write {
        copy: Box<Session>,
        started: DateTime<Utc>,
    },
    /// The revision, by Claude.
    Revise {
        copy: Box<Session>,
        document: Box<report::Report>,
        correction: String,
        started: DateTime<Utc>,
    },
}

/// What writing the report came to, for [`Engine::apply_report`].
#[derive(Debug)]
pub struct ReportDone {
    session: u32,
    /// The stage summaries written on the way, and what every request cost.
    summaries: SummariesDone,
    result: Written,
}

#[derive(Debug)]
enum Written {
    Nothing,
    Wait {
        retry_in: Duration,
        revision: bool,
    },
    /// The first report: Claude's, or `None` to make it without Claude.
    First(Option<Box<report::Report>>),
    /// The revision: Claude's, or `None` to attach the correction as written.
    Revised(Option<Box<report::Report>>),
    Failed {
        started: DateTime<Utc>,
        revision: bool,
        error: LlmError,
    },
}

impl Engine {
    /// What the ended interview in `session` waits for: its report (stage summaries still due
    /// first), or the revision after the expert's correction. When the last attempt failed too
    /// recently, the job only says when to try again; Claude is not asked.
    pub fn report_job(&self, session: Option<&Session>) -> ReportJob {
        let Some(session) = session else {
            return ReportJob {
                session: 0,
                step: JobStep::Nothing,
            };
        };
        let now = self.clock.now();
        let step = match due(session) {
            None => JobStep::Nothing,
            Some(Due::Report { ended }) => {
                if self.claude.is_none() {
                    JobStep::Offline
                } else if let Some(retry_in) = waiting(session, ended, now) {
                    JobStep::Wait {
                        retry_in,
                        revision: false,
                    }
                } else if given_up(ended, now) {
                    tracing::warn!(user = %session.user, session = session.id, failures = session.report.failures,
                        "Claude stayed unavailable for a day: the report is made without it");
                    JobStep::Offline
                } else {
                    JobStep::Write {
                        copy: Box::new(session.clone()),
                        started: ended,
                    }
                }
            }
            Some(Due::Revision { correction }) => {
                let started = correction.at;
                match (&self.claude, &session.report.document) {
                    // Without Claude, or without a structured report to revise, the correction
                    // is attached as written.
                    (None, _) | (_, None) => JobStep::Attach,
                    (Some(_), Some(document)) => {
                        if let Some(retry_in) = waiting(session, started, now) {
                            JobStep::Wait {
                                retry_in,
                                revision: true,
                            }
                        } else if given_up(started, now) {
                            tracing::warn!(user = %session.user, session = session.id,
                                "Claude stayed unavailable for a day: the correction is attached as written");
                            JobStep::Attach
                        } else {
                            JobStep::Revise {
                                copy: Box::new(session.clone()),
                                document: Box::new(document.clone()),
                                correction: correction.text.clone(),
                                started,
                            }
                        }
                    }
                }
            }
        };
        ReportJob {
            session: session.id,
            step,
        }
    }

    /// Does what `job` says: asks Claude for the summaries still due and the report, or for
    /// the revision. Claude failing is not an error: [`Engine::apply_report`] records the
    /// attempt and says when to try again.
    pub async fn write_report(&self, job: ReportJob) -> ReportDone {
        let mut summaries = SummariesDone::of(job.session);
        let result = match (job.step, self.claude.clone()) {
            (JobStep::Nothing, _) => Written::Nothing,
            (JobStep::Wait { retry_in, revision }, _) => Written::Wait { retry_in, revision },
            (JobStep::Offline, _) | (JobStep::Write { .. }, None) => Written::First(None),
            (JobStep::Attach, _) | (JobStep::Revise { .. }, None) => Written::Revised(None),
            (JobStep::Write { mut copy, started }, Some(claude)) => {
                match self.write_due_summaries(&mut copy, &mut summaries).await {
                    Err(error) => Written::Failed {
                        started,
                        revision: false,
                        error,
                    },
                    Ok(()) => {
                        let prompt = report::prompt(&copy);
                        match self
                            .ask_for_report(&claude, &copy, &mut summaries.billed, &prompt)
                            .await
                        {
                            Ok(document) => {
                                tracing::info!(user = %copy.user, session = copy.id,
                                    prompt_bytes = prompt.len(), thin_sections = document.thin().len(),
                                    "report written");
                                Written::First(Some(Box::new(document)))
                            }
                            Err(error) => Written::Failed {
                                started,
                                revision: false,
                                error,
                            },
                        }
                    }
                }
            }
            (
                JobStep::Revise {
                    copy,
                    document,
                    correction,
                    started,
                },
                Some(claude),
            ) => {
                let prompt = report::revision_prompt(&copy, &document, &correction);
                match self
                    .ask_for_report(&claude, &copy, &mut summaries.billed, &prompt)
                    .await
                {
                    Ok(revised) => {
                        tracing::info!(user = %copy.user, session = copy.id, "report revised");
                        Written::Revised(Some(Box::new(revised)))
                    }
                    Err(error) => Written::Failed {
                        started,
                        revision: true,
                        error,
                    },
                }
            }
        };
        ReportDone {
            session: job.session,
            summaries,
            result,
        }
    }

    /// Brings what [`Engine::write_report`] wrote into `session` as it is now, and writes the
    /// report's file: a version of the report is ready, or the attempt is recorded and
    /// [`ReportOutcome::Pending`] says when to try again. The owner saves `session`.
    pub async fn apply_report(
        &self,
        session: Option<&mut Session>,
        done: ReportDone,
    ) -> Result<ReportOutcome, EngineError> {
        let Some(session) = session.filter(|s| s.id == done.session) else {
            return Ok(ReportOutcome::Nothing);
        };
        self.apply_summaries(Some(&mut *session), done.summaries);
        match done.result {
            Written::Nothing => Ok(ReportOutcome::Nothing),
            Written::Wait { retry_in, revision } => {
                Ok(ReportOutcome::Pending { retry_in, revision })
            }
            Written::First(document) => {
                if !matches!(due(session), Some(Due::Report { .. })) {
                    return Ok(ReportOutcome::Nothing);
                }
                if let Some(document) = document {
                    session.report.document = Some(*document);
                }
                self.publish_ready(session).await
            }
            Written::Revised(revised) => {
                if !matches!(due(session), Some(Due::Revision { .. })) {
                    return Ok(ReportOutcome::Nothing);
                }
                self.revised(session, revised.map(|r| *r)).await
            }
            Written::Failed {
                started,
                revision,
                error,
            } => Ok(self.attempt_failed(session, started, revision, error)),
        }
    }

    /// The expert confirmed the report. Returns whether one was waiting for it (then
    /// `session` changed).
    pub fn confirm_report(&self, session: &mut Session) -> bool {
        if session.ending() != Ending::Review {
            return false;
        }
        session.report.review = Review::Confirmed;
        tracing::info!(user = %session.user, session = session.id, "report confirmed by the expert");
        self.report_settled(session);
        true
    }

    /// Takes the expert's correction of the report into `session`: the revision is then due
    /// ([`Engine::report_job`]). Text arriving before the revision is written joins the
    /// correction; an input already taken (`input`, as for answers) is not taken twice.
    /// Returns whether `session` changed (the owner saves it before Claude is asked, so a
    /// crash loses nothing), or the outcome when the correction cannot be taken.
    pub fn take_correction(
        &self,
        session: Option<&mut Session>,
        text: &str,
        input: Option<u64>,
    ) -> Result<bool, ReportOutcome> {
        let text = self
            .checked(text)
            .map_err(|rejection: Rejection| ReportOutcome::Rejected(rejection))?;
        let Some(session) =
            session.filter(|s| matches!(s.ending(), Ending::Review | Ending::RevisionDue))
        else {
            return Err(ReportOutcome::Nothing);
        };
        if input.is_some_and(|id| session.has_input(id)) {
            return Ok(false);
        }
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
        tracing::info!(user = %session.user, session = session.id, "correction of the report taken");
        Ok(true)
    }

    /// The report of an ended interview as it was last written, to hand over again (after a
    /// restart, before it was delivered).
    pub async fn report_of(&self, session: &Session) -> Option<ReportReady> {
        if session.report.version == 0 {
            return None;
        }
        let path = session.report_path.clone()?;
        let markdown = match self.saved_report(session).await {
            Some(text) => text,
            None => report::render(session, &self.catalog),
        };
        Some(self.ready(session, markdown, path))
    }

    /// The report of an ended interview as it was last saved, if it was (and can be read).
    pub async fn saved_report(&self, session: &Session) -> Option<String> {
        let filed = Filed::of(session, Folder::Completed);
        match self.store.attachment(filed, "md").await {
            Ok(report) => report,
            Err(error) => {
                tracing::warn!(user = %session.user, session = session.id, %error,
                    "the saved report could not be read");
                None
            }
        }
    }

    /// The user's last archived interview and its report, for /export after the end.
    pub async fn last_completed(
        &self,
        user: UserId,
    ) -> Result<Option<(Session, Option<String>)>, EngineError> {
        let Some(session) = self.store.latest(Folder::Completed, user).await? else {
            return Ok(None);
        };
        let report = self.saved_report(&session).await;
        Ok(Some((session, report)))
    }

    /// Asks Claude for a report (the first one or a revision) and reads it; the tokens are
    /// counted whatever the outcome, and a report that cannot be read is an unusable answer.
    async fn ask_for_report(
        &self,
        claude: &Arc<dyn Model>,
        session: &Session,
        billed: &mut Vec<(Work, Usage)>,
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
        let written = self
            .write_counted(claude, session, Work::Report, billed, &request)
            .await?;
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
        session: &mut Session,
        revised: Option<report::Report>,
    ) -> Result<ReportOutcome, EngineError> {
        let applied = revised.is_some();
        if let Some(revised) = revised
            && let Some(first) = session.report.document.replace(revised)
        {
            session.report.earlier.push(first);
        }
        if let Some(correction) = &mut session.report.correction {
            correction.applied = applied;
        }
        session.report.review = Review::Corrected;
        let ready = self.publish_ready(session).await;
        self.report_settled(session);
        ready
    }

    /// Records a failed attempt and says when to try again.
    fn attempt_failed(
        &self,
        session: &mut Session,
        started: DateTime<Utc>,
        revision: bool,
        error: LlmError,
    ) -> ReportOutcome {
        let now = self.clock.now();
        session.report.failures += 1;
        session.report.failed_at = Some(now);
        let retry_in = waiting(session, started, now).unwrap_or(Duration::ZERO);
        tracing::warn!(user = %session.user, session = session.id, revision, %error,
            fallback = %error.fallback(), failures = session.report.failures,
            retry_in_s = retry_in.as_secs(), "the report could not be written; it is retried later");
        ReportOutcome::Pending { retry_in, revision }
    }

    /// Writes the next version of the report (the first, or the revision) into `completed/`;
    /// the owner saves `session`.
    pub(super) async fn publish(&self, session: &mut Session) -> Result<ReportReady, EngineError> {
        let report = &mut session.report;
        report.version += 1;
        report.failures = 0;
        report.failed_at = None;
        // Filed under the time it finished, which is set by now: the report lies beside the
        // interview once it is retired.
        let filed = Filed::of(session, Folder::Completed);
        let path = match &session.report_path {
            Some(path) => path.clone(),
            None => self.store.name_of(filed, "md"),
        };
        session.report_path = Some(path.clone());
        let markdown = report::render(session, &self.catalog);
        self.store.attach(filed, "md", &markdown).await?;
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

    async fn publish_ready(&self, session: &mut Session) -> Result<ReportOutcome, EngineError> {
        let ready = self.publish(session).await?;
        Ok(ReportOutcome::Ready(Box::new(ready)))
    }

    fn ready(&self, session: &Session, markdown: String, path: std::path::PathBuf) -> ReportReady {
        ReportReady {
            session: session.id,
            version: session.report.version,
            shown: report::shown(session, &markdown),
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
    // Times read from the file are added to with care: a hand-edited one may be anything.
    let later = |at: DateTime<Utc>, wait: Duration| {
        chrono::Duration::from_std(wait)
            .ok()
            .and_then(|wait| at.checked_add_signed(wait))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    };
    let give_up_at = later(started, REPORT_GIVE_UP);
    let due = later(failed_at, report_retry_delay(session.report.failures)).min(give_up_at);
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
