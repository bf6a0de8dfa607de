//! What the offline interviewer asks next, from the session as it stands: a follow-up to the
//! answer just given (one probe for a real example, or a read-back), or the bank's next
//! question in the wording that fits what the expert has told so far.

use super::{read, read_back, sentences};
use crate::interview::{QuestionBank, Role, Session, Stage, Style, bank::Variant};

/// Stages where a thin answer is worth one probe for a real example: the ones that live on
/// cases. The greeting, the profile and the wrap-up take short answers as they come.
const PROBING: [Stage; 6] = [
    Stage::Essence,
    Stage::Operations,
    Stage::ExpertiseMap,
    Stage::FailureModes,
    Stage::Mastery,
    Stage::GrowthPath,
];

/// Questions (stage, index from 0) whose short answer is complete as it is: a list of areas,
/// their order, the sources someone learned from. No example is asked for after them.
const NO_PROBE: [(Stage, usize); 3] = [
    (Stage::ExpertiseMap, 5),
    (Stage::ExpertiseMap, 6),
    (Stage::GrowthPath, 1),
];

/// The bank's question that asks to lay the incident out in order: not asked when the
/// expert has already walked through it (the read-back covered it).
const TIMELINE: (Stage, usize) = (Stage::FailureModes, 1);

/// The follow-up to the answer just given, if it needs one: a read-back of the steps or the
/// incident it walked through, or one probe for a real example after a thin answer. Never
/// after a follow-up: each bank question gets at most one.
pub fn follow_up(session: &Session, bank: &QuestionBank) -> Option<String> {
    let answer = session.pending()?;
    let stage = session.stage;
    if answer.stage != stage || matches!(stage, Stage::Greeting | Stage::WrapUp) {
        return None;
    }
    let asked = session
        .transcript
        .iter()
        .rev()
        .skip(1)
        .find(|e| e.role == Role::Interviewer)?;
    if asked.stage != stage || !asked.offline {
        return None;
    }
    let index = bank.identify(stage, &asked.text)?;
    let voice = bank.voice(session.language, session.style)?;
    let reading = read(&answer.text);
    if reading.walked {
        return Some(voice.read_back(session.language, &read_back(&answer.text)));
    }
    (reading.thin && PROBING.contains(&stage) && !NO_PROBE.contains(&(stage, index)))
        .then(|| voice.probe.clone())
}

/// Whether question `index` of the current stage is left out: the timeline of an incident the
/// expert has already walked through.
pub fn skipped(session: &Session, index: usize) -> bool {
    (session.stage, index) == TIMELINE && told(session, Some(session.stage), |r| r.walked)
}

/// The wording of question `index` of the current stage: the variant for an incident already
/// walked through, the general one when no answer of the stage told a case to build on, else
/// the bank's own; the short personality drops an opening's transition sentence.
pub fn question(session: &Session, bank: &QuestionBank, index: usize) -> Option<String> {
    let (lang, stage) = (session.language, session.stage);
    let walked = bank
        .variant(lang, stage, index, Variant::Walked)
        .filter(|_| told(session, None, |r| r.walked));
    let general = bank
        .variant(lang, stage, index, Variant::General)
        .filter(|_| !told(session, Some(stage), |r| r.case));
    let text = walked
        .or(general)
        .or_else(|| bank.get(lang, stage, index))?;
    if session.style == Style::TelegramOptimized && index == 0 && stage != Stage::Greeting {
        let parts = sentences(text);
        if let [first, ..] = parts.as_slice()
            && parts.len() > 1
            && first.ends_with('.')
        {
            return Some(text[first.len()..].trim().to_owned());
        }
    }
    Some(text.to_owned())
}

/// Whether an answer (in `stage`, or anywhere) reads as `test` says.
fn told(session: &Session, stage: Option<Stage>, test: impl Fn(super::Reading) -> bool) -> bool {
    session
        .transcript
        .iter()
        .filter(|e| e.role == Role::Expert && stage.is_none_or(|s| e.stage == s))
        .any(|e| test(read(&e.text)))
}
