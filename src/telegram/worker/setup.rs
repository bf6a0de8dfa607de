//! The setup flow in one message: /start shows the language buttons; the choice edits that
//! message into the interviewer choice, then into the briefing with its 🚀 Begin button; the
//! first question comes as a new message. Also the Resume / Start over choice for an
//! interview already under way.

use super::delivery::Flush;
use super::{ChatWorker, Done, Op, Step};
use crate::{
    i18n::{Lang, Msg},
    interview::{Answer, Ending, Style},
    model::{Study, StudyId},
    store::Invite,
    telegram::{event::Person, keyboards, outbox::Body, profile::Profile, state::ChatState},
};

impl ChatWorker {
    /// /start: offers to resume an interview under way, else asks for the language. While the
    /// last interview's report is still being written, a new one waits for it.
    pub(super) async fn start_command(&mut self, first_name: &str, update: u32) -> Step {
        match self.owner.session() {
            Some(session) if session.finished_at.is_none() => {
                let resumable = Resumable {
                    session: session.id,
                    stage: session.stage,
                    answers: session.answers(),
                };
                self.offer_resume(resumable, Vec::new(), update).await
            }
            Some(session)
                if matches!(session.ending(), Ending::ReportDue | Ending::RevisionDue) =>
            {
                self.notice(Msg::ReportOnItsWay, update).await
            }
            _ => {
                let text = self.text_of(&Msg::Welcome {
                    name: first_name.to_owned(),
                });
                self.ask_language(text, false, update).await
            }
        }
    }

    /// `/start <code>` from a study's invite link: the welcome names the study, and the
    /// briefing in the study's language, under the study's notice, comes with 🚀 Begin at
    /// once: the study fixed the language and the personality, so neither is asked. A closed
    /// or unknown code gets a polite word and the normal start; so does an interview under way
    /// (the Resume / Start over choice of a plain /start).
    pub(super) async fn invite(&mut self, code: &str, first_name: &str, update: u32) -> Step {
        if self.owner.session().is_some_and(|s| {
            s.finished_at.is_none() || matches!(s.ending(), Ending::ReportDue | Ending::RevisionDue)
        }) {
            return self.start_command(first_name, update).await;
        }
        let study = match self.deps.engine.studies().by_invite(code).await? {
            Invite::Open(study) => study,
            Invite::Closed | Invite::Unknown => {
                tracing::info!(user = %self.user, "invite link closed or unknown: a normal start");
                let text = format!(
                    "{}\n\n{}",
                    self.text_of(&Msg::InviteInvalid),
                    self.text_of(&Msg::Welcome {
                        name: first_name.to_owned(),
                    })
                );
                return self.ask_language(text, false, update).await;
            }
        };
        tracing::info!(user = %self.user, study = %study.id, "invite link taken");
        self.lang = study.language;
        let welcome = self.text_of(&Msg::WelcomeStudy {
            name: first_name.to_owned(),
            title: study.title.clone(),
        });
        let text = format!("{welcome}\n\n{}", self.briefing(study.style, Some(&study)));
        let keyboard = keyboards::begin(self.deps.engine.catalog(), self.lang);
        self.record.dialogue = ChatState::Briefing {
            style: study.style,
            prompt: None,
            study: Some(study.id.clone()),
        };
        self.record.push_prompt(Body::ask(text, keyboard));
        self.record.see(update);
        self.save().await?;
        self.flush(Flush::Outbox).await
    }

    /// Shows the language buttons (the chat's language first) in a new message.
    pub(super) async fn ask_language(
        &mut self,
        text: String,
        during_interview: bool,
        update: u32,
    ) -> Step {
        let keyboard = keyboards::languages(self.deps.engine.catalog(), self.lang);
        self.record.dialogue = ChatState::ChoosingLanguage {
            prompt: None,
            during_interview,
        };
        self.record.push_prompt(Body::ask(text, keyboard));
        self.record.see(update);
        self.save().await?;
        self.flush(Flush::Outbox).await
    }

