//! The offline question bank: several curated questions per stage and language, used when
//! Claude is unavailable or not configured. The questions live in
//! `locales/<lang>/questions.ftl` as `question-<stage>-<n>`.

use std::collections::HashMap;

use super::Stage;
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
}

impl QuestionBank {
    /// Reads the bank from the catalog; every stage needs at least one question per language.
    pub fn from_catalog(catalog: &Catalog) -> Result<Self, BankError> {
        let mut questions = HashMap::new();
        for lang in Lang::ALL {
            for stage in Stage::ALL {
                let list: Vec<String> = (1..)
                    .map_while(|n| catalog.lookup(lang, &format!("question-{}-{n}", stage.id())))
                    .collect();
                if list.is_empty() {
                    return Err(BankError { stage, lang });
                }
                questions.insert((lang, stage), list);
            }
        }
        Ok(QuestionBank { questions })
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

    #[test]
    fn every_stage_has_several_questions_in_both_languages() {
        let bank = QuestionBank::from_catalog(&Catalog::load().unwrap()).unwrap();
        for stage in Stage::ALL {
            let en = bank.len(Lang::En, stage);
            assert!(en >= 2, "{stage} has {en} questions");
            assert_eq!(en, bank.len(Lang::Ru, stage), "{stage}");
        }
        assert!(
            bank.get(Lang::Ru, Stage::Greeting, 0)
                .unwrap()
                .chars()
                .any(|c| ('а'..='я').contains(&c))
        );
    }
}
