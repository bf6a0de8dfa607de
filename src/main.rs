//! The `ai-interviewer` binary: parses the command line, loads the settings, sets up logging,
//! then runs the Telegram bot (the default) or the console interview.

use std::process::ExitCode;

use ai_interviewer::{
    app::{self, STARTUP_FAILURE, StartupError},
    console::{self, ConsoleOptions},
    i18n::Lang,
    interview::Style,
    settings::Settings,
    telegram, telemetry,
};
use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;

/// Structured expert interviews that turn into written knowledge.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Telegram bot (the default).
    Bot,
    /// Run an interview in the terminal.
    Console {
        /// The language of a new interview (default: DEFAULT_LANGUAGE).
        #[arg(long, value_enum)]
        lang: Option<Lang>,
        /// The interviewer personality of a new interview.
        #[arg(long, value_enum, default_value_t = Style::MasterInterviewer)]
        style: Style,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Startup(error)) => {
            eprintln!("ai-interviewer: {error}");
            ExitCode::from(STARTUP_FAILURE)
        }
        Err(Failure::Runtime(error)) => {
            eprintln!("ai-interviewer: {error:#}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    Startup(StartupError),
    Runtime(anyhow::Error),
}

impl<E: Into<StartupError>> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure::Startup(error.into())
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let settings = Settings::from_env()?;
    let secrets: Vec<String> = [
        &settings.claude.api_key,
        &settings.telegram.bot_token,
        &settings.voice.assemblyai.api_key,
    ]
    .into_iter()
    .flatten()
    .map(|s| s.expose_secret().to_owned())
    .collect();
    match cli.command.unwrap_or(Command::Bot) {
        Command::Bot => {
            let level = settings.log_level.as_deref().unwrap_or("info");
            telemetry::init(level, settings.log_format, secrets);
            let engine = app::build_engine(&settings)?;
            if !engine.is_online() {
                tracing::warn!("no ANTHROPIC_API_KEY: interviews run on the offline question bank");
            }
            telegram::run(&settings, engine).await?;
            Ok(())
        }
        Command::Console { lang, style } => {
            let level = settings.log_level.as_deref().unwrap_or("warn");
            telemetry::init(level, settings.log_format, secrets);
            let engine = app::build_engine(&settings)?;
            let options = ConsoleOptions {
                language: lang.unwrap_or(settings.default_language),
                style,
            };
            console::run_stdio(&engine, options)
                .await
                .map_err(|e| Failure::Runtime(e.into()))
        }
    }
}
