//! A study: many experts interviewed on one subject for one organisation. It names the subject
//! and what the organisation wants to learn (which joins the plan of every interview of the
//! study), fixes the language and the interviewer personality, may carry its own consent text,
//! and is joined through an invite code in a Telegram deep link. Questions added to it later
//! (from a synthesis's gaps, or by hand) are asked in their stage by interviews begun after.
//!
//! An interview keeps the study's id and a copy of its plan as it stood when the interview
//! began ([`StudyPlan`]): the plan an expert is interviewed on never changes under them, and the
//! system prompt stays the same from turn to turn (so Claude can cache it).

use std::{collections::BTreeMap, fmt};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Lang, Stage, Style};

/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 120;
/// The longest subject (what the organisation wants to learn), in characters: it goes into
/// every turn's system prompt, so it stays a page at most.
pub const MAX_SUBJECT_CHARS: usize = 2_000;
/// The longest consent text, in characters: it goes under the briefing, in one message.
pub const MAX_CONSENT_CHARS: usize = 1_500;
/// The longest added question, in characters.
pub const MAX_QUESTION_CHARS: usize = 400;
/// The most questions added to one stage: each is asked, so a stage stays within its time.
pub const MAX_QUESTIONS_PER_STAGE: usize = 8;

/// A study's id: 12 lowercase hex digits, safe in file names and URLs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StudyId(String);

