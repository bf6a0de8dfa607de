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
    // A skipped question is not probed: the expert chose not to answer it.
    if session.is_skipped(session.transcript.len() - 1) {
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
/// the bank's own; a stage's opening starts with the personality's own transition (the short
/// personality drops it).
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
    if index == 0 && stage != Stage::Greeting {
        let parts = sentences(text);
        if let [first, ..] = parts.as_slice()
            && parts.len() > 1
            && first.ends_with('.')
        {
            let rest = text[first.len()..].trim();
            if session.style == Style::TelegramOptimized {
                return Some(rest.to_owned());
            }
            if let Some(own) = bank.transition(lang, session.style, stage) {
                return Some(format!("{own} {rest}"));
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        i18n::{Catalog, Lang},
        interview::UserId,
        model::Fallback,
    };

    fn bank() -> QuestionBank {
        QuestionBank::from_catalog(&Catalog::load().unwrap()).unwrap()
    }

    /// A session in `stage`, the bank's question `index` asked, and `answer` given.
    fn asked(
        bank: &QuestionBank,
        style: Style,
        stage: Stage,
        index: usize,
        answer: &str,
    ) -> Session {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut s = Session::new(1, UserId(1), Lang::En, style, now);
        s.stage = stage;
        s.record_mut(stage).bank_asked = index + 1;
        let q = bank.get(Lang::En, stage, index).unwrap().to_owned();
        s.push_fallback_question(q, Fallback::NoModel, now);
        s.push_answer(answer, now);
        s
    }

    #[test]
    fn a_thin_answer_gets_the_personalitys_probe_once() {
        let bank = bank();
        let mut s = asked(
            &bank,
            Style::TelegramOptimized,
            Stage::Essence,
            0,
            "Hard to say.",
        );
        let probe = follow_up(&s, &bank).unwrap();
        assert_eq!(
            probe,
            bank.voice(Lang::En, Style::TelegramOptimized)
                .unwrap()
                .probe
        );
        let now = s.last_activity;
        s.push_fallback_question(probe, Fallback::NoModel, now);
        s.push_answer("It depends.", now);
        assert_eq!(follow_up(&s, &bank), None, "one probe per question");
    }

    #[test]
    fn short_answers_are_taken_as_they_are_where_short_is_complete() {
        let bank = bank();
        for (stage, index) in [
            (Stage::Greeting, 0),
            (Stage::Profiling, 1),
            (Stage::ExpertiseMap, 6),
        ] {
            let s = asked(
                &bank,
                Style::MasterInterviewer,
                stage,
                index,
                "Twenty years.",
            );
            assert_eq!(follow_up(&s, &bank), None, "{stage} {index}");
        }
    }

    #[test]
    fn a_walked_incident_is_read_back_and_its_timeline_not_asked_again() {
        let bank = bank();
        let incident = "It was last March. First the gauge dropped at 20:07. Then I stopped \
                        the test and walked the line. After that we cut out the weld.";
        let s = asked(
            &bank,
            Style::ConversationalBalance,
            Stage::FailureModes,
            0,
            incident,
        );
        let back = follow_up(&s, &bank).unwrap();
        assert!(back.starts_with("So, if I followed you"), "{back}");
        assert!(back.contains("First the gauge dropped at 20:07."), "{back}");
        assert!(back.ends_with('?'));
        assert!(skipped(&s, 1) && !skipped(&s, 2));
        let next = question(&s, &bank, 2).unwrap();
        assert_eq!(next, bank.get(Lang::En, Stage::FailureModes, 2).unwrap());
    }

    #[test]
    fn a_question_building_on_a_case_is_asked_in_general_when_none_was_told() {
        let bank = bank();
        let s = asked(
            &bank,
            Style::MasterInterviewer,
            Stage::Mastery,
            0,
            "Hard to say, it's mostly experience",
        );
        let next = question(&s, &bank, 1).unwrap();
        assert!(!next.contains("that case"), "{next}");
        assert_eq!(
            Some(next.as_str()),
            bank.variant(Lang::En, Stage::Mastery, 1, Variant::General)
        );
        let told = asked(
            &bank,
            Style::MasterInterviewer,
            Stage::Mastery,
            0,
            "Last week a client sent a drawing with the wrong bevel angle and I caught it \
             before the crew cut a single pipe.",
        );
        assert!(question(&told, &bank, 1).unwrap().contains("in that case"));
    }

    #[test]
    fn the_short_personality_opens_a_stage_without_the_transition() {
        let bank = bank();
        let s = asked(&bank, Style::TelegramOptimized, Stage::Essence, 0, "x");
        let mut s = s;
        s.stage = Stage::Operations;
        let opening = question(&s, &bank, 0).unwrap();
        assert!(opening.starts_with("Think of the last time"), "{opening}");
        s.style = Style::MasterInterviewer;
        assert!(question(&s, &bank, 0).unwrap().starts_with("Let's turn to"));
        s.style = Style::StageSpecific;
        let own = question(&s, &bank, 0).unwrap();
        assert!(
            own.starts_with("This part is about how your work is done"),
            "{own}"
        );
        assert!(own.ends_with("what was the situation?"), "{own}");
        assert_eq!(bank.identify(Stage::Operations, &own), Some(0));
    }
}
