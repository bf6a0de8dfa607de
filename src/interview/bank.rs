//! The offline question bank: several curated questions per stage and language, used when
//! Claude is unavailable or not configured. The questions live in
//! `locales/<lang>/questions.ftl` as `question-<stage>-<n>`, with the variants the offline
//! interviewer picks from (`-general` when no case was told, `-walked` when an incident was)
//! and each personality's probe and read-back (`offline-probe-<style>`, …).

use std::collections::HashMap;

use super::{Stage, Style};
use crate::i18n::{Catalog, Lang};

/// A stage without questions in some language.
#[derive(Debug, thiserror::Error)]
#[error("the offline question bank has no questions for stage {stage} in {lang}")]
pub struct BankError {
    stage: Stage,
    lang: Lang,
}

/// The offline questions of every stage and language, in order.
#[derive(Debug, Clone)]
pub struct QuestionBank {
    questions: HashMap<(Lang, Stage), Vec<String>>,
    /// Variants by (language, stage, index, kind).
    variants: HashMap<(Lang, Stage, usize, Variant), String>,
    /// Each personality's follow-ups.
    voices: HashMap<(Lang, Style), Voice>,
    /// Each personality's own transitions into the stages.
    transitions: HashMap<(Lang, Style, Stage), String>,
}

/// A variant of a bank question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// Asked when no answer of the stage told a particular case to build on.
    General,
    /// Asked when the expert has already walked through an incident.
    Walked,
}

impl Variant {
    fn suffix(self) -> &'static str {
        match self {
            Variant::General => "general",
            Variant::Walked => "walked",
        }
    }
}

/// A personality's own follow-ups offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voice {
    /// Asks for one specific recent example after a thin answer.
    pub probe: String,
    /// Opens the read-back of the expert's words.
    pub read_back: String,
    /// Asks whether the read-back is right.
    pub check: String,
}

impl Voice {
    /// The read-back message: the opening, the expert's words quoted, the check.
    pub fn read_back(&self, lang: Lang, words: &str) -> String {
        let (open, close) = match lang {
            Lang::Ru => ('«', '»'),
            Lang::En => ('“', '”'),
        };
        format!(
            "{}\n\n{open}{words}{close}\n\n{}",
            self.read_back, self.check
        )
    }
}

impl QuestionBank {
    /// Reads the bank from the catalog; every stage needs at least one question per language.
    pub fn from_catalog(catalog: &Catalog) -> Result<Self, BankError> {
        let mut questions = HashMap::new();
        let mut variants = HashMap::new();
        let mut voices = HashMap::new();
        let mut transitions = HashMap::new();
        for lang in Lang::ALL {
            for stage in Stage::ALL {
                let list: Vec<String> = (1..)
                    .map_while(|n| catalog.lookup(lang, &format!("question-{}-{n}", stage.id())))
                    .collect();
                if list.is_empty() {
                    return Err(BankError { stage, lang });
                }
                for index in 0..list.len() {
                    for variant in [Variant::General, Variant::Walked] {
                        let id =
                            format!("question-{}-{}-{}", stage.id(), index + 1, variant.suffix());
                        if let Some(text) = catalog.lookup(lang, &id) {
                            variants.insert((lang, stage, index, variant), text);
                        }
                    }
                }
                questions.insert((lang, stage), list);
            }
            for style in Style::ALL {
                for stage in Stage::ALL {
                    let id = format!("offline-transition-{}-{}", style.id(), stage.id());
                    if let Some(text) = catalog.lookup(lang, &id) {
                        transitions.insert((lang, style, stage), text);
                    }
                }
                let text =
                    |what: &str| catalog.lookup(lang, &format!("offline-{what}-{}", style.id()));
                if let (Some(probe), Some(read_back), Some(check)) =
                    (text("probe"), text("readback"), text("readback-ask"))
                {
                    voices.insert(
                        (lang, style),
                        Voice {
                            probe,
                            read_back,
                            check,
                        },
                    );
                }
            }
        }
        Ok(QuestionBank {
            questions,
            variants,
            voices,
            transitions,
        })
    }

