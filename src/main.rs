//! The `ai-interviewer` binary: parses the command line, loads the settings, sets up logging,
//! then runs the Telegram bot (the default), the console interview, or the health check.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use ai_interviewer::{
    app::{self, Overrides, STARTUP_FAILURE, StartupError},
    console::{self, ConsoleOptions},
    i18n::Lang,
    interview::Style,
    metrics,
    model::{NewStudy, StudyId},
    settings::Settings,
    store::{Storage, StudyStore},
    telegram::Ended,
    telegram::{WebhookCommand, webhook_command},
    telemetry,
};
use clap::{Parser, Subcommand};

/// How long `healthcheck` waits for the bot's answer.
const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// Structured expert interviews that turn into written knowledge.
#[derive(Debug, Clone, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
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
    /// Studies: many experts on one subject, each joining with the study's invite link.
    Study {
        #[command(subcommand)]
        command: StudyCommand,
    },
    /// Ask the running bot whether it is healthy, through METRICS_ADDR's /healthz: exit code 0
    /// when it is, 1 when it is not or cannot be asked (for a container HEALTHCHECK).
    Healthcheck,
    /// Point Telegram at WEBHOOK_URL (`set`) or back to polling (`delete`), once for every
    /// running bot.
    Webhook {
        #[arg(value_enum)]
        action: WebhookAction,
    },
    /// Bring the database's schema (DATABASE_URL) up to date, and exit.
    Migrate,
    /// Copy SESSIONS_DIR's interviews, reports, records and studies into the database
    /// (DATABASE_URL); what is already there is left as it is, so it can be run again.
    ImportFiles,
    /// Print a one-time sign-in link to the operator's desk (valid 10 minutes, single use),
    /// for the running bot's DESK_PUBLIC_URL.
    DeskLink {
        /// The language of the desk's pages.
        #[arg(long, value_enum, default_value_t = Lang::En)]
        lang: Lang,
    },
}

/// What `webhook` does.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum WebhookAction {
    /// Telegram sends updates to WEBHOOK_URL with WEBHOOK_SECRET, one at a time.
    Set,
    /// Telegram keeps updates for polling again.
    Delete,
}