impl StudyId {
    /// A new random id.
    pub fn random() -> StudyId {
        StudyId(format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff))
    }

    /// The id `text` spells, if it is one.
    pub fn parse(text: &str) -> Option<StudyId> {
        (text.len() == 12
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| StudyId(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StudyId {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        StudyId::parse(&text).ok_or_else(|| format!("{text:?} is not a study id"))
    }
}

impl From<StudyId> for String {
    fn from(id: StudyId) -> String {
        id.0
    }
}

impl fmt::Display for StudyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A study's invite code: the payload of its deep link (`https://t.me/<bot>?start=<code>`).
/// Telegram allows 64 characters of `A-Za-z0-9_-` there; the code is 16 random bytes in
/// unpadded base64url (22 characters), so it cannot be guessed or counted up to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InviteCode(String);

impl InviteCode {
    /// A new random code.
    pub fn random() -> InviteCode {
        InviteCode(base64url(&rand::random::<[u8; 16]>()))
    }

    /// The code `text` spells, if it could be one (a deep link's payload).
    pub fn parse(text: &str) -> Option<InviteCode> {
        (!text.is_empty()
            && text.len() <= 64
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
        .then(|| InviteCode(text.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The deep link that starts the bot `@bot_username` with this code.
    pub fn link(&self, bot_username: &str) -> String {
        format!(
            "https://t.me/{}?start={}",
            bot_username.trim_start_matches('@'),
            self.0
        )
    }
}

impl TryFrom<String> for InviteCode {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        InviteCode::parse(&text).ok_or_else(|| "not an invite code".to_owned())
    }
}

impl From<InviteCode> for String {
    fn from(code: InviteCode) -> String {
        code.0
    }
}

/// Unpadded base64url (RFC 4648 §5): the alphabet Telegram accepts in a deep link.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// What the operator gives to create a study.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStudy {
    /// The title the experts see in their welcome.
    pub title: String,
    /// The subject and what the organisation wants to learn: it joins the interview plan.
    pub subject: String,
    /// The language of the study's interviews.
    pub language: Lang,
    /// The interviewer personality of the study's interviews.
    pub style: Style,
    /// The study's own consent text, shown under the briefing in place of the deployment's
    /// notice; `None` keeps the deployment's notice.
    pub consent: Option<String>,
    /// How many experts the study seeks (0: not said).
    pub experts_sought: u32,
}

/// Why a study, or a change to it, was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StudyError {
    /// A text is empty or too long.
    #[error("the {what} must be 1 to {max} characters")]
    Length {
        /// Which text.
        what: &'static str,
        /// Its longest allowed length.
        max: usize,
    },
    /// Questions cannot be added to a closed study.
    #[error("the study is closed")]
    Closed,
}

/// One study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Study {
    /// Its id.
    pub id: StudyId,
    /// The title the experts see.
    pub title: String,
    /// The subject and what the organisation wants to learn.
    pub subject: String,
    /// The language of its interviews.
    pub language: Lang,
    /// The interviewer personality of its interviews.
    pub style: Style,
    /// Its own consent text, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<String>,
    /// How many experts it seeks (0: not said).
    #[serde(default)]
    pub experts_sought: u32,
    /// The code of its invite link.
    pub invite: InviteCode,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its invite link was closed; a closed study takes no new experts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    /// Questions added to its plan, by stage, in the order they are asked.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub questions: BTreeMap<Stage, Vec<String>>,
}

/// Checks that `text`, trimmed, is 1 to `max` characters, and returns it trimmed.
fn bounded(text: &str, what: &'static str, max: usize) -> Result<String, StudyError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > max {
        return Err(StudyError::Length { what, max });
    }
    Ok(text.to_owned())
}

impl Study {
    /// A new open study from `draft`, with a fresh id and invite code.
    pub fn new(draft: NewStudy, now: DateTime<Utc>) -> Result<Study, StudyError> {
        Ok(Study {
            id: StudyId::random(),
            title: bounded(&draft.title, "title", MAX_TITLE_CHARS)?,
            subject: bounded(&draft.subject, "subject", MAX_SUBJECT_CHARS)?,
            language: draft.language,
            style: draft.style,
            consent: draft
                .consent
                .filter(|c| !c.trim().is_empty())
                .map(|c| bounded(&c, "consent text", MAX_CONSENT_CHARS))
                .transpose()?,
            experts_sought: draft.experts_sought,
            invite: InviteCode::random(),
            created_at: now,
            closed_at: None,
            questions: BTreeMap::new(),
        })
    }

    /// Whether its invite link still takes new experts.
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }

    /// Adds `questions` to `stage`'s, after those already there; a question the stage already
    /// has (ignoring case and spacing) is not added twice, and a stage keeps at most
    /// [`MAX_QUESTIONS_PER_STAGE`]. Returns how many were added.
    pub fn add_questions(
        &mut self,
        stage: Stage,
        questions: &[String],
    ) -> Result<usize, StudyError> {
        if !self.is_open() {
            return Err(StudyError::Closed);
        }
        let checked = questions
            .iter()
            .filter(|q| !q.trim().is_empty())
            .map(|q| bounded(q, "question", MAX_QUESTION_CHARS))
            .collect::<Result<Vec<_>, _>>()?;
        let list = self.questions.entry(stage).or_default();
        let key = |q: &str| {
            q.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        };
        let mut added = 0;
        for question in checked {
            if list.len() >= MAX_QUESTIONS_PER_STAGE {
                break;
            }
            if list.iter().any(|q| key(q) == key(&question)) {
                continue;
            }
            list.push(question);
            added += 1;
        }
        if list.is_empty() {
            self.questions.remove(&stage);
        }
        Ok(added)
    }

    /// The plan an interview begun now follows.
    pub fn plan(&self) -> StudyPlan {
        StudyPlan {
            title: self.title.clone(),
            subject: self.subject.clone(),
            questions: self.questions.clone(),
        }
    }
}

/// The study's plan as an interview of it began: what the interview adds to the general plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyPlan {
    /// The study's title.
    pub title: String,
    /// The subject and what the organisation wants to learn.
    pub subject: String,
    /// Questions to ask, by stage, after the stage's own.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub questions: BTreeMap<Stage, Vec<String>>,
}

