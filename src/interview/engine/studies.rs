//! Studies in the engine: new interviews of a study, and the study's synthesis, written on
//! demand ([`Engine::synthesize`]) and again in the background whenever an expert of the study
//! settles their report ([`Engine::report_settled`], which the engine calls itself when a
//! report is confirmed or its revision written).
//!
//! A synthesis run reads every settled report of the study from the store, asks Claude once
//! (or merges the items by section without it), and keeps the result as data and as Markdown
//! in the study's folder. Runs take turns on one lock, so two reports confirmed together give
//! two runs one after the other, the later one reading both.

use std::{sync::Arc, time::Instant};

use super::{Engine, Usage};
use crate::{
    interview::{
        Session, UserId,
        synthesis::{self, Material, Synthesis},
        turn::{InterviewModel, WriteRequest},
    },
    llm::{Model, Price},
    metrics::{CallOutcome, Metrics},
    model::{Clock, Study, StudyId, report::Review},
    store::{InterviewStore, StoreError, StudyRecords, StudyStoreError},
};

/// What a synthesis run needs, cloned out of the engine so that it can run in the background.
#[derive(Clone)]
pub(super) struct Synthesizer {
    store: Arc<dyn InterviewStore>,
    studies: Arc<dyn StudyRecords>,
    claude: Option<Arc<dyn Model>>,
    /// The prompts (the synthesis writer's among them).
    prompts: super::super::Prompts,
    metrics: Metrics,
    model: String,
    price: Option<Price>,
    clock: Arc<dyn Clock>,
    /// Held by the run in progress.
    lock: Arc<tokio::sync::Mutex<()>>,
}

/// Where a study stands, for the operator's desk: its interviews and what it has cost.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct StudyOverview {
    /// Interviews begun with its invite link (one per expert who joined; an interview set
    /// aside is not counted).
    pub joined: usize,
    /// Of those, still running.
    pub in_progress: usize,
    /// Ended: the report written, or on its way.
    pub completed: usize,
    /// Reports the experts settled (confirmed, or corrected and revised): what the synthesis
    /// rests on.
    pub settled: usize,
    /// Tokens over its interviews (turns, summaries, reports) and its latest synthesis.
    pub tokens: Usage,
    /// What those tokens cost at the current model's price, when it is known.
    pub cost_usd: Option<f64>,
}

impl Engine {
    /// Where study `id` stands: its interviews in progress and completed, the reports settled,
    /// and the tokens and cost of its interviews and of its latest synthesis.
    pub async fn study_overview(&self, id: &StudyId) -> Result<StudyOverview, StoreError> {
        let mut overview = StudyOverview::default();
        for session in self.store.study_sessions(id).await? {
            overview.joined += 1;
            if session.finished_at.is_none() {
                overview.in_progress += 1;
            } else {
                overview.completed += 1;
            }
            if matches!(session.report.review, Review::Confirmed | Review::Corrected)
                && session.finished_at.is_some()
            {
                overview.settled += 1;
            }
            overview.tokens += session.usage.tokens();
        }
        if let Some(synthesis) = self.synthesis(id).await? {
            overview.tokens += synthesis.usage;
        }
        overview.cost_usd = self.config.price.map(|p| p.cost(&overview.tokens));
        Ok(overview)
    }

    /// The studies.
    pub fn studies(&self) -> &dyn StudyRecords {
        self.studies.as_ref()
    }

    /// A new interview of `study`, in memory (as [`Engine::open`]): in the study's language
    /// and personality, following its plan as it stands now.
    pub fn open_in_study(&self, user: UserId, study: &Study) -> Session {
        let mut session = self.open(user, study.language, study.style);
        session.join(study);
        tracing::info!(%user, study = %study.id, session = session.id, "interview joins a study");
        session
    }

    /// Writes the synthesis of study `id` now, from every settled report of it, and keeps it
    /// (`studies/<id>.synthesis.json` and `.md`). Claude failing is no error: the synthesis is
    /// then the items merged by section, labelled as not analysed.
    pub async fn synthesize(&self, id: &StudyId) -> Result<Synthesis, StudyStoreError> {
        self.synthesizer().run(id, None).await
    }

    /// The latest synthesis of study `id`, if one was written.
    pub async fn synthesis(&self, id: &StudyId) -> Result<Option<Synthesis>, StoreError> {
        let bytes = self.studies.synthesis_json(id).await?;
        Ok(bytes.and_then(|b| {
            serde_json::from_slice(&b)
                .inspect_err(
                    |e| tracing::warn!(study = %id, error = %e, "synthesis file cannot be read"),
                )
                .ok()
        }))
    }

