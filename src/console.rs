//! The terminal front end: the same engine and store as the bot.
//!
//! On a terminal the line is edited with rustyline: the arrow keys, Home/End, Ctrl-A/Ctrl-E,
//! a history of the lines typed, and bracketed paste, so a pasted block of several lines is
//! one answer. (Rustyline rather than reedline: it reads a line and gives it back, which is
//! all the console needs, on a handful of small dependencies; reedline brings crossterm and a
//! whole shell's worth of menus and hinters.) The terminal is in raw mode while a line is
//! read, so no line-length limit of the terminal driver applies: a paste is taken whole, and
//! an answer over the engine's limit is refused with its length. When standard input is not
//! a terminal (a script, a test), each line is one answer.
//!
//! Either way a line of three quotes `"""` opens an answer of several lines and another one
//! closes it, so a multi-line answer can be typed by hand or piped; what is inside a block
//! is an answer even if it starts with `/`.
//!
//! Commands: `/help`, `/skip`, `/status`, `/complete`, `/reset` (asks first), `/quit`. Any
//! other line starting with `/` is refused as an unknown command and never stored. Ctrl-C
//! and Ctrl-D leave, saying that the interview is saved. Yes-or-no questions take the
//! Cyrillic letters too (д/н), and say so. The console is user 0, so its session file is
//! `SESSIONS_DIR/0.json` and never collides with a Telegram user.
//!
//! As in the bot, the summaries of the stages that end are written after the reply that opens
//! the next one, and at the end the report is printed and saved, then the expert confirms it
//! or types a correction, which produces the one revised report. A report that waits for
//! Claude is picked up the next time the console starts.

use std::io::IsTerminal;

use rustyline::{Config, DefaultEditor, error::ReadlineError};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

use crate::{
    i18n::{Lang, Msg},
    interview::{
        Answer, Ending, Engine, EngineError, Outcome, Rejection, Reply, ReportOutcome, ReportReady,
        SessionOwner, Style, UserId, status,
    },
};

/// The line that opens and closes an answer of several lines.
pub const BLOCK_MARKER: &str = "\"\"\"";

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

/// Where the console's lines come from.
enum Input<R> {
    /// Standard input is not a terminal: each line read is one line given.
    Lines(R),
    /// A terminal, its lines edited with rustyline. The editor blocks, so each read runs on
    /// a blocking thread that borrows it; it is `None` only while a read is under way.
    Terminal(Option<Box<DefaultEditor>>),
}

/// What a read from the input gave.
enum Read {
    /// A line (or, on a terminal, a pasted block: one entry, newlines and all).
    Line(String),
    /// Ctrl-C on a terminal.
    Interrupted,
    /// The input ended (Ctrl-D, or the end of a script).
    End,
}

/// What the person typed at the answer prompt.
enum Typed {
    /// An answer (perhaps a block of several lines).
    Answer(String),
    /// A console command: the line's first word, lower-cased.
    Command(String),
    /// They left: Ctrl-C, Ctrl-D or the end of the input.
    Left,
}

/// A yes-or-no answer.
enum YesNo {
    Yes,
    No,
    /// The input ended or was interrupted before either.
    Left,
}

