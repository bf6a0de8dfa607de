//! Callback data as a typed enum. Button data comes back from the client, so it is untrusted:
//! anything that does not decode is refused, and what decodes is still checked against the
//! chat's state before it changes anything.
//!
//! The encoding is short (`kind:value`) to stay far below Telegram's 64-byte limit; the same
//! encoding is used when a keyboard is saved with a message waiting to be sent.

use serde::{Deserialize, Serialize};

use crate::{i18n::Lang, interview::Style};

/// What a button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Callback {
    /// Choose the language.
    Language(Lang),
    /// Choose the interviewer personality.
    Style(Style),
    /// Begin the interview after the briefing.
    Begin,
    /// Resume the interview with this session id.
    Resume(u32),
    /// Archive the interview with this session id and set up a new one.
    StartOver(u32),
    /// Confirm /reset of the interview with this session id.
    ResetConfirm(u32),
    /// Confirm /delete issued at this time (unix minutes).
    DeleteConfirm(u32),
    /// Dismiss a confirmation.
    Cancel,
    /// Take the doubtful transcript of the voice note from this update as the answer.
    VoiceUse(u32),
    /// Set the doubtful transcript of the voice note from this update aside.
    VoiceRetry(u32),
    /// Confirm the report of the interview with this session id.
    ReportConfirm(u32),
    /// Correct the report of the interview with this session id.
    ReportCorrect(u32),
}

impl Callback {
    /// The button's data.
    pub fn encode(self) -> String {
        match self {
            Callback::Language(lang) => format!("lang:{}", lang.code()),
            Callback::Style(style) => format!("style:{}", style_index(style)),
            Callback::Begin => "begin".to_owned(),
            Callback::Resume(session) => format!("resume:{session}"),
            Callback::StartOver(session) => format!("over:{session}"),
            Callback::ResetConfirm(session) => format!("reset:{session}"),
            Callback::DeleteConfirm(minute) => format!("delete:{minute}"),
            Callback::Cancel => "cancel".to_owned(),
            Callback::VoiceUse(update) => format!("vuse:{update}"),
            Callback::VoiceRetry(update) => format!("vretry:{update}"),
            Callback::ReportConfirm(session) => format!("ok:{session}"),
            Callback::ReportCorrect(session) => format!("fix:{session}"),
        }
    }

    /// Decodes button data; `None` for anything this build did not produce.
    pub fn decode(data: &str) -> Option<Callback> {
        let (kind, value) = data.split_once(':').unwrap_or((data, ""));
        let number = || {
            value
                .parse::<u32>()
                .ok()
                .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
        };
        Some(match (kind, value) {
            ("lang", code) => Callback::Language(code.parse().ok()?),
            ("style", _) => Callback::Style(*Style::ALL.get(number()? as usize)?),
            ("begin", "") => Callback::Begin,
            ("resume", _) => Callback::Resume(number()?),
            ("over", _) => Callback::StartOver(number()?),
            ("reset", _) => Callback::ResetConfirm(number()?),
            ("delete", _) => Callback::DeleteConfirm(number()?),
            ("cancel", "") => Callback::Cancel,
            ("vuse", _) => Callback::VoiceUse(number()?),
            ("vretry", _) => Callback::VoiceRetry(number()?),
            ("ok", _) => Callback::ReportConfirm(number()?),
            ("fix", _) => Callback::ReportCorrect(number()?),
            _ => return None,
        })
    }
}

impl From<Callback> for String {
    fn from(callback: Callback) -> String {
        callback.encode()
    }
}

impl TryFrom<String> for Callback {
    type Error = String;

    fn try_from(data: String) -> Result<Callback, String> {
        Callback::decode(&data).ok_or_else(|| format!("unknown button data {data:?}"))
    }
}

fn style_index(style: Style) -> usize {
    Style::ALL
        .iter()
        .position(|s| *s == style)
        .expect("every style is listed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_callback_round_trips_within_the_size_limit() {
        let all = [
            Callback::Language(Lang::En),
            Callback::Language(Lang::Ru),
            Callback::Begin,
            Callback::Resume(u32::MAX),
            Callback::StartOver(7),
            Callback::ResetConfirm(123_456),
            Callback::DeleteConfirm(29_000_000),
            Callback::Cancel,
            Callback::VoiceUse(u32::MAX),
            Callback::VoiceRetry(0),
            Callback::ReportConfirm(u32::MAX),
            Callback::ReportCorrect(0),
        ]
        .into_iter()
        .chain(Style::ALL.map(Callback::Style));
        for callback in all {
            let data = callback.encode();
            assert!(data.len() <= 64, "{data}");
            assert_eq!(Callback::decode(&data), Some(callback), "{data}");
        }
    }

    #[test]
    fn forged_or_unknown_data_does_not_decode() {
        for data in [
            "",
            "lang:de",
            "style:9",
            "style:-1",
            "style:01x",
            "resume:",
            "resume:abc",
            "resume:+5",
            "reset:99999999999",
            "begin:now",
            "cancel:1",
            "drop table",
            "lang",
            "delete:1e3",
            "../../etc/passwd",
            "vuse:",
            "vuse:-1",
            "vretry:1.5",
            "ok:",
            "fix:-3",
        ] {
            assert_eq!(Callback::decode(data), None, "{data:?}");
        }
    }
}
