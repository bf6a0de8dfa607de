//! Stage summaries: when a stage ends, one structured request distils its part of the
//! transcript ([`knowledge`]). The front end asks for them once the reply that opens the next
//! stage is on its way, so the expert never waits for one; whatever could not be written then
//! (Claude down, a crash) is written before the report.
//!
//! They are written on a copy of the session ([`SummariesJob`]) and brought into the session
//! as it is by then ([`Engine::apply_summaries`]).

use std::time::Instant;

use super::{Engine, LlmError, Usage, Work};
use crate::{
    interview::{Session, Stage, context, knowledge, turn::WriteRequest},
    llm::Fallback,
};

/// The summaries due when the job was made, to write on this copy of the session.
#[derive(Debug)]
pub struct SummariesJob {
    copy: Session,
}

/// What writing the due summaries came to, for [`Engine::apply_summaries`].
#[derive(Debug)]
pub struct SummariesDone {
    /// The interview they belong to.
    pub(super) session: u32,
    /// The summaries written, in plan order.
    written: Vec<(Stage, knowledge::StageSummary)>,
    /// What every request cost, usable or not, and for which work (the report job writes
    /// the summaries still due and the report into the same one).
    pub(super) billed: Vec<(Work, Usage)>,
}

impl SummariesDone {
    /// Nothing written yet, for interview `session`.
    pub(super) fn of(session: u32) -> Self {
        SummariesDone {
            session,
            written: Vec::new(),
            billed: Vec::new(),
        }
    }

    /// How many summaries were written.
    pub fn written(&self) -> usize {
        self.written.len()
    }

    /// Nothing was asked of Claude (so nothing changes in the session).
    pub fn is_empty(&self) -> bool {
        self.written.is_empty() && self.billed.is_empty()
    }
}

impl Engine {
    /// The summaries due in `session` (stages that ended without one), if there are any and a
    /// model to write them.
    pub fn summaries_job(&self, session: Option<&Session>) -> Option<SummariesJob> {
        let session = session?;
        if self.claude.is_none() || knowledge::due(session).is_empty() {
            return None;
        }
        Some(SummariesJob {
            copy: session.clone(),
        })
    }

    /// Writes the summaries of `job`. A stage whose request fails is left for later (the next
    /// stage change, or the report).
    pub async fn write_summaries(&self, job: SummariesJob) -> SummariesDone {
        let mut copy = job.copy;
        let mut done = SummariesDone::of(copy.id);
        // A failure is logged where it happens and retried later.
        let _ = self.write_due_summaries(&mut copy, &mut done).await;
        done
    }

    /// Brings the summaries written into `session` (the owner saves it). Returns how many were
    /// new to it.
    pub fn apply_summaries(&self, session: Option<&mut Session>, done: SummariesDone) -> usize {
        let Some(session) = session.filter(|s| s.id == done.session) else {
            return 0;
        };
        for (work, usage) in done.billed {
            session.usage.add_tokens(work, usage);
        }
        let mut added = 0;
        for (stage, summary) in done.written {
            if session.summaries.contains_key(&stage) {
                continue;
            }
            session.summaries.insert(stage, summary);
            refresh_context(session, stage);
            added += 1;
        }
        added
    }

    /// Writes the due summaries of `copy` in plan order into it and into `done`. Claude being
    /// unreachable or refusing the request stops it, with that error; a stage whose reply
    /// stays unusable is skipped (the report then uses nothing from it) so that one stage
    /// cannot hold up the rest.
    pub(super) async fn write_due_summaries(
        &self,
        copy: &mut Session,
        done: &mut SummariesDone,
    ) -> Result<(), LlmError> {
        let Some(claude) = self.claude.clone() else {
            return Ok(());
        };
        let schema = knowledge::schema();
        let system = self.prompts.stage_summary_prompt(copy.language);
        for stage in knowledge::due(copy) {
            let prompt = knowledge::prompt(copy, stage);
            let request = WriteRequest {
                system: &system,
                prompt: &prompt,
                schema: &schema,
                max_tokens: knowledge::STAGE_SUMMARY_MAX_TOKENS,
                check: knowledge::check,
            };
            let started = Instant::now();
            let written = match self
                .write_counted(&claude, copy, Work::Summaries, &mut done.billed, &request)
                .await
            {
                Ok(written) => written,
                Err(error) => {
                    tracing::warn!(user = %copy.user, %stage, %error,
                        fallback = %error.fallback(), "stage summary failed; it is retried later");
                    if matches!(error.fallback(), Fallback::UnusableTurn | Fallback::Refusal) {
                        continue;
                    }
                    return Err(error);
                }
            };
            let summary = match knowledge::read(copy, stage, written.value, self.clock.now()) {
                Ok(summary) => summary,
                Err(reason) => {
                    tracing::warn!(user = %copy.user, %stage, reason, "stage summary unreadable; skipped");
                    continue;
                }
            };
            tracing::info!(user = %copy.user, %stage, elements = summary.elements.len(),
                decisions = summary.decisions.len(), input_tokens = written.usage.input_tokens,
                output_tokens = written.usage.output_tokens, repaired = written.repaired,
                elapsed_ms = started.elapsed().as_millis() as u64, "stage summarised");
            // The copy gets it too: the report written from the copy next reads it.
            copy.summaries.insert(stage, summary.clone());
            refresh_context(copy, stage);
            done.written.push((stage, summary));
        }
        Ok(())
    }
}

/// When part of `stage` is already folded out of the window, the summary that stands for the
/// folded messages is rebuilt so that it carries the stage's findings. Otherwise it is left
/// as it is: the stage is still in the window word for word, and an unchanged summary keeps
/// the request's cached prefix.
fn refresh_context(session: &mut Session, stage: Stage) {
    let folded = session.context.folded;
    let first = session.transcript.iter().position(|e| e.stage == stage);
    if first.is_some_and(|first| first < folded) {
        session.context.summary = context::summarize(session);
    }
}
