//! The terminal front end: the same engine and store as the bot, one line per answer.
//!
//! Commands: `/status`, `/reset`, `/complete`, `/help`, `/quit`. The console is user 0, so its
//! session file is `SESSIONS_DIR/0.json` and never collides with a Telegram user.
//!
//! As in the bot, the summaries of the stages that end are written after the reply that opens
//! the next one, and at the end the report is printed and saved, then the expert confirms it
//! or types a correction, which produces the one revised report. A report that waits for
//! Claude is picked up the next time the console starts.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

use crate::{
    i18n::{Lang, Msg},
    interview::{
        Answer, Ending, Engine, EngineError, Outcome, Rejection, Reply, ReportOutcome, ReportReady,
        SessionOwner, Style, UserId, status,
    },
};

/// The console's user id.
pub const CONSOLE_USER: UserId = UserId(0);

/// How the console interview starts when there is none in progress.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleOptions {
    /// The language of a new interview.
    pub language: Lang,
    /// The personality of a new interview.
    pub style: Style,
}

/// Why the console stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// The engine failed (storage).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The terminal could not be read or written.
    #[error("terminal: {0}")]
    Io(#[from] std::io::Error),
}

/// A console session over any line input and text output.
pub struct Console<'a, R, W> {
    engine: &'a Engine,
    options: ConsoleOptions,
    input: R,
    output: W,
    /// The language of the interview in progress (for the console's own lines).
    lang: Lang,
    /// The console's session, loaded once when it starts; the console is its only writer.
    owner: SessionOwner,
}

/// What to do after handling a line.
enum Flow {
    Continue,
    Stop,
}

impl<'a, R: AsyncBufRead + Unpin, W: AsyncWrite + Unpin> Console<'a, R, W> {
    /// A console over `input` and `output`.
    pub async fn new(
        engine: &'a Engine,
        options: ConsoleOptions,
        input: R,
        output: W,
    ) -> Result<Self, ConsoleError> {
        Ok(Console {
            engine,
            options,
            input,
            output,
            lang: options.language,
            owner: SessionOwner::load(engine, CONSOLE_USER).await?,
        })
    }

