//! The engine as the engine tests drive it: one call per operation, by user id. Each call loads
//! the user's session into a [`SessionOwner`] (the owner the console and the chat worker use),
//! runs the operation through it, and the owner saves what changed; [`Owners::session`] reads
//! what was saved. Tests of what happens *while* Claude thinks drive a `SessionOwner` and the
//! engine's parts themselves.

use std::{future::Future, ops::Deref, sync::Arc};

use ai_interviewer::{
    i18n::Lang,
    interview::{
        Answer, Engine, EngineError, Outcome, Reply, ReportOutcome, Session, SessionOwner, Style,
        UserId, VoiceClip,
    },
    store::Loaded,
};

/// The engine, driven user by user.
#[derive(Clone)]
pub struct Owners {
    engine: Arc<Engine>,
}

/// A begun interview, as the engine tests read it.
#[derive(Debug)]
pub struct Begun {
    /// The first question.
    pub reply: Reply,
    /// An unreadable earlier session file was set aside.
    pub quarantined: bool,
}

impl Deref for Owners {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        &self.engine
    }
}

impl Owners {
    /// Drives `engine`.
    pub fn new(engine: Arc<Engine>) -> Self {
        Owners { engine }
    }

    /// The engine itself.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The owner of `user`'s session, loaded from disk.
    pub async fn owner(&self, user: UserId) -> SessionOwner {
        SessionOwner::load(&self.engine, user).await.unwrap()
    }

    /// The user's saved session, if any (an unreadable file counts as none).
    pub async fn session(&self, user: UserId) -> Result<Option<Session>, EngineError> {
        Ok(match self.engine.load(user).await? {
            Loaded::Session(session) => Some(*session),
            Loaded::Nothing | Loaded::Quarantined { .. } => None,
        })
    }

    pub async fn begin(
        &self,
        user: UserId,
        language: Lang,
        style: Style,
    ) -> Result<Begun, EngineError> {
        let begun = self
            .owner(user)
            .await
            .begin(&self.engine, language, style)
            .await?;
        match begun.outcome {
            Outcome::Reply(reply) => Ok(Begun {
                reply,
                quarantined: begun.quarantined,
            }),
            other => panic!("an opening turn asks a question, not {other:?}"),
        }
    }

    pub async fn answer(
        &self,
        user: UserId,
        text: &str,
        interrupt: impl Future<Output = ()>,
    ) -> Result<Outcome, EngineError> {
        self.owner(user)
            .await
            .answer(&self.engine, Answer::typed(text), interrupt)
            .await
    }

    pub async fn answer_input(
        &self,
        user: UserId,
        text: &str,
        input: Option<u64>,
        interrupt: impl Future<Output = ()>,
    ) -> Result<Outcome, EngineError> {
        let answer = Answer {
            input,
            ..Answer::typed(text)
        };
        self.owner(user)
            .await
            .answer(&self.engine, answer, interrupt)
            .await
    }

    pub async fn hold(
        &self,
        user: UserId,
        text: &str,
        input: Option<u64>,
    ) -> Result<Outcome, EngineError> {
        let answer = Answer {
            input,
            ..Answer::typed(text)
        };
        self.owner(user).await.hold(&self.engine, answer).await
    }

    pub async fn hold_voice(
        &self,
        user: UserId,
        transcript: &str,
        clip: VoiceClip,
        input: Option<u64>,
    ) -> Result<Outcome, EngineError> {
        let answer = Answer {
            input,
            ..Answer::typed(transcript)
        }
        .spoken(clip);
        self.owner(user).await.hold(&self.engine, answer).await
    }

    pub async fn answer_pending(
        &self,
        user: UserId,
        interrupt: impl Future<Output = ()>,
    ) -> Result<Outcome, EngineError> {
        self.owner(user)
            .await
            .answer_pending(&self.engine, interrupt)
            .await
    }

    pub async fn complete(&self, user: UserId) -> Result<Outcome, EngineError> {
        self.owner(user).await.complete(&self.engine).await
    }

    pub async fn resume(&self, user: UserId) -> Result<Option<Reply>, EngineError> {
        self.owner(user).await.resume(&self.engine).await
    }

    pub async fn set_language(&self, user: UserId, language: Lang) -> Result<bool, EngineError> {
        self.owner(user)
            .await
            .set_language(&self.engine, language)
            .await
    }

    pub async fn mark_delivered(
        &self,
        user: UserId,
        session: u32,
        index: usize,
    ) -> Result<bool, EngineError> {
        self.owner(user)
            .await
            .mark_delivered(&self.engine, session, index)
            .await
    }

    pub async fn reset(&self, user: UserId) -> Result<bool, EngineError> {
        self.owner(user).await.set_aside(&self.engine).await
    }

    pub async fn summarize_stages(&self, user: UserId) -> Result<usize, EngineError> {
        self.owner(user).await.summarize_stages(&self.engine).await
    }

    pub async fn write_report(&self, user: UserId) -> Result<ReportOutcome, EngineError> {
        self.owner(user).await.write_report(&self.engine).await
    }

    pub async fn confirm_report(&self, user: UserId) -> Result<bool, EngineError> {
        self.owner(user).await.confirm_report(&self.engine).await
    }

    pub async fn correct_report(
        &self,
        user: UserId,
        text: &str,
        input: Option<u64>,
    ) -> Result<ReportOutcome, EngineError> {
        self.owner(user)
            .await
            .correct_report(&self.engine, text, input)
            .await
    }

    pub async fn retire_finished(&self, user: UserId) -> Result<bool, EngineError> {
        self.owner(user).await.retire_finished(&self.engine).await
    }
}