/// A console session over any line input and text output.
pub struct Console<'a, R, W> {
    engine: &'a Engine,
    options: ConsoleOptions,
    input: Input<R>,
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
    /// A console over `input` and `output`, reading one line per answer (the input is not
    /// a terminal).
    pub async fn new(
        engine: &'a Engine,
        options: ConsoleOptions,
        input: R,
        output: W,
    ) -> Result<Self, ConsoleError> {
        Self::over(engine, options, Input::Lines(input), output).await
    }

    async fn over(
        engine: &'a Engine,
        options: ConsoleOptions,
        input: Input<R>,
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
        self.say(&Msg::ConsoleIntro).await?;
        if let Flow::Stop = self.open().await? {
            return Ok(());
        }
        loop {
            let flow = match self.read_typed().await? {
                Typed::Left => self.leave().await?,
                Typed::Command(command) => self.command(&command).await?,
                Typed::Answer(text) => {
                    let outcome = self
                        .owner
                        .answer(self.engine, Answer::typed(&text), self.interrupt())
                        .await?;
                    self.show(outcome, Some(&text)).await?
                }
            };
            if let Flow::Stop = flow {
                return Ok(());
            }
        }
    }

    /// Carries out a console command (the first word of the line, lower-cased).
    async fn command(&mut self, command: &str) -> Result<Flow, ConsoleError> {
        match command {
            "/quit" | "/exit" => self.leave().await,
            "/help" => {
                self.say(&Msg::ConsoleHelp).await?;
                Ok(Flow::Continue)
            }
            "/status" => self.status().await,
            "/skip" => {
                let stand_in = self.text(&Msg::ConsoleSkipStandIn);
                let outcome = self
                    .owner
                    .skip(self.engine, &stand_in, self.interrupt())
                    .await?;
                if matches!(outcome, Outcome::Reply(_) | Outcome::Finished(_)) {
                    self.say(&Msg::ConsoleSkipped).await?;
                }
                self.show(outcome, None).await
            }
            "/reset" => {
                self.say(&Msg::ConsoleResetConfirm).await?;
                match self.yes_or_no().await? {
                    YesNo::Yes => {
                        self.owner.set_aside(self.engine).await?;
                        self.say(&Msg::ConsoleReset).await?;
                        self.begin().await
                    }
                    YesNo::No => {
                        self.say(&Msg::ConsoleResetKept).await?;
                        // The question is some lines up by now: ask it again.
                        let question = self.owner.running().and_then(|s| s.last_question());
                        if let Some(question) = question.map(|q| q.text.clone()) {
                            self.print_question(&question).await?;
                        }
                        Ok(Flow::Continue)
                    }
                    YesNo::Left => self.leave().await,
                }
            }
            "/complete" => {
                let outcome = self.owner.complete(self.engine).await?;
                self.show(outcome, None).await
            }
            _ => {
                let command = command.to_owned();
                self.say(&Msg::ConsoleUnknownCommand { command }).await?;
                Ok(Flow::Continue)
            }
        }
    }

    /// Says that the interview is saved and how to continue it, and stops.
    async fn leave(&mut self) -> Result<Flow, ConsoleError> {
        self.say(&Msg::ConsoleBye).await?;
        Ok(Flow::Stop)
    }

    /// Reads what the person typed at the answer prompt: a command, an answer (a block
    /// between `"""` lines joined into one), or that they left.
    async fn read_typed(&mut self) -> Result<Typed, ConsoleError> {
        let line = match self.read("> ").await? {
            Read::Line(line) => line,
            Read::Interrupted | Read::End => return Ok(Typed::Left),
        };
        let trimmed = line.trim_start();
        if let Some(rest) = opens_block(&line) {
            return self.read_block(rest).await;
        }
        if trimmed.starts_with('/') {
            let word = trimmed.split_whitespace().next().unwrap_or(trimmed);
            return Ok(Typed::Command(word.to_lowercase()));
        }
        Ok(Typed::Answer(line))
    }

    /// Reads the rest of a block opened by a `"""` line, `first` being what came with the
    /// opening (a paste may hold the whole block), until a `"""` line closes it.
    async fn read_block(&mut self, first: &str) -> Result<Typed, ConsoleError> {
        let mut lines: Vec<String> = Vec::new();
        let mut pending = first.to_owned();
        let mut told = false;
        loop {
            for line in pending.split('\n') {
                if line.trim() == BLOCK_MARKER {
                    return Ok(Typed::Answer(lines.join("\n")));
                }
                lines.push(line.to_owned());
            }
            if !told {
                self.say(&Msg::ConsoleBlockOpen).await?;
                told = true;
            }
            pending = match self.read("… ").await? {
                Read::Line(line) => line,
                // What was typed of the block is not lost: it is the answer.
                Read::End if lines.iter().any(|l| !l.trim().is_empty()) => {
                    return Ok(Typed::Answer(lines.join("\n")));
                }
                Read::Interrupted | Read::End => return Ok(Typed::Left),
            };
        }
    }

    /// Reads a yes or a no, in Latin or Cyrillic letters, asking again until it gets one.
    async fn yes_or_no(&mut self) -> Result<YesNo, ConsoleError> {
        loop {
            let line = match self.read("> ").await? {
                Read::Line(line) => line,
                Read::Interrupted | Read::End => return Ok(YesNo::Left),
            };
            match line.trim().to_lowercase().as_str() {
                "y" | "yes" | "д" | "да" => return Ok(YesNo::Yes),
                "n" | "no" | "н" | "нет" => return Ok(YesNo::No),
                _ => self.say(&Msg::ConsoleYesOrNo).await?,
            }
        }
    }

    /// What stops waiting for the model: Ctrl-C on a terminal (the answer stays saved and is
    /// answered on the next start). A script's Ctrl-C keeps its usual meaning.
    fn interrupt(&self) -> impl Future<Output = ()> + use<R, W> {
        let on_terminal = matches!(self.input, Input::Terminal(_));
        async move {
            if !on_terminal || tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
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
            let line = match self.read("> ").await? {
                Read::Line(line) => line,
                Read::Interrupted | Read::End => return self.leave().await,
            };
            match line.trim().to_lowercase().as_str() {
                // п and з begin the Russian words; к and ы are the r and s keys on a Russian
                // keyboard layout, for whoever types the Latin letter without switching.
                "r" | "resume" | "п" | "продолжить" | "к" => {
                    if let Some(reply) = self.owner.resume(self.engine).await? {
                        self.print_question(&reply.text).await?;
                    }
                    return Ok(Flow::Continue);
                }
                "s" | "start over" | "з" | "заново" | "ы" => {
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
                        .answer(self.engine, Answer::typed(answer), self.interrupt())
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
            // Only Ctrl-C interrupts a turn: the answer stays saved for the next start.
            Outcome::Superseded => return self.leave().await,
            // The console never holds an answer or numbers its input.
            Outcome::Held | Outcome::Duplicate => {}
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
            let line = match self.read("> ").await? {
                Read::Line(line) => line,
                Read::Interrupted | Read::End => return Ok(false),
            };
            let line = match opens_block(&line) {
                Some(rest) => match self.read_block(rest).await? {
                    Typed::Answer(text) => text,
                    Typed::Command(_) | Typed::Left => return Ok(false),
                },
                None if line.trim_start().starts_with('/') => {
                    // A command is no correction: /quit leaves the report for the next start.
                    let word = line.split_whitespace().next().unwrap_or("").to_lowercase();
                    match word.as_str() {
                        "/quit" | "/exit" => {
                            self.leave().await?;
                            return Ok(false);
                        }
                        "/help" => self.say(&Msg::ConsoleHelp).await?,
                        _ => {
                            self.say(&Msg::ConsoleUnknownCommand { command: word })
                                .await?
                        }
                    }
                    continue;
                }
                None => line,
            };
            let line = line.trim();
            match line.to_lowercase().as_str() {
                "" => continue,
                "y" | "yes" | "ok" | "д" | "да" => {
                    self.owner.confirm_report(self.engine).await?;
                    self.say(&Msg::ReportConfirmed).await?;
                    return Ok(true);
                }
                // A "no" is no correction: ask for the correction itself.
                "n" | "no" | "н" | "нет" => {
                    self.say(&Msg::ConsoleReviewCorrection).await?;
                    continue;
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

    /// Reads one line (on a terminal, one edited line or pasted block) after `prompt`.
    async fn read(&mut self, prompt: &str) -> Result<Read, ConsoleError> {
        match &mut self.input {
            Input::Lines(input) => {
                self.output.write_all(prompt.as_bytes()).await?;
                self.output.flush().await?;
                let mut line = String::new();
                if input.read_line(&mut line).await? == 0 {
                    return Ok(Read::End);
                }
                Ok(Read::Line(line.trim_end_matches(['\r', '\n']).to_owned()))
            }
            Input::Terminal(slot) => {
                self.output.flush().await?;
                let Some(mut editor) = slot.take() else {
                    return Err(ConsoleError::Io(std::io::Error::other(
                        "the line editor was lost by an earlier read",
                    )));
                };
                let prompt = prompt.to_owned();
                let (editor, read) = tokio::task::spawn_blocking(move || {
                    let read = editor.readline(&prompt);
                    (editor, read)
                })
                .await
                .map_err(std::io::Error::other)?;
                *slot = Some(editor);
                match read {
                    Ok(line) => Ok(Read::Line(line)),
                    Err(ReadlineError::Interrupted) => Ok(Read::Interrupted),
                    Err(ReadlineError::Eof) => Ok(Read::End),
                    Err(ReadlineError::Io(error)) => Err(ConsoleError::Io(error)),
                    Err(error) => Err(ConsoleError::Io(std::io::Error::other(error))),
                }
            }
        }
    }
}

/// What follows the `"""` that opens a block, if `line` (its first line, for a pasted
/// block) is one.
fn opens_block(line: &str) -> Option<&str> {
    let (first, rest) = line.split_once('\n').unwrap_or((line, ""));
    (first.trim() == BLOCK_MARKER).then_some(rest)
}

/// Runs the console on the process's standard input and output: with the line editor when
/// both are a terminal, one line per answer otherwise.
pub async fn run_stdio(engine: &Engine, options: ConsoleOptions) -> Result<(), ConsoleError> {
    let stdin = tokio::io::BufReader::new(tokio::io::stdin());
    let input = if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        let config = Config::builder()
            .auto_add_history(true)
            .bracketed_paste(true)
            .build();
        let editor = DefaultEditor::with_config(config)
            .map_err(|error| ConsoleError::Io(std::io::Error::other(error)))?;
        Input::Terminal(Some(Box::new(editor)))
    } else {
        Input::Lines(stdin)
    };
    Console::over(engine, options, input, tokio::io::stdout())
        .await?
        .run()
        .await
}
