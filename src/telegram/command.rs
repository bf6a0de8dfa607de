//! The commands the bot knows, parsed by teloxide from `/name` messages.

use teloxide::utils::command::BotCommands;

use crate::i18n::Msg;

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
    /// The operator's figures (for `ADMIN_USER_IDS`; anyone else is told it is unknown).
    Metrics,
    /// A one-time sign-in link to the operator's desk (for `ADMIN_USER_IDS`, when the desk is
    /// served; anyone else is told it is unknown).
    Desk,
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

    /// Whether the command only shows something, changing nothing.
    pub fn is_read_only(self) -> bool {
        matches!(self, Command::Status | Command::Help | Command::Export)
    }
}
