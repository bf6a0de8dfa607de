//! Stage summaries: when a stage ends, one structured request distils its part of the
//! transcript ([`knowledge`]). The front end asks for them once the reply that opens the next
//! stage is on its way, so the expert never waits for one; whatever could not be written then
//! (Claude down, a crash) is written before the report.

use std::time::Instant;

use super::{Engine, EngineError};
use crate::{
    interview::{Session, Stage, UserId, context, knowledge, turn::WriteRequest},
    llm::{Fallback, LlmError},
    store::Loaded,
};

impl Engine {
    /// Writes the summary of every stage that has ended without one, saving after each.
    /// Returns how many were written; a stage whose request fails is left for later (the next
    /// stage change, or the report), and only storage failures are errors.
    pub async fn summarize_stages(&self, user: UserId) -> Result<usize, EngineError> {
        let Loaded::Session(mut session) = self.store.load(user).await? else {
            return Ok(0);
        };
        let before = session.summaries.len();
        // A failure is logged where it happens and retried later.
        let _ = self.write_due_summaries(&mut session).await?;
        Ok(session.summaries.len() - before)
    }

    /// Writes the due summaries of `session` in plan order, saving after each. Claude being
    /// unreachable or refusing the request stops it, with that error; a stage whose reply
    /// stays unusable is skipped (the report then uses nothing from it) so that one stage
    /// cannot hold up the rest.
    pub(super) async fn write_due_summaries(
        &self,
        session: &mut Session,
    ) -> Result<Result<(), LlmError>, EngineError> {
        let Some(claude) = self.claude.clone() else {
            return Ok(Ok(()));
        };
        let schema = knowledge::schema();
        let system = self.prompts.stage_summary_prompt(session.language);
        for stage in knowledge::due(session) {
            let prompt = knowledge::prompt(session, stage);
            let request = WriteRequest {
                system: &system,
                prompt: &prompt,
                schema: &schema,
                max_tokens: knowledge::STAGE_SUMMARY_MAX_TOKENS,
                check: knowledge::check,
            };
            let started = Instant::now();
            let written = match self.write_counted(&claude, session, &request).await {
                Ok(written) => written,
                Err(error) => {
                    self.store.save(session).await?;
                    tracing::warn!(user = %session.user, %stage, %error,
                        fallback = %error.fallback(), "stage summary failed; it is retried later");
                    if error.fallback() == Fallback::UnusableTurn {
                        continue;
                    }
                    return Ok(Err(error));
                }
            };
            let summary = match knowledge::read(session, stage, written.value, self.clock.now()) {
                Ok(summary) => summary,
                Err(reason) => {
                    self.store.save(session).await?;
                    tracing::warn!(user = %session.user, %stage, reason, "stage summary unreadable; skipped");
                    continue;
                }
            };
            tracing::info!(user = %session.user, %stage, elements = summary.elements.len(),
                decisions = summary.decisions.len(), input_tokens = written.usage.input_tokens,
                output_tokens = written.usage.output_tokens, repaired = written.repaired,
                elapsed_ms = started.elapsed().as_millis() as u64, "stage summarised");
            session.summaries.insert(stage, summary);
            refresh_context(session, stage);
            self.store.save(session).await?;
        }
        Ok(Ok(()))
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