    /// Adds the latest synthesis's questions for the next experts to study `id`'s plan, each
    /// in its stage: interviews begun from now on ask them. Returns how many were new.
    pub async fn add_synthesis_questions(&self, id: &StudyId) -> Result<usize, StudyStoreError> {
        let Some(synthesis) = self.synthesis(id).await? else {
            return Ok(0);
        };
        let mut added = 0;
        for (stage, questions) in synthesis.questions_by_stage() {
            added += self.studies.add_questions(id, stage, &questions).await?;
        }
        Ok(added)
    }

    /// The hook for a report settled by its expert (confirmed, or corrected and revised):
    /// when the interview belongs to a study, the study's synthesis is written again in the
    /// background, with `session` as it is now (its owner may not have saved it yet).
    pub fn report_settled(&self, session: &Session) {
        let Some(study) = session.study.clone() else {
            return;
        };
        if !matches!(session.report.review, Review::Confirmed | Review::Corrected) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let synthesizer = self.synthesizer();
        let session = session.clone();
        runtime.spawn(async move {
            if let Err(error) = synthesizer.run(&study, Some(&session)).await {
                tracing::warn!(%study, %error, "the study's synthesis could not be written");
            }
        });
    }

    fn synthesizer(&self) -> Synthesizer {
        Synthesizer {
            store: self.store.clone(),
            studies: self.studies.clone(),
            claude: self.claude.clone(),
            prompts: self.prompts.clone(),
            metrics: self.metrics.clone(),
            model: self.config.model.clone(),
            price: self.config.price,
            clock: self.clock.clone(),
            lock: self.synthesis_lock.clone(),
        }
    }
}

impl Synthesizer {
    /// One run: gathers the settled reports (with `fresh` in place of its saved copy), writes
    /// the synthesis and keeps it.
    async fn run(
        &self,
        id: &StudyId,
        fresh: Option<&Session>,
    ) -> Result<Synthesis, StudyStoreError> {
        let _turn = self.lock.lock().await;
        let study = self
            .studies
            .get(id)
            .await?
            .ok_or_else(|| StudyStoreError::Unknown(id.clone()))?;
        let mut sessions = self.store.study_sessions(id).await?;
        if let Some(fresh) = fresh {
            sessions.retain(|s| !(s.user == fresh.user && s.id == fresh.id));
            sessions.push(fresh.clone());
            sessions.sort_by_key(|s| (s.started_at, s.user, s.id));
        }
        let material = Material::gather(&study, &sessions);
        let now = self.clock.now();
        let synthesis = match &self.claude {
            Some(claude) if !material.items.is_empty() => {
                self.analyse(claude, &study, &material, now).await
            }
            _ => Synthesis::merged(&study, &material, now),
        };
        let json = serde_json::to_vec_pretty(&synthesis).map_err(|source| StoreError::Encode {
            what: "synthesis",
            source,
        })?;
        self.studies
            .save_synthesis(id, json, &synthesis::render(&synthesis))
            .await?;
        tracing::info!(study = %id, experts = synthesis.experts.len(), analysed = synthesis.analysed,
            dropped = synthesis.dropped, "study synthesis written");
        Ok(synthesis)
    }

    /// Asks Claude for the synthesis and reads it; a failure gives the merged synthesis, with
    /// the tokens spent counted all the same.
    async fn analyse(
        &self,
        claude: &Arc<dyn Model>,
        study: &Study,
        material: &Material,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Synthesis {
        let system = self.prompts.synthesis_prompt(study.language);
        let prompt = material.prompt(study.language.english_name());
        let schema = synthesis::schema();
        let request = WriteRequest {
            system: &system,
            prompt: &prompt,
            schema: &schema,
            max_tokens: synthesis::SYNTHESIS_MAX_TOKENS,
            check: synthesis::check,
        };
        let started = Instant::now();
        let result = claude.write(&request).await;
        let usage: Usage = match &result {
            Ok(written) => written.usage,
            Err(error) => error.usage(),
        };
        let outcome = if result.is_ok() {
            CallOutcome::Success
        } else {
            CallOutcome::Failure
        };
        self.metrics
            .claude_call(&self.model, outcome, started.elapsed(), usage);
        let read = result.map_err(|e| e.to_string()).and_then(|w| {
            synthesis::read(Synthesis::empty(study, material, now), material, w.value)
        });
        let mut synthesis = match read {
            Ok(synthesis) => synthesis,
            Err(reason) => {
                tracing::warn!(study = %study.id, %reason, "Claude could not write the synthesis: merged without analysis");
                Synthesis::merged(study, material, now)
            }
        };
        synthesis.usage = usage;
        synthesis.cost_usd = self.price.map(|p| p.cost(&usage));
        synthesis.model = synthesis.analysed.then(|| self.model.clone());
        synthesis
    }
}
