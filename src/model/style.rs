//! The five interviewer personalities: how the interviewer speaks, not what it covers. Their
//! prompts are loaded by `interview::style`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An interviewer personality: how the interviewer speaks, not what it covers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Style {
    /// Systematic and thorough.
    #[default]
    MasterInterviewer,
    /// Short, mobile-sized messages.
    TelegramOptimized,
    /// Natural flow with full coverage.
    ConversationalBalance,
    /// Deep focus on the current stage.
    StageSpecific,
    /// Recovers from vague, off-topic or hostile answers.
    ConversationManagement,
}

impl Style {
    /// Every personality, in menu order.
    pub const ALL: [Style; 5] = [
        Style::MasterInterviewer,
        Style::TelegramOptimized,
        Style::ConversationalBalance,
        Style::StageSpecific,
        Style::ConversationManagement,
    ];

    /// The personality's id, which is also its prompt's file name without `.md`.
    pub fn id(self) -> &'static str {
        match self {
            Style::MasterInterviewer => "master_interviewer",
            Style::TelegramOptimized => "telegram_optimized",
            Style::ConversationalBalance => "conversational_balance",
            Style::StageSpecific => "stage_specific",
            Style::ConversationManagement => "conversation_management",
        }
    }

    /// Parses a personality id.
    pub fn from_id(id: &str) -> Option<Style> {
        Style::ALL.into_iter().find(|s| s.id() == id)
    }
}

impl fmt::Display for Style {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}
