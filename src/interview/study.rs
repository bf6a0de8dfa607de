//! What a study adds to an interview's plan: its subject in the system prompt, and its added
//! questions, given to Claude as questions to cover in their stage and asked by the offline
//! interviewer after the stage's own.

use std::fmt::Write;

use crate::{
    interview::knowledge::cut,
    model::{Stage, StudyPlan},
};

/// The most characters of the subject sent in the system prompt (the study refuses a longer
/// one; files edited by hand are cut here).
const SUBJECT_CHARS: usize = crate::model::study::MAX_SUBJECT_CHARS;

/// The system prompt's section on the study, after the general plan: what this organisation
/// wants to learn, and the questions to cover stage by stage. Bounded: a 2,000-character
/// subject and eight questions of 400 characters per stage at most.
pub fn plan_section(plan: &StudyPlan) -> String {
    let mut out = format!(
        "\n\n# The study this interview belongs to\n\nThis expert is one of several interviewed \
         for the study \"{}\". What the organisation wants to learn:\n\n{}\n\nKeep the nine \
         stages, and within them steer the questions and the examples you ask for towards \
         this subject.",
        cut(&plan.title, 200),
        cut(&plan.subject, SUBJECT_CHARS),
    );
    if plan.questions.values().any(|q| !q.is_empty()) {
        out.push_str(
            "\n\n## Questions the organisation added\n\nCover each of these in its stage, in \
             your own words and at a natural moment, before you move on from the stage:",
        );
        for stage in Stage::ALL {
            let questions = plan.questions(stage);
            if questions.is_empty() {
                continue;
            }
            let _ = write!(out, "\n\nStage \"{stage}\":");
            for question in questions {
                let _ = write!(out, "\n- {}", cut(question, 400));
            }
        }
    }
    out
}

/// The question the offline interviewer asks at position `index` of `stage` past the bank's
/// own (`index` 0 is the first added one), if the study added that many.
pub fn added_question(plan: Option<&StudyPlan>, stage: Stage, index: usize) -> Option<&str> {
    plan?.questions(stage).get(index).map(String::as_str)
}

/// How many questions the study added to `stage`.
pub fn added_count(plan: Option<&StudyPlan>, stage: Stage) -> usize {
    plan.map_or(0, |p| p.questions(stage).len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_names_the_study_its_subject_and_the_added_questions_by_stage() {
        let mut plan = StudyPlan {
            title: "Night shift".into(),
            subject: "Keeping the furnace stable at night".into(),
            ..StudyPlan::default()
        };
        let bare = plan_section(&plan);
        assert!(bare.contains("\"Night shift\""), "{bare}");
        assert!(bare.contains("Keeping the furnace stable"), "{bare}");
        assert!(!bare.contains("Questions the organisation added"), "{bare}");
        plan.questions.insert(
            Stage::Operations,
            vec!["Who covers a sick operator?".into()],
        );
        let full = plan_section(&plan);
        assert!(
            full.contains("Stage \"operations\":\n- Who covers a sick operator?"),
            "{full}"
        );
        assert_eq!(
            added_question(Some(&plan), Stage::Operations, 0),
            Some("Who covers a sick operator?")
        );
        assert_eq!(added_question(Some(&plan), Stage::Operations, 1), None);
        assert_eq!(added_count(None, Stage::Operations), 0);
    }
}
