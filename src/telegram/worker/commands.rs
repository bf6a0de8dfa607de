//! The commands: /start, /status, /reset, /complete, /language, /help, /export, /delete,
//! and the admins' /metrics and /desk.

use tokio::time::Instant;

use super::{ChatWorker, REPEAT_WINDOW, Step, presses::unix_minutes};
use crate::{
    i18n::Msg,
    interview::{export, status},
    telegram::{
        callback::Callback,
        command::Command,
        event::Incoming,
        keyboards,
        outbox::{Body, Key},
    },
};

impl ChatWorker {
    /// Runs a command. A command repeated within a few seconds, with nothing changed since
    /// the first (a /start flood), gets no second answer.
    pub(super) async fn command(&mut self, command: Command, incoming: &Incoming) -> Step {
        let update = incoming.update;
        if let Some((last, at, state)) = &self.last_command
            && *last == command
            && at.elapsed() < REPEAT_WINDOW
            && std::mem::discriminant(state) == std::mem::discriminant(&self.record.dialogue)
        {
            tracing::info!(user = %self.user, ?command, "repeated command ignored");
            return Ok(());
        }
        let result = self.run_command(command, incoming).await;
        if result.is_ok() {
            self.last_command = Some((command, Instant::now(), self.record.dialogue.clone()));
        }
        tracing::debug!(user = %self.user, update, ?command, "command taken");
        result
    }

    async fn run_command(&mut self, command: Command, incoming: &Incoming) -> Step {
        let update = incoming.update;
        let session = self.owner.running().map(|s| s.id);
        match command {
            Command::Start => {
                self.start_command(&incoming.person.first_name, update)
                    .await
            }
            Command::Help => self.notice(Msg::Help, update).await,
            Command::Status => match self.owner.running() {
                Some(session) => {
                    let text = status::render(session, self.deps.engine.catalog());
                    let (title, body) = text.split_once('\n').unwrap_or((&text, ""));
                    let body = Body::Text {
                        header: Some(title.to_owned()),
                        text: body.to_owned(),
                        keyboard: None,
                    };
                    self.say(body, update).await
                }
                None => self.no_interview(update).await,
            },
            Command::Reset => match session {
                Some(session) => {
                    let keyboard = keyboards::confirm(
                        self.deps.engine.catalog(),
                        self.lang,
                        Msg::ButtonResetConfirm,
                        Callback::ResetConfirm(session),
                    );
                    let text = self.text_of(&Msg::ResetConfirm);
                    self.say(Body::ask(text, keyboard), update).await
                }
                None => self.no_interview(update).await,
            },
            Command::Complete => match session {
                Some(_) => self.start_complete(update).await,
                None => self.no_interview(update).await,
            },
            Command::Language => {
                let text = self.text_of(&Msg::ChooseLanguage);
                self.ask_language(text, session.is_some(), update).await
            }
            Command::Export => self.export(update).await,
            Command::Metrics => {
                let report = crate::metrics::report::reply_for(
                    &self.deps.metrics,
                    &self.deps.prices,
                    self.deps.engine.catalog(),
                    &self.deps.admins,
                    self.user,
                    self.lang,
                );
                match report {
                    Some(text) => self.say(Body::text(text), update).await,
                    None => self.notice(Msg::UnknownCommand, update).await,
                }
            }
            Command::Desk => self.desk_link(update).await,
            Command::Delete => {
                let keyboard = keyboards::confirm(
                    self.deps.engine.catalog(),
                    self.lang,
                    Msg::ButtonDeleteConfirm,
                    Callback::DeleteConfirm(unix_minutes()),
                );
                let text = self.text_of(&Msg::DeleteConfirm);
                self.say(Body::ask(text, keyboard), update).await
            }
        }
    }

    /// /desk: a one-time sign-in link for an admin, in their language. Anyone else, or any
    /// admin while the desk is off, gets the unknown-command reply: the desk is not announced.
    async fn desk_link(&mut self, update: u32) -> Step {
        let issuer = self
            .deps
            .desk
            .clone()
            .filter(|_| self.deps.admins.contains(&self.user.0));
        let Some(issuer) = issuer else {
            return self.notice(Msg::UnknownCommand, update).await;
        };
        let (now, lang) = (self.deps.engine.now(), self.lang);
        match issuer.link(now, lang).await {
            Ok(url) => {
                // The link is a secret: the log names who asked, never the URL.
                tracing::info!(user = %self.user, "desk sign-in link issued");
                let text = self.text_of(&Msg::DeskLink {
                    url: url.to_string(),
                });
                // Sent without passing through the chat's saved outbox: the link is a
                // secret that must not rest on disk (only its hash does). Lost in a crash, it
                // costs the admin one more /desk.
                self.record.see(update);
                self.save().await?;
                self.deps
                    .sender
                    .send(self.chat, Key::Unsaved, Body::text(text));
                Ok(())
            }
            Err(error) => {
                tracing::error!(user = %self.user, %error, "the desk's sign-in link could not be written");
                self.notice(Msg::UnknownCommand, update).await
            }
        }
    }

    /// /export: the transcript of the interview in progress, or of the last one (ended but not
    /// archived yet, or the latest in `completed/`), with its report once written.
    async fn export(&mut self, update: u32) -> Step {
        let engine = self.deps.engine.clone();
        let found = match self.owner.session().cloned() {
            Some(session) => {
                let report = engine.report_of(&session).await.map(|r| r.markdown);
                Some((session, report))
            }
            None => engine.last_completed(self.user).await?,
        };
        let Some((session, report)) = found else {
            return self.no_interview(update).await;
        };
        let catalog = engine.catalog();
        let caption = self.text_of(&Msg::ExportTranscript);
        self.record.push(Body::Document {
            name: "interview-transcript.md".into(),
            content: export::markdown(&session, catalog),
            caption: Some(caption),
        });
        if let Some(report) = report {
            self.push_report(report, Msg::ReportCaption);
        }
        self.say(
            Body::Document {
                name: "interview-transcript.json".into(),
                content: export::json(&session),
                caption: None,
            },
            update,
        )
        .await
    }

    async fn no_interview(&mut self, update: u32) -> Step {
        let text = format!(
            "{}\n{}",
            self.text_of(&Msg::NoInterview),
            self.text_of(&Msg::SendStart)
        );
        self.say(Body::text(text), update).await
    }
}
