//! The prompts of the five interviewer personalities ([`Style`]) and of the summaries and the
//! report: compiled into the binary, and replaceable file by file from `PROMPTS_DIR` at start-up.

use std::path::Path;

use crate::model::{Lang, Style};

/// The file holding the stage plan and turn contract shared by every personality.
pub const PLAN_FILE: &str = "interview_plan.md";

/// The file holding the instructions for the knowledge report.
pub const REPORT_FILE: &str = "report_writer.md";

/// The file holding the instructions for a stage's summary.
pub const STAGE_SUMMARY_FILE: &str = "stage_summary.md";

/// The file holding the instructions for a study's synthesis.
pub const SYNTHESIS_FILE: &str = "synthesis_writer.md";

/// The prompts compiled into the binary, by file name.
const EMBEDDED: [(&str, &str); 9] = [
    (PLAN_FILE, include_str!("../../prompts/interview_plan.md")),
    (REPORT_FILE, include_str!("../../prompts/report_writer.md")),
    (
        STAGE_SUMMARY_FILE,
        include_str!("../../prompts/stage_summary.md"),
    ),
    (
        SYNTHESIS_FILE,
        include_str!("../../prompts/synthesis_writer.md"),
    ),
    (
        "master_interviewer.md",
        include_str!("../../prompts/master_interviewer.md"),
    ),
    (
        "telegram_optimized.md",
        include_str!("../../prompts/telegram_optimized.md"),
    ),
    (
        "conversational_balance.md",
        include_str!("../../prompts/conversational_balance.md"),
    ),
    (
        "stage_specific.md",
        include_str!("../../prompts/stage_specific.md"),
    ),
    (
        "conversation_management.md",
        include_str!("../../prompts/conversation_management.md"),
    ),
];

/// Why the prompts could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// The override directory does not exist or is not a directory.
    #[error("{path} is not a directory")]
    NotADirectory {
        /// The directory.
        path: String,
    },
    /// An override file exists but cannot be read.
    #[error("prompt {path}: cannot be read ({source})")]
    Unreadable {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A prompt file holds nothing but whitespace.
    #[error("prompt {path}: the file is empty")]
    Empty {
        /// The file.
        path: String,
    },
}

/// The prompt texts: one per personality plus the shared plan, the stage summary writer's and
/// the report writer's.
#[derive(Debug, Clone)]
pub struct Prompts {
    /// The stage plan and turn contract.
    plan: String,
    /// The report writer's instructions.
    report: String,
    /// The stage summary writer's instructions.
    stage_summary: String,
    /// The study synthesis writer's instructions.
    synthesis: String,
    /// Each personality's prompt.
    styles: Vec<(Style, String)>,
    /// The files that came from an override directory.
    overridden: Vec<String>,
}

impl Prompts {
    /// The prompts compiled into the binary.
    pub fn embedded() -> Prompts {
        Prompts::load(None).expect("the embedded prompts are not empty")
    }

    /// The embedded prompts, each replaced by the file of the same name in `overrides` when
    /// that directory has one. A missing file keeps the embedded prompt; an empty or
    /// unreadable one is an error naming it, as is an override directory that does not exist.
    pub fn load(overrides: Option<&Path>) -> Result<Prompts, PromptError> {
        if let Some(dir) = overrides
            && !dir.is_dir()
        {
            return Err(PromptError::NotADirectory {
                path: dir.display().to_string(),
            });
        }
        let mut overridden = Vec::new();
        let mut read = |name: &str| -> Result<String, PromptError> {
            let embedded = EMBEDDED
                .iter()
                .find(|(file, _)| *file == name)
                .map(|(_, text)| *text)
                .expect("every prompt file is embedded");
            let (text, shown) = match overrides.map(|dir| dir.join(name)) {
                Some(path) if path.exists() => {
                    let shown = path.display().to_string();
                    let text = std::fs::read_to_string(&path).map_err(|source| {
                        PromptError::Unreadable {
                            path: shown.clone(),
                            source,
                        }
                    })?;
                    overridden.push(name.to_owned());
                    (text, shown)
                }
                _ => (embedded.to_owned(), format!("(built in) {name}")),
            };
            if text.trim().is_empty() {
                return Err(PromptError::Empty { path: shown });
            }
            Ok(text.trim().to_owned())
        };
        let plan = read(PLAN_FILE)?;
        let report = read(REPORT_FILE)?;
        let stage_summary = read(STAGE_SUMMARY_FILE)?;
        let synthesis = read(SYNTHESIS_FILE)?;
        let styles = Style::ALL
            .into_iter()
            .map(|style| Ok((style, read(&format!("{}.md", style.id()))?)))
            .collect::<Result<_, PromptError>>()?;
        Ok(Prompts {
            plan,
            report,
            stage_summary,
            synthesis,
            styles,
            overridden,
        })
    }

    /// The prompt files taken from the override directory, by name.
    pub fn overridden(&self) -> &[String] {
        &self.overridden
    }

    /// The system prompt of an interview: the personality, the shared plan, then the language.
    /// It is the same for every turn of an interview, which lets Claude cache it.
    pub fn system_prompt(&self, style: Style, lang: Lang) -> String {
        let personality = &self
            .styles
            .iter()
            .find(|(s, _)| *s == style)
            .expect("every style has a prompt")
            .1;
        format!(
            "{personality}\n\n{plan}\n\n# Session language\n\nThis interview is held in {name}. \
             Write every `response` and every key insight in {name}.",
            plan = self.plan,
            name = lang.english_name(),
        )
    }

    /// The system prompt of the knowledge report, in the interview's language.
    pub fn report_prompt(&self, lang: Lang) -> String {
        format!(
            "{}\n\nThe report language is {}: write every text of the report in it.",
            self.report,
            lang.english_name()
        )
    }

