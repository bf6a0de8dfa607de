//! The commands: /start, /status, /reset, /complete, /language, /help, /export, /delete.

use teloxide::{prelude::*, utils::command::BotCommands};

use super::setup;
use crate::{
    i18n::Msg,
    interview::{export, status},
    telegram::{
        callback::Callback,
        delivery,
        error::{HandlerResult, Tell},
        keyboards,
        send::{self, Typing},
        services::{Services, Who},
        state::ChatDialogue,
    },
};

/// The commands the bot knows.
#[derive(BotCommands, Clone, Copy, Debug, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum Command {
    /// Begin or resume an interview.
    Start,
    /// Progress against the plan.
    Status,
    /// Archive the interview and start anew.
    Reset,
    /// Finish early: go to the wrap-up.
    Complete,
    /// Switch language.
    Language,
    /// What the bot can do.
    Help,
    /// The transcript so far.
    Export,
    /// Erase everything stored about the user.
    Delete,
}

impl Command {
    /// Every command with its menu description's message, in menu order.
    pub const MENU: [(&'static str, Msg); 8] = [
        ("start", Msg::CmdStart),
        ("status", Msg::CmdStatus),
        ("complete", Msg::CmdComplete),
        ("reset", Msg::CmdReset),
        ("language", Msg::CmdLanguage),
        ("export", Msg::CmdExport),
        ("delete", Msg::CmdDelete),
        ("help", Msg::CmdHelp),
    ];
}

/// How long a /delete confirmation stays valid, in minutes.
pub const DELETE_CONFIRM_MINUTES: u32 = 10;

/// Minutes since the Unix epoch: the stamp on a /delete confirmation.
pub fn unix_minutes() -> u32 {
    (chrono::Utc::now().timestamp() / 60) as u32
}

/// Runs a command.
pub async fn run(
    command: Command,
    services: Services,
    who: Who,
    dialogue: ChatDialogue,
    msg: Message,
) -> HandlerResult {
    let say = |m: Msg| services.text(who.lang, &m);
    let bot = &services.bot;
    match command {
        Command::Start => {
            let name = msg
                .from
                .as_ref()
                .map(|u| u.first_name.clone())
                .unwrap_or_default();
            setup::start(services.clone(), who, dialogue, name).await?;
        }
        Command::Help => {
            send::say(bot, who.chat, &say(Msg::Help)).await?;
        }
        Command::Status => match services.engine.session(who.user).await.tell(who)? {
            Some(session) => {
                let text = status::render(&session, services.catalog());
                let (title, body) = text.split_once('\n').unwrap_or((&text, ""));
                send::send_parts(bot, who.chat, &send::parts(Some(title), body), None).await?;
            }
            None => no_interview(&services, who).await?,
        },
        Command::Reset => match services.engine.session(who.user).await.tell(who)? {
            Some(session) => {
                let keyboard = keyboards::confirm(
                    services.catalog(),
                    who.lang,
                    Msg::ButtonResetConfirm,
                    Callback::ResetConfirm(session.id),
                );
                send::ask(bot, who.chat, &say(Msg::ResetConfirm), keyboard).await?;
            }
            None => no_interview(&services, who).await?,
        },
        Command::Complete => {
            if services.engine.session(who.user).await.tell(who)?.is_none() {
                return Ok(no_interview(&services, who).await?);
            }
            // The wrap-up question comes from Claude: answer in the background so this chat's
            // other updates are not held up.
            let services = services.clone();
            tokio::spawn(async move {
                let typing = Typing::start(&services.bot, who.chat);
                let outcome = services.engine.complete(who.user).await;
                drop(typing);
                delivery::deliver(&services, who, outcome, Vec::new()).await;
            });
        }
        Command::Language => {
            let during = services.engine.session(who.user).await.tell(who)?.is_some();
            setup::ask_language(&services, who, &dialogue, &say(Msg::ChooseLanguage), during)
                .await?;
        }
        Command::Export => match services.engine.session(who.user).await.tell(who)? {
            Some(session) => {
                let markdown = export::markdown(&session, services.catalog());
                let json = export::json(&session);
                send::document(
                    bot,
                    who.chat,
                    "interview-transcript.md",
                    markdown.into_bytes(),
                    Some(say(Msg::ExportTranscript)),
                )
                .await?;
                send::document(
                    bot,
                    who.chat,
                    "interview-transcript.json",
                    json.into_bytes(),
                    None,
                )
                .await?;
            }
            None => no_interview(&services, who).await?,
        },
        Command::Delete => {
            let keyboard = keyboards::confirm(
                services.catalog(),
                who.lang,
                Msg::ButtonDeleteConfirm,
                Callback::DeleteConfirm(unix_minutes()),
            );
            send::ask(bot, who.chat, &say(Msg::DeleteConfirm), keyboard).await?;
        }
    }
    Ok(())
}

async fn no_interview(services: &Services, who: Who) -> Result<(), teloxide::RequestError> {
    let text = format!(
        "{}\n{}",
        services.text(who.lang, &Msg::NoInterview),
        services.text(who.lang, &Msg::SendStart)
    );
    send::say(&services.bot, who.chat, &text).await.map(drop)
}

/// A command this bot does not know (including /metrics until operations support lands).
pub async fn unknown(services: Services, who: Who) -> HandlerResult {
    send::say(
        &services.bot,
        who.chat,
        &services.text(who.lang, &Msg::UnknownCommand),
    )
    .await?;
    Ok(())
}