    /// The `variant` of question `index` of `stage` in `lang`, if the bank has one.
    pub fn variant(
        &self,
        lang: Lang,
        stage: Stage,
        index: usize,
        variant: Variant,
    ) -> Option<&str> {
        self.variants
            .get(&(lang, stage, index, variant))
            .map(String::as_str)
    }

    /// The follow-ups of `style` in `lang` (the default personality's when it has none).
    pub fn voice(&self, lang: Lang, style: Style) -> Option<&Voice> {
        self.voices
            .get(&(lang, style))
            .or_else(|| self.voices.get(&(lang, Style::default())))
    }

    /// `style`'s own transition into `stage`, if it has one.
    pub fn transition(&self, lang: Lang, style: Style, stage: Stage) -> Option<&str> {
        self.transitions
            .get(&(lang, style, stage))
            .map(String::as_str)
    }

    /// Whether an interviewer message is a personality's read-back, in either language.
    pub fn is_read_back(&self, text: &str) -> bool {
        self.voices.values().any(|v| text.starts_with(&v.read_back))
    }

    /// Which question of `stage` an interviewer message is, in either language: its text, a
    /// variant's, or all of it after the opening's transition (which a personality drops or
    /// words its own way).
    /// `None` for a follow-up (probe, read-back) or a message the model wrote.
    pub fn identify(&self, stage: Stage, text: &str) -> Option<usize> {
        let text = text.trim();
        let matches = |q: &str| {
            let rest = super::offline::sentences(q)
                .first()
                .map_or("", |first| q[first.len()..].trim());
            q == text
                || (text.len() > 20 && q.ends_with(text))
                || (rest.len() > 20 && text.ends_with(rest))
        };
        Lang::ALL.into_iter().find_map(|lang| {
            let list = self.questions.get(&(lang, stage))?;
            (0..list.len()).find(|&i| {
                matches(&list[i])
                    || [Variant::General, Variant::Walked]
                        .into_iter()
                        .filter_map(|v| self.variant(lang, stage, i, v))
                        .any(matches)
            })
        })
    }

    /// How many questions `stage` has in `lang`.
    pub fn len(&self, lang: Lang, stage: Stage) -> usize {
        self.questions.get(&(lang, stage)).map_or(0, Vec::len)
    }

    /// Whether the bank is empty (it never is once built).
    pub fn is_empty(&self) -> bool {
        self.questions.is_empty()
    }