    /// A language button on `message`: remembers it, then goes on with the setup in the same
    /// message, or switches the running interview.
    pub(super) async fn language_chosen(
        &mut self,
        lang: Lang,
        message: i32,
        during_interview: bool,
        update: u32,
    ) -> Step {
        self.lang = lang;
        self.language_chosen = true;
        Profile { language: lang }
            .save(self.deps.engine.store(), self.user)
            .await?;
        let chosen = self.text_of(&Msg::LanguageChosen);
        if during_interview && self.owner.set_language(&self.deps.engine, lang).await? {
            self.record.dialogue = ChatState::Interviewing;
            let text = format!("{chosen}\n\n{}", self.text_of(&Msg::LanguageChanged));
            return self.edit(message, text, None, update).await;
        }
        self.ask_style(message, chosen, update).await
    }

    /// Edits `message` into the interviewer choice, under `intro`.
    pub(super) async fn ask_style(&mut self, message: i32, intro: String, update: u32) -> Step {
        let mut text = intro;
        text.push_str("\n\n");
        text.push_str(&self.text_of(&Msg::ChooseStyle));
        for style in Style::ALL {
            let name = self.text_of(&Msg::style(style));
            let description = self.text_of(&Msg::StyleDescription {
                style: style.id().to_owned(),
            });
            text.push_str(&format!("\n\n• {name}: {description}"));
        }
        let keyboard = keyboards::styles(self.deps.engine.catalog(), self.lang);
        self.record.dialogue = ChatState::ChoosingStyle {
            prompt: Some(message),
        };
        self.edit(message, text, Some(keyboard), update).await
    }

    /// A personality button: the same message becomes the briefing with its Begin button.
    pub(super) async fn style_chosen(&mut self, style: Style, message: i32, update: u32) -> Step {
        let keyboard = keyboards::begin(self.deps.engine.catalog(), self.lang);
        self.record.dialogue = ChatState::Briefing {
            style,
            prompt: Some(message),
            study: None,
        };
        let text = self.briefing(style, None);
        self.edit(message, text, Some(keyboard), update).await
    }

    /// 🚀 Begin: the button goes, and the interview's first question is asked. The state
    /// moves to the interview once the question is saved, so a crash before then leaves the
    /// button live and the press is taken again.
    pub(super) async fn begin(
        &mut self,
        style: Style,
        study: Option<StudyId>,
        message: i32,
        person: &Person,
        update: u32,
    ) -> Step {
        // The study the briefing was shown for; one deleted since leaves an interview of the
        // expert's own. (One closed since still takes them: they were let in before.)
        let study = match study {
            Some(id) => self.deps.engine.studies().get(&id).await?,
            None => None,
        };
        if let Some(study) = &study {
            // The study's language is the chat's from now on, as if chosen with the buttons:
            // a worker started again later speaks it too.
            self.lang = study.language;
            self.language_chosen = true;
            Profile {
                language: study.language,
            }
            .save(self.deps.engine.store(), self.user)
            .await?;
        }
        // The message keeps the briefing and the notice accepted; the button goes.
        let text = match &study {
            Some(study) => self.briefing(study.style, Some(study)),
            None => self.briefing(style, None),
        };
        self.record.push(Body::Edit {
            message,
            text,
            keyboard: None,
        });
        self.save().await?;
        self.flush(Flush::Outbox).await?;
        let engine = self.deps.engine.clone();
        // The interview held is set aside first; the new one stays in memory until its first
        // question is applied and saved.
        let quarantined = self.owner.take_quarantined();
        self.owner.set_aside(&engine).await?;
        let (mut session, notice) = match &study {
            Some(study) => (
                engine.open_in_study(self.user, study),
                self.deps.consent.study_notice(engine.catalog(), study),
            ),
            None => (
                engine.open(self.user, self.lang, style),
                self.deps.consent.notice(engine.catalog(), self.lang),
            ),
        };
        // The press on 🚀 Begin under the notice is the expert's consent to it.
        session.consent = Some(notice.accepted(session.started_at));
        session.expert = Some(person.expert());
        let job = engine.opening_turn(&session);
        self.owner.install(session);
        let (job, typing) = self.indicator(job);
        self.op = Some(Op::new(
            async move {
                Done::Begun {
                    done: engine.ask(job, std::future::pending()).await,
                    update,
                    quarantined,
                }
            },
            None,
            typing,
        ));
        Ok(())
    }