#[derive(Debug, Clone, Subcommand)]
enum StudyCommand {
    /// Create a study and print its invite link.
    Create {
        /// The title the experts see in their welcome.
        #[arg(long)]
        title: String,
        /// The subject and what the organisation wants to learn (joins the interview plan).
        #[arg(long)]
        subject: String,
        /// The language of its interviews (default: DEFAULT_LANGUAGE).
        #[arg(long, value_enum)]
        lang: Option<Lang>,
        /// The interviewer personality of its interviews.
        #[arg(long, value_enum, default_value_t = Style::MasterInterviewer)]
        style: Style,
        /// A text file with the study's own consent notice, shown under the briefing in place
        /// of the deployment's (at most 1500 characters).
        #[arg(long)]
        consent_file: Option<PathBuf>,
        /// How many experts the study seeks.
        #[arg(long, default_value_t = 0)]
        experts: u32,
        /// The bot's username for the link (default: TELEGRAM_BOT_USERNAME, else the one the
        /// bot recorded when it last started).
        #[arg(long)]
        bot_username: Option<String>,
    },
    /// List the studies with their invite links.
    List {
        /// The bot's username for the links.
        #[arg(long)]
        bot_username: Option<String>,
    },
    /// Close a study's invite link: it takes no new experts.
    Close {
        /// The study's id.
        id: String,
    },
    /// Write the study's synthesis now and print where it is.
    Synthesize {
        /// The study's id.
        id: String,
    },
    /// Add the latest synthesis's questions for the next experts to the study's plan.
    AddQuestions {
        /// The study's id.
        id: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Each run has a runtime of its own. A replica that lost its database connection returns
    // at once with its tasks still running; dropping the runtime ends every one of them before
    // the bot starts again as a new replica (waiting for the database if it is still away).
    loop {
        let runtime = match tokio::runtime::Runtime::new() {
            Ok(runtime) => runtime,
            Err(error) => {
                eprintln!("ai-interviewer: cannot start the runtime: {error}");
                return ExitCode::FAILURE;
            }
        };
        let outcome = runtime.block_on(async {
            if let Some(Command::Healthcheck) = cli.command {
                return Ok(Ran::Exit(healthcheck().await));
            }
            run(cli.clone()).await
        });
        runtime.shutdown_background();
        match outcome {
            Ok(Ran::Exit(code)) => return code,
            Ok(Ran::Again) => eprintln!("ai-interviewer: starting again as a new replica"),
            Err(Failure::Startup(error)) => {
                eprintln!("ai-interviewer: {error}");
                return ExitCode::from(STARTUP_FAILURE);
            }
            Err(Failure::Runtime(error)) => {
                eprintln!("ai-interviewer: {error:#}");
                return ExitCode::FAILURE;
            }
        }
    }
}

/// How a run of the program ended, when it did not fail.
enum Ran {
    /// With this exit code.
    Exit(ExitCode),
    /// The bot lost its replica's database connection: it runs again.
    Again,
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

async fn run(cli: Cli) -> Result<Ran, Failure> {
    let settings = Settings::from_env()?;
    let secrets = settings.secrets();
    match cli.command.unwrap_or(Command::Bot) {
        Command::Bot => {
            let level = settings.log_level.as_deref().unwrap_or("info");
            telemetry::init(level, settings.log_format, secrets);
            let bot = app::bot(settings, Overrides::default()).await?;
            match bot.run(app::shutdown_signal()).await? {
                Ended::Stopped => Ok(Ran::Exit(ExitCode::SUCCESS)),
                Ended::Lost => Ok(Ran::Again),
            }
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
                .map(|()| Ran::Exit(ExitCode::SUCCESS))
                .map_err(|e| Failure::Runtime(e.into()))
        }
        Command::Webhook { action } => {
            let command = match action {
                WebhookAction::Set => WebhookCommand::Set,
                WebhookAction::Delete => WebhookCommand::Delete,
            };
            println!("{}", webhook_command(&settings.telegram, command).await?);
            Ok(Ran::Exit(ExitCode::SUCCESS))
        }
        Command::Migrate => {
            let level = settings.log_level.as_deref().unwrap_or("warn");
            telemetry::init(level, settings.log_format, secrets);
            let version = app::migrate(&settings).await?;
            println!("the database schema is at version {version}");
            Ok(Ran::Exit(ExitCode::SUCCESS))
        }
        Command::ImportFiles => {
            let level = settings.log_level.as_deref().unwrap_or("warn");
            telemetry::init(level, settings.log_format, secrets);
            let imported = app::import_files(&settings).await?;
            println!("{imported}");
            Ok(Ran::Exit(ExitCode::SUCCESS))
        }
        Command::DeskLink { lang } => {
            let url = app::desk_link(&settings, lang).await?;
            println!("{url}");
            Ok(Ran::Exit(ExitCode::SUCCESS))
        }
        Command::Study { command } => {
            let level = settings.log_level.as_deref().unwrap_or("warn");
            telemetry::init(level, settings.log_format, secrets);
            study(&settings, command)
                .await
                .map(|()| Ran::Exit(ExitCode::SUCCESS))
                .map_err(Failure::Runtime)
        }
        Command::Healthcheck => unreachable!("answered before the settings are loaded"),
    }
}

/// `ai-interviewer study …`: the studies in `SESSIONS_DIR`, without the bot running.
async fn study(settings: &Settings, command: StudyCommand) -> anyhow::Result<()> {
    let storage = app::storage(settings).await?;
    let engine = app::build_engine(settings, &storage, &Overrides::default())?;
    let studies = engine.studies();
    let username = async |given: Option<String>| -> anyhow::Result<String> {
        let recorded = studies.bot_username().await?;
        given
            .or_else(|| settings.bot_username.clone())
            .or(recorded)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "the bot's username is unknown: pass --bot-username, set \
                     TELEGRAM_BOT_USERNAME, or start the bot once"
                )
            })
    };
    let id = |text: &str| {
        StudyId::parse(text).ok_or_else(|| anyhow::anyhow!("{text:?} is not a study id"))
    };
    match command {
        StudyCommand::Create {
            title,
            subject,
            lang,
            style,
            consent_file,
            experts,
            bot_username,
        } => {
            let consent = match consent_file {
                Some(path) => Some(
                    std::fs::read_to_string(&path)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
                ),
                None => None,
            };
            let draft = NewStudy {
                title,
                subject,
                language: lang.unwrap_or(settings.default_language),
                style,
                consent,
                experts_sought: experts,
            };
            let study = studies.create(draft, engine.now()).await?;
            println!("{}\t{}", study.id, study.title);
            println!("{}", study.invite.link(&username(bot_username).await?));
        }
        StudyCommand::List { bot_username } => {
            let list = studies.list().await?;
            let username = if list.is_empty() {
                String::new()
            } else {
                username(bot_username).await?
            };
            for study in list {
                let state = if study.is_open() { "open" } else { "closed" };
                println!(
                    "{}\t{state}\t{}\t{}\t{}",
                    study.id,
                    study.language,
                    study.title,
                    study.invite.link(&username)
                );
            }
        }
        StudyCommand::Close { id: text } => {
            let study = studies.close(&id(&text)?, engine.now()).await?;
            println!("{}\tclosed\t{}", study.id, study.title);
        }
        StudyCommand::Synthesize { id: text } => {
            let id = id(&text)?;
            let synthesis = engine.synthesize(&id).await?;
            let label = if synthesis.analysed {
                "analysed"
            } else {
                "not analysed"
            };
            println!(
                "{}\t{} experts\t{label}",
                synthesis_place(&storage, &id),
                synthesis.experts.len()
            );
        }
        StudyCommand::AddQuestions { id: text } => {
            let added = engine.add_synthesis_questions(&id(&text)?).await?;
            println!("{added} questions added");
        }
    }
    Ok(())
}

/// Where the synthesis of `id` was kept, for the operator: its Markdown file, or its row.
fn synthesis_place(storage: &Storage, id: &StudyId) -> String {
    match storage.database() {
        None => StudyStore::new(storage.dir())
            .synthesis_markdown_path(id)
            .display()
            .to_string(),
        Some(_) => format!("the synthesis of {id} in DATABASE_URL"),
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