    /// Question `index` (from 0) of `stage` in `lang`.
    pub fn get(&self, lang: Lang, stage: Stage, index: usize) -> Option<&str> {
        self.questions
            .get(&(lang, stage))?
            .get(index)
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> QuestionBank {
        QuestionBank::from_catalog(&Catalog::load().unwrap()).unwrap()
    }

    fn questions(bank: &QuestionBank, lang: Lang, stage: Stage) -> Vec<&str> {
        (0..bank.len(lang, stage))
            .map(|i| bank.get(lang, stage, i).unwrap())
            .collect()
    }

    #[test]
    fn every_stage_has_several_questions_in_both_languages() {
        let bank = shipped();
        for stage in Stage::ALL {
            let en = bank.len(Lang::En, stage);
            assert!(en >= 4, "{stage} has {en} questions");
            assert_eq!(en, bank.len(Lang::Ru, stage), "{stage}");
        }
        assert!(
            bank.get(Lang::Ru, Stage::Greeting, 0)
                .unwrap()
                .chars()
                .any(|c| ('а'..='я').contains(&c))
        );
    }

    #[test]
    fn every_bank_message_asks_exactly_one_question_at_its_end() {
        let bank = shipped();
        for lang in Lang::ALL {
            for stage in Stage::ALL {
                for question in questions(&bank, lang, stage) {
                    assert_eq!(
                        question.matches('?').count(),
                        1,
                        "{lang} {stage}: {question}"
                    );
                    assert!(question.ends_with('?'), "{lang} {stage}: {question}");
                }
            }
        }
    }

    #[test]
    fn every_variant_and_follow_up_asks_one_question_in_each_personalitys_own_words() {
        let bank = shipped();
        for lang in Lang::ALL {
            let mut asked = Vec::new();
            for stage in Stage::ALL {
                for index in 0..bank.len(lang, stage) {
                    for variant in [Variant::General, Variant::Walked] {
                        asked.extend(bank.variant(lang, stage, index, variant));
                    }
                }
            }
            assert!(asked.len() >= 10, "{lang}: {asked:?}");
            let mut probes = std::collections::BTreeSet::new();
            for style in Style::ALL {
                let voice = bank.voice(lang, style).unwrap();
                assert!(
                    probes.insert(voice.probe.clone()),
                    "{lang} {style}: shared probe"
                );
                asked.push(&voice.probe);
                asked.push(&voice.check);
                assert!(!voice.read_back.contains('?'), "{lang} {style}");
            }
            for question in asked {
                assert_eq!(question.matches('?').count(), 1, "{lang}: {question}");
                assert!(question.ends_with('?'), "{lang}: {question}");
            }
        }
    }

    #[test]
    fn a_question_is_known_by_its_text_or_its_variants_and_a_follow_up_is_not() {
        let bank = shipped();
        let general = bank
            .variant(Lang::Ru, Stage::FailureModes, 2, Variant::General)
            .unwrap();
        assert_eq!(bank.identify(Stage::FailureModes, general), Some(2));
        let opening = bank.get(Lang::En, Stage::Essence, 0).unwrap();
        assert_eq!(bank.identify(Stage::Essence, opening), Some(0));
        assert_eq!(bank.identify(Stage::Mastery, opening), None);
        let voice = bank.voice(Lang::En, Style::StageSpecific).unwrap();
        assert_eq!(bank.identify(Stage::Essence, &voice.probe), None);
        for lang in Lang::ALL {
            for style in [
                Style::ConversationalBalance,
                Style::StageSpecific,
                Style::ConversationManagement,
            ] {
                for stage in &Stage::ALL[1..] {
                    let Some(own) = bank.transition(lang, style, *stage) else {
                        assert_eq!(*stage, Stage::FailureModes, "{lang} {style} {stage}");
                        continue;
                    };
                    assert!(!own.contains('?'), "{lang} {style} {stage}");
                }
            }
        }
        let back = voice.read_back(Lang::En, "First I read the drawing.");
        assert!(bank.is_read_back(&back) && !bank.is_read_back(opening));
        assert!(back.contains("“First I read the drawing.”"), "{back}");
    }

    /// The lowercase words of a question, without the short ones that carry no topic.
    fn topic_words(q: &str) -> std::collections::BTreeSet<String> {
        q.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() > 3)
            .map(str::to_lowercase)
            .collect()
    }

    #[test]
    fn no_two_questions_of_a_stage_ask_the_same_thing() {
        let bank = shipped();
        let opening = |q: &str| -> String { q.to_lowercase().chars().take(40).collect() };
        for lang in Lang::ALL {
            for stage in Stage::ALL {
                let list = questions(&bank, lang, stage);
                for (i, a) in list.iter().enumerate() {
                    for b in &list[i + 1..] {
                        assert_ne!(opening(a), opening(b), "{lang} {stage}: {a} / {b}");
                        // Near-identical wording: half or more of their topic words shared.
                        let (wa, wb) = (topic_words(a), topic_words(b));
                        let shared = wa.intersection(&wb).count();
                        let all = wa.union(&wb).count();
                        assert!(shared * 2 < all, "{lang} {stage}: {a} / {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_offline_interview_opens_with_a_welcome_and_the_format() {
        let bank = shipped();
        let en = bank.get(Lang::En, Stage::Greeting, 0).unwrap();
        assert!(
            en.starts_with("Welcome") && en.contains("90–120 minutes"),
            "{en}"
        );
        assert!(en.contains("report"), "{en}");
        let ru = bank.get(Lang::Ru, Stage::Greeting, 0).unwrap();
        assert!(
            ru.starts_with("Здравствуйте") && ru.contains("полтора-два часа"),
            "{ru}"
        );
        assert!(ru.contains("отчёт"), "{ru}");
    }
}