    /// "Interviewer: … ✓", the briefing and the notice that 🚀 Begin accepts (the study's,
    /// in an interview of a study).
    fn briefing(&self, style: Style, study: Option<&Study>) -> String {
        let name = self.text_of(&Msg::style(style));
        let catalog = self.deps.engine.catalog();
        let notice = match study {
            Some(study) => self.deps.consent.study_notice(catalog, study),
            None => self.deps.consent.notice(catalog, self.lang),
        };
        format!(
            "{}\n\n{}\n\n{}",
            self.text_of(&Msg::StyleChosen { style: name }),
            self.text_of(&Msg::Briefing),
            notice.text
        )
    }

    /// Offers Resume / Start over for `session` in a new message; `held` are answers typed
    /// meanwhile.
    async fn offer_resume(&mut self, session: Resumable, held: Vec<String>, update: u32) -> Step {
        let stage = self.text_of(&Msg::stage(session.stage));
        let text = self.text_of(&Msg::InProgress {
            stage,
            answers: session.answers,
        });
        let keyboard =
            keyboards::resume_or_restart(self.deps.engine.catalog(), self.lang, session.session);
        self.record.dialogue = ChatState::ResumeOrRestart {
            prompt: None,
            session: session.session,
            held,
        };
        self.record.push_prompt(Body::ask(text, keyboard));
        self.record.see(update);
        self.save().await?;
        self.flush(Flush::Outbox).await
    }

    /// ▶️ Resume: the last question again, or the answers typed while the choice was
    /// pending, taken as one answer.
    pub(super) async fn resume(&mut self, message: i32, held: Vec<String>, update: u32) -> Step {
        let Some(reply) = self.owner.resume(&self.deps.engine).await? else {
            self.record.dialogue = ChatState::Idle;
            let text = self.text_of(&Msg::SendStart);
            return self.edit(message, text, None, update).await;
        };
        let stage = self.text_of(&Msg::stage(reply.stage));
        let resumed = self.text_of(&Msg::Resumed { stage });
        if held.is_empty() {
            self.record.dialogue = ChatState::Interviewing;
            self.record.push(Body::Edit {
                message,
                text: resumed,
                keyboard: None,
            });
            let header = self.stage_title(reply.stage);
            self.record.push(Body::Text {
                header: Some(header),
                text: reply.text,
                keyboard: None,
            });
            self.record.see(update);
            self.save().await?;
            return self.flush(Flush::Outbox).await;
        }
        // Saved into the session under this press's update before the state moves on, so a
        // crash in between takes them once, not twice.
        let held = held.join("\n\n");
        let outcome = self
            .owner
            .hold(&self.deps.engine, Answer::input(&held, u64::from(update)))
            .await?;
        self.record.dialogue = ChatState::Interviewing;
        self.edit(message, resumed, None, update).await?;
        match outcome {
            crate::interview::Outcome::Held | crate::interview::Outcome::Duplicate => {
                self.answer_pending().await
            }
            other => self.outcome(Ok(other), None, Some(update)).await,
        }
    }

    /// 🔄 Start over (or a confirmed /reset): the interview is archived and the same message
    /// becomes the interviewer choice.
    pub(super) async fn start_over(&mut self, message: i32, update: u32) -> Step {
        if self.owner.set_aside(&self.deps.engine).await? {
            tracing::info!(user = %self.user, "interview archived by reset");
        }
        let intro = self.text_of(&Msg::ResetDone);
        self.ask_style(message, intro, update).await
    }

    /// Queues an edit of `message` (which becomes the state's prompt if the state waits on
    /// one) and saves the state.
    pub(super) async fn edit(
        &mut self,
        message: i32,
        text: String,
        keyboard: Option<keyboards::Keyboard>,
        update: u32,
    ) -> Step {
        let prompt = keyboard.is_some();
        let body = Body::Edit {
            message,
            text,
            keyboard,
        };
        match prompt {
            true => self.record.push_prompt(body),
            false => self.record.push(body),
        };
        self.record.see(update);
        self.save().await?;
        self.flush(Flush::Outbox).await
    }
}

/// What the Resume / Start over offer shows of the interview under way.
struct Resumable {
    session: u32,
    stage: crate::interview::Stage,
    answers: usize,
}
