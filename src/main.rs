//! The `ai-interviewer` binary: parses the command line, loads the settings, sets up logging,
//! then runs the Telegram bot (the default), the console interview, or the health check.

use std::{process::ExitCode, time::Duration};

use ai_interviewer::{
    app::{self, Overrides, STARTUP_FAILURE, StartupError},
    console::{self, ConsoleOptions},
    i18n::Lang,
    interview::Style,
    metrics,
    settings::Settings,
    telemetry,
};
use clap::{Parser, Subcommand};

/// How long `healthcheck` waits for the bot's answer.
const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(3);

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
    /// Ask the running bot whether it is healthy, through METRICS_ADDR's /healthz: exit code 0
    /// when it is, 1 when it is not or cannot be asked (for a container HEALTHCHECK).
    Healthcheck,
    /// Print a one-time sign-in link to the operator's desk (valid 10 minutes, single use),
    /// for the running bot's DESK_PUBLIC_URL.
    DeskLink {
        /// The language of the desk's pages.
        #[arg(long, value_enum, default_value_t = Lang::En)]
        lang: Lang,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Healthcheck) = cli.command {
        return healthcheck().await;
    }
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
    let secrets = settings.secrets();
    match cli.command.unwrap_or(Command::Bot) {
        Command::Bot => {
            let level = settings.log_level.as_deref().unwrap_or("info");
            telemetry::init(level, settings.log_format, secrets);
            let bot = app::bot(settings, Overrides::default()).await?;
            bot.run(app::shutdown_signal()).await?;
            Ok(())
        }
        Command::Console { lang, style } => {
            let level = settings.log_level.as_deref().unwrap_or("warn");
            telemetry::init(level, settings.log_format, secrets);
            let engine = app::console(&settings, &Overrides::default()).await?;
            let options = ConsoleOptions {
                language: lang.unwrap_or(settings.default_language),
                style,
            };
            console::run_stdio(&engine, options)
                .await
                .map_err(|e| Failure::Runtime(e.into()))
        }
        Command::DeskLink { lang } => {
            let url = app::desk_link(&settings, lang)?;
            println!("{url}");
            Ok(())
        }
        Command::Healthcheck => unreachable!("answered before the settings are loaded"),
    }
}

/// `ai-interviewer healthcheck`: 0 when `/healthz` answers 200, 1 otherwise, whatever the cause
/// (exit code 2 means something else to a container runtime).
async fn healthcheck() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("healthcheck: {error}");
            return ExitCode::FAILURE;
        }
    };
    let Some(addr) = settings.metrics_addr else {
        eprintln!("healthcheck: METRICS_ADDR is not set, so the bot serves no /healthz");
        return ExitCode::FAILURE;
    };
    match metrics::http::probe(addr, HEALTHCHECK_TIMEOUT).await {
        Ok(body) => {
            print!("{body}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("healthcheck: {error}");
            ExitCode::FAILURE
        }
    }
}