impl StudyPlan {
    /// The questions added to `stage`.
    pub fn questions(&self, stage: Stage) -> &[String] {
        self.questions.get(&stage).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> NewStudy {
        NewStudy {
            title: "Night shift".into(),
            subject: "How the night shift keeps the furnace stable".into(),
            language: Lang::En,
            style: Style::MasterInterviewer,
            consent: None,
            experts_sought: 5,
        }
    }

    #[test]
    fn an_invite_code_is_22_characters_a_deep_link_accepts_and_never_repeats() {
        let codes: std::collections::HashSet<String> = (0..200)
            .map(|_| InviteCode::random().as_str().to_owned())
            .collect();
        assert_eq!(codes.len(), 200);
        for code in &codes {
            assert_eq!(code.len(), 22, "{code}");
            assert!(InviteCode::parse(code).is_some(), "{code}");
        }
        assert!(InviteCode::parse("has space").is_none());
        assert!(InviteCode::parse(&"a".repeat(65)).is_none());
        assert_eq!(
            InviteCode::parse("abc").unwrap().link("@ivbot"),
            "https://t.me/ivbot?start=abc"
        );
    }

    #[test]
    fn base64url_matches_the_rfc_examples() {
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn a_study_refuses_an_empty_title_and_a_subject_too_long() {
        let mut bad = draft();
        bad.title = "  ".into();
        assert_eq!(
            Study::new(bad, Utc::now()).unwrap_err(),
            StudyError::Length {
                what: "title",
                max: MAX_TITLE_CHARS
            }
        );
        let mut long = draft();
        long.subject = "x".repeat(MAX_SUBJECT_CHARS + 1);
        assert!(Study::new(long, Utc::now()).is_err());
    }

    #[test]
    fn added_questions_keep_their_order_skip_repeats_and_stop_at_the_stage_limit() {
        let mut study = Study::new(draft(), Utc::now()).unwrap();
        let added = study
            .add_questions(
                Stage::Operations,
                &["Who covers a sick operator?".into(), "  ".into()],
            )
            .unwrap();
        assert_eq!(added, 1);
        let again = study
            .add_questions(
                Stage::Operations,
                &[
                    "who covers  a sick operator?".into(),
                    "What is logged?".into(),
                ],
            )
            .unwrap();
        assert_eq!(again, 1);
        assert_eq!(
            study.plan().questions(Stage::Operations),
            ["Who covers a sick operator?", "What is logged?"]
        );
        let many: Vec<String> = (0..20).map(|i| format!("Question {i}?")).collect();
        study.add_questions(Stage::Mastery, &many).unwrap();
        assert_eq!(
            study.plan().questions(Stage::Mastery).len(),
            MAX_QUESTIONS_PER_STAGE
        );
        study.closed_at = Some(Utc::now());
        assert_eq!(
            study.add_questions(Stage::Mastery, &many),
            Err(StudyError::Closed)
        );
    }

    #[test]
    fn a_session_keeps_its_study_and_plan_and_older_files_read_as_none() {
        use crate::model::{Session, UserId};
        let mut study = Study::new(draft(), Utc::now()).unwrap();
        study
            .add_questions(Stage::Mastery, &["What do the best do?".into()])
            .unwrap();
        let plain = Session::new(1, UserId(1), Lang::En, Style::MasterInterviewer, Utc::now());
        let value = serde_json::to_value(&plain).unwrap();
        assert!(
            value.get("study").is_none() && value.get("plan").is_none(),
            "{value}"
        );
        let read: Session = serde_json::from_value(value).unwrap();
        assert_eq!((read.study, read.plan), (None, None));
        let mut joined = plain.clone();
        joined.join(&study);
        let read: Session = serde_json::from_value(serde_json::to_value(&joined).unwrap()).unwrap();
        assert_eq!(read.study, Some(study.id.clone()));
        assert_eq!(
            read.plan.unwrap().questions(Stage::Mastery),
            ["What do the best do?"]
        );
    }

    #[test]
    fn study_ids_are_twelve_hex_digits_and_nothing_else_reads_as_one() {
        let id = StudyId::random();
        assert_eq!(StudyId::parse(id.as_str()), Some(id.clone()));
        assert!(StudyId::parse("../../etc").is_none());
        assert!(StudyId::parse("ABCDEF012345").is_none());
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<StudyId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<StudyId>("\"nope\"").is_err());
    }
}