    /// The system prompt of a study's synthesis, in the study's language.
    pub fn synthesis_prompt(&self, lang: Lang) -> String {
        format!(
            "{}\n\nThe synthesis language is {}: write every text of the synthesis in it.",
            self.synthesis,
            lang.english_name()
        )
    }

    /// The system prompt of a stage's summary, in the interview's language.
    pub fn stage_summary_prompt(&self, lang: Lang) -> String {
        format!(
            "{}\n\nThe session language is {}: write `summary` and every element in it; quotes \
             stay exactly as the expert said them.",
            self.stage_summary,
            lang.english_name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_prompt_joins_personality_plan_and_language() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PLAN_FILE), "the plan").unwrap();
        std::fs::write(dir.path().join("stage_specific.md"), "be stage_specific").unwrap();
        let prompts = Prompts::load(Some(dir.path())).unwrap();
        let text = prompts.system_prompt(Style::StageSpecific, Lang::Ru);
        assert!(text.starts_with("be stage_specific"));
        assert!(text.contains("the plan"));
        assert!(text.contains("held in Russian"));
        assert_eq!(prompts.overridden(), [PLAN_FILE, "stage_specific.md"]);
    }

    #[test]
    fn a_file_missing_from_the_override_directory_keeps_the_built_in_prompt() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("telegram_optimized.md"), "be brief").unwrap();
        let prompts = Prompts::load(Some(dir.path())).unwrap();
        let embedded = Prompts::embedded();
        assert!(
            prompts
                .system_prompt(Style::TelegramOptimized, Lang::En)
                .starts_with("be brief")
        );
        assert_eq!(
            prompts.system_prompt(Style::MasterInterviewer, Lang::En),
            embedded.system_prompt(Style::MasterInterviewer, Lang::En)
        );
        assert_eq!(
            prompts.report_prompt(Lang::En),
            embedded.report_prompt(Lang::En)
        );
    }

    #[test]
    fn an_empty_override_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PLAN_FILE), " \n\t").unwrap();
        let err = Prompts::load(Some(dir.path())).unwrap_err().to_string();
        assert!(
            err.contains("interview_plan.md") && err.contains("empty"),
            "{err}"
        );
    }

    #[test]
    fn an_override_directory_that_does_not_exist_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = Prompts::load(Some(&missing)).unwrap_err().to_string();
        assert!(
            err.contains("nope") && err.contains("not a directory"),
            "{err}"
        );
    }

    #[test]
    fn the_built_in_prompts_carry_the_turn_contract() {
        let prompts = Prompts::embedded();
        assert!(prompts.overridden().is_empty());
        for style in Style::ALL {
            let text = prompts.system_prompt(style, Lang::En);
            assert!(
                text.to_lowercase().contains("one json object") && !text.contains("record_turn"),
                "{style} prompt lacks the structured turn contract"
            );
        }
        assert!(prompts.report_prompt(Lang::Ru).contains("JSON"));
        assert!(
            prompts
                .report_prompt(Lang::Ru)
                .contains("report language is Russian")
        );
        assert!(prompts.stage_summary_prompt(Lang::Ru).contains("JSON"));
    }

    const TURN_FIELDS: [&str; 11] = [
        "`interview_stage`",
        "`response`",
        "`metadata.question_depth`",
        "`metadata.completeness`",
        "`metadata.engagement_level`",
        "`metadata.estimated_time_remaining`",
        "`internal_tracking.key_insights`",
        "`internal_tracking.examples_collected`",
        "`internal_tracking.follow_up_needed`",
        "`internal_tracking.stage_transition_ready`",
        "`internal_tracking.conversation_quality`",
    ];

    #[test]
    fn every_shipped_system_prompt_names_every_stage_and_every_turn_field() {
        let prompts = Prompts::embedded();
        for style in Style::ALL {
            let text = prompts.system_prompt(style, Lang::Ru);
            for stage in crate::interview::Stage::ALL {
                let id = format!("`{}`", stage.id());
                assert!(text.contains(&id), "{style} prompt lacks the stage {id}");
            }
            for field in TURN_FIELDS {
                assert!(
                    text.contains(field),
                    "{style} prompt lacks the field {field}"
                );
            }
            assert!(
                text.contains("[Interview engine]"),
                "{style} prompt lacks the engine notes"
            );
        }
    }

    #[test]
    fn the_shipped_prompts_ask_for_a_json_reply_not_a_tool_call() {
        let prompts = Prompts::embedded();
        let mut texts: Vec<String> = Style::ALL
            .into_iter()
            .map(|style| prompts.system_prompt(style, Lang::En))
            .collect();
        texts.push(prompts.report_prompt(Lang::En));
        texts.push(prompts.stage_summary_prompt(Lang::En));
        for text in texts {
            let lower = text.to_lowercase();
            assert!(!lower.contains("record_turn"), "{text}");
            assert!(!lower.contains("tool call"), "{text}");
        }
        assert!(prompts.plan.contains("ONE JSON object"));
    }

    #[test]
    fn the_personalities_leave_the_methods_to_the_plan() {
        let prompts = Prompts::embedded();
        // The plan teaches the elicitation methods once, for every personality.
        for method in [
            "task diagram",
            "three passes",
            "teach-back",
            "knowledge-audit",
        ] {
            assert!(prompts.plan.contains(method), "the plan lacks {method}");
        }
        for (style, text) in &prompts.styles {
            for section in ["## Voice", "## Message length", "## Pace"] {
                assert!(text.contains(section), "{style} lacks {section}");
            }
            assert!(
                !text.contains("## Technique"),
                "{style} teaches its own technique"
            );
        }
    }
}