    /// Runs until the interview ends, the user quits, or the input ends.
    pub async fn run(mut self) -> Result<(), ConsoleError> {
        if !self.engine.is_online() {
            self.say(&Msg::ConsoleOffline).await?;
        }
        self.say(&Msg::ConsoleHelp).await?;
        if let Flow::Stop = self.open().await? {
            return Ok(());
        }
        while let Some(line) = self.read_line().await? {
            let flow = match line.trim() {
                "/quit" | "/exit" => {
                    self.say(&Msg::ConsoleBye).await?;
                    Flow::Stop
                }
                "/help" => {
                    self.say(&Msg::ConsoleHelp).await?;
                    Flow::Continue
                }
                "/status" => self.status().await?,
                "/reset" => {
                    self.owner.set_aside(self.engine).await?;
                    self.say(&Msg::ConsoleReset).await?;
                    self.begin().await?
                }
                "/complete" => {
                    let outcome = self.owner.complete(self.engine).await?;
                    self.show(outcome, None).await?
                }
                _ => {
                    let outcome = self
                        .owner
                        .answer(self.engine, Answer::typed(&line), std::future::pending())
                        .await?;
                    self.show(outcome, Some(&line)).await?
                }
            };
            if let Flow::Stop = flow {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Picks up the interview in progress, or begins one.
    async fn open(&mut self) -> Result<Flow, ConsoleError> {
        let engine = self.engine;
        let Some(session) = self.owner.session() else {
            // An unreadable file was set aside: begin() says so.
            return self.begin().await;
        };
        self.lang = session.language;
        if session.finished_at.is_some() {
            // The interview ended: its report was pending, or not checked yet.
            return self.ending().await;
        }
        if session.pending().is_some() {
            let outcome = self
                .owner
                .answer_pending(engine, std::future::pending())
                .await?;
            return self.show(outcome, None).await;
        }
        let (stage, idle_for) = (session.stage, session.idle_for(engine.now()));
        if idle_for > engine.session_timeout() {
            return self.choose_resume(stage, idle_for).await;
        }
        let question = session.last_question().map(|q| q.text.clone());
        let stage = self.text(&Msg::stage(stage));
        self.say(&Msg::Resumed { stage }).await?;
        if let Some(question) = question {
            self.print_question(&question).await?;
        }
        Ok(Flow::Continue)
    }

    async fn begin(&mut self) -> Result<Flow, ConsoleError> {
        let begun = self
            .owner
            .begin(self.engine, self.options.language, self.options.style)
            .await?;
        self.lang = self.options.language;
        if begun.quarantined {
            self.say(&Msg::SessionQuarantined).await?;
        }
        Box::pin(self.show(begun.outcome, None)).await
    }

    async fn choose_resume(
        &mut self,
        stage: crate::interview::Stage,
        idle_for: std::time::Duration,
    ) -> Result<Flow, ConsoleError> {
        let stage = self.text(&Msg::stage(stage));
        self.say(&Msg::IdlePrompt {
            minutes: (idle_for.as_secs() / 60) as i64,
            stage,
        })
        .await?;
        loop {
            self.say(&Msg::ConsoleResumeChoice).await?;
            let Some(line) = self.read_line().await? else {
                return Ok(Flow::Stop);
            };
            match line.trim().to_lowercase().as_str() {
                // "к" and "ы" are the r and s keys on a Russian keyboard layout.
                "r" | "resume" | "к" => {
                    if let Some(reply) = self.owner.resume(self.engine).await? {
                        self.print_question(&reply.text).await?;
                    }
                    return Ok(Flow::Continue);
                }
                "s" | "start over" | "ы" => {
                    self.owner.set_aside(self.engine).await?;
                    self.say(&Msg::ConsoleReset).await?;
                    return self.begin().await;
                }
                _ => {}
            }
        }
    }

    async fn status(&mut self) -> Result<Flow, ConsoleError> {
        match self.owner.running() {
            Some(session) => {
                let text = status::render(session, self.engine.catalog());
                self.line(&text).await?;
            }
            None => self.say(&Msg::NoInterview).await?,
        }
        Ok(Flow::Continue)
    }

    /// Shows what became of an answer. `answer` is the line typed, kept if the session turns
    /// out to be idle so that it is not lost.
    async fn show(&mut self, outcome: Outcome, answer: Option<&str>) -> Result<Flow, ConsoleError> {
        match outcome {
            Outcome::Reply(reply) => {
                self.print_reply(&reply).await?;
                if reply.stage_changed && !reply.offline {
                    // Written while the expert reads the question.
                    self.owner.summarize_stages(self.engine).await?;
                }
            }
            Outcome::Finished(finished) => {
                if let Some(closing) = &finished.closing {
                    self.print_question(&closing.text).await?;
                }
                self.lang = finished.language;
                self.say(&Msg::InterviewComplete).await?;
                return self.ending().await;
            }
            Outcome::Rejected(Rejection::Empty) => self.say(&Msg::AnswerEmpty).await?,
            Outcome::Rejected(Rejection::TooLong { length, limit }) => {
                self.say(&Msg::AnswerTooLong { length, limit }).await?
            }
            Outcome::Idle {
                stage,
                idle_for,
                language,
                ..
            } => {
                self.lang = language;
                let flow = self.choose_resume(stage, idle_for).await?;
                if let (Flow::Continue, Some(answer)) = (&flow, answer) {
                    // The answer typed before the prompt goes to whichever interview is now on.
                    let outcome = self
                        .owner
                        .answer(self.engine, Answer::typed(answer), std::future::pending())
                        .await?;
                    return Box::pin(self.show(outcome, None)).await;
                }
                return Ok(flow);
            }
            Outcome::NoInterview => {
                self.say(&Msg::NoInterview).await?;
                return self.begin().await;
            }
            Outcome::Quarantined => {
                self.say(&Msg::SessionQuarantined).await?;
                return self.begin().await;
            }
            // The console never interrupts a turn, holds an answer or numbers its input.
            Outcome::Superseded | Outcome::Held | Outcome::Duplicate => {}
        }
        Ok(Flow::Continue)
    }

    /// The end of an ended interview, wherever it stands: writes the report (or the revision)
    /// if it is due, prints it, asks the expert to confirm or correct it, and archives the
    /// interview once that is settled. Stops the console in every case.
    async fn ending(&mut self) -> Result<Flow, ConsoleError> {
        let engine = self.engine;
        loop {
            let Some(session) = self.owner.session().cloned() else {
                return Ok(Flow::Stop);
            };
            match session.ending() {
                Ending::Running => return Ok(Flow::Continue),
                Ending::Done => {
                    self.owner.retire_finished(engine).await?;
                    return Ok(Flow::Stop);
                }
                Ending::Review => {
                    if let Some(ready) = engine.report_of(&session).await {
                        self.print_report(&ready).await?;
                    }
                    if !self.review().await? {
                        return Ok(Flow::Stop);
                    }
                }
                Ending::ReportDue | Ending::RevisionDue => {
                    match self.owner.write_report(engine).await? {
                        ReportOutcome::Ready(ready) => {
                            self.print_report(&ready).await?;
                            if ready.review && !self.review().await? {
                                return Ok(Flow::Stop);
                            }
                        }
                        ReportOutcome::Pending { .. } => {
                            self.say(&Msg::ConsoleReportDelayed).await?;
                            return Ok(Flow::Stop);
                        }
                        ReportOutcome::Rejected(_) | ReportOutcome::Nothing => {
                            return Ok(Flow::Stop);
                        }
                    }
                }
            }
        }
    }

    /// Asks the expert to confirm the report or type a correction. Returns whether they
    /// answered (the input may end first: the report then waits for the next start).
    async fn review(&mut self) -> Result<bool, ConsoleError> {
        loop {
            self.say(&Msg::ConsoleReviewPrompt).await?;
            let Some(line) = self.read_line().await? else {
                return Ok(false);
            };
            let line = line.trim();
            match line.to_lowercase().as_str() {
                "" => continue,
                // "н" is the y key on a Russian keyboard layout.
                "y" | "yes" | "ok" | "д" | "да" | "н" => {
                    self.owner.confirm_report(self.engine).await?;
                    self.say(&Msg::ReportConfirmed).await?;
                    return Ok(true);
                }
                _ => {
                    let outcome = self.owner.correct_report(self.engine, line, None).await?;
                    match outcome {
                        ReportOutcome::Rejected(Rejection::TooLong { length, limit }) => {
                            self.say(&Msg::AnswerTooLong { length, limit }).await?;
                        }
                        ReportOutcome::Pending { .. } => {
                            self.say(&Msg::ReportRevisionDelayed).await?;
                            self.say(&Msg::ConsoleReportDelayed).await?;
                            return Ok(false);
                        }
                        ReportOutcome::Ready(ready) => {
                            self.print_report(&ready).await?;
                            return Ok(true);
                        }
                        ReportOutcome::Rejected(Rejection::Empty) | ReportOutcome::Nothing => {
                            return Ok(true);
                        }
                    }
                }
            }
        }
    }

    /// Prints a version of the report, its one-screen summary and where it is saved.
    async fn print_report(&mut self, ready: &ReportReady) -> Result<(), ConsoleError> {
        self.lang = ready.language;
        self.line(&ready.shown).await?;
        self.line(&ready.screen).await?;
        let path = ready.path.display().to_string();
        self.say(&Msg::ConsoleReportSaved { path }).await
    }

    async fn print_reply(&mut self, reply: &Reply) -> Result<(), ConsoleError> {
        if reply.stage_changed {
            let name = self.text(&Msg::stage(reply.stage));
            let header = format!(
                "\n— {}/{} · {name} —",
                reply.stage.number(),
                crate::interview::Stage::COUNT
            );
            self.line(&header).await?;
        }
        self.print_question(&reply.text).await
    }

    async fn print_question(&mut self, text: &str) -> Result<(), ConsoleError> {
        let who = self.text(&Msg::SpeakerInterviewer);
        self.line(&format!("\n{who}: {text}\n")).await
    }

    fn text(&self, msg: &Msg) -> String {
        self.engine.catalog().text(self.lang, msg)
    }

    async fn say(&mut self, msg: &Msg) -> Result<(), ConsoleError> {
        let text = self.text(msg);
        self.line(&text).await
    }

    async fn line(&mut self, text: &str) -> Result<(), ConsoleError> {
        self.output.write_all(text.as_bytes()).await?;
        self.output.write_all(b"\n").await?;
        self.output.flush().await?;
        Ok(())
    }

    async fn read_line(&mut self) -> Result<Option<String>, ConsoleError> {
        self.output.write_all(b"> ").await?;
        self.output.flush().await?;
        let mut line = String::new();
        if self.input.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
    }
}

/// Runs the console on the process's stdin and stdout.
pub async fn run_stdio(engine: &Engine, options: ConsoleOptions) -> Result<(), ConsoleError> {
    let input = tokio::io::BufReader::new(tokio::io::stdin());
    Console::new(engine, options, input, tokio::io::stdout())
        .await?
        .run()
        .await
}
