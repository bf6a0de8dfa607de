//! The stage plan: nine stages in a fixed order, each with a goal and a time budget, and the
//! rule for moving between them.

use std::{fmt, time::Duration};

use serde::{Deserialize, Serialize};

/// One stage of the interview, in plan order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Welcome, format, rapport.
    Greeting,
    /// Who the expert is.
    Profiling,
    /// The core of the expertise.
    Essence,
    /// How the work gets done.
    Operations,
    /// The map of the expert's knowledge.
    ExpertiseMap,
    /// What goes wrong and how it is caught.
    FailureModes,
    /// What separates the best from the good.
    Mastery,
    /// How the expertise was learned and could be learned faster.
    GrowthPath,
    /// Last words.
    WrapUp,
}

/// What the engine decides about the stage the model proposed for a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The interview stays in the current stage.
    Stay,
    /// The interview moves on to this stage, the next one in the plan.
    Advance(Stage),
    /// The proposal skipped ahead or went back; the interview stays where it is.
    Refused {
        /// The stage the model asked for.
        proposed: Stage,
    },
}

impl Stage {
    /// Every stage, in plan order.
    pub const ALL: [Stage; 9] = [
        Stage::Greeting,
        Stage::Profiling,
        Stage::Essence,
        Stage::Operations,
        Stage::ExpertiseMap,
        Stage::FailureModes,
        Stage::Mastery,
        Stage::GrowthPath,
        Stage::WrapUp,
    ];

    /// The number of stages.
    pub const COUNT: usize = Stage::ALL.len();

    /// The stage's id, as the model and the files spell it.
    pub fn id(self) -> &'static str {
        match self {
            Stage::Greeting => "greeting",
            Stage::Profiling => "profiling",
            Stage::Essence => "essence",
            Stage::Operations => "operations",
            Stage::ExpertiseMap => "expertise_map",
            Stage::FailureModes => "failure_modes",
            Stage::Mastery => "mastery",
            Stage::GrowthPath => "growth_path",
            Stage::WrapUp => "wrap_up",
        }
    }

    /// Parses a stage id.
    pub fn from_id(id: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.id() == id)
    }

    /// The position in the plan, from 0.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The position in the plan, from 1, as users see it.
    pub fn number(self) -> usize {
        self.index() + 1
    }

    /// The stage after this one, if any.
    pub fn next(self) -> Option<Stage> {
        Stage::ALL.get(self.index() + 1).copied()
    }

    /// What the stage is for, in the words the engine uses with the model.
    pub fn goal(self) -> &'static str {
        match self {
            Stage::Greeting => "welcome the expert, explain the format, learn how to address them",
            Stage::Profiling => "role, domain, years of practice, context, what they are known for",
            Stage::Essence => "the core of the expertise: what they do that others don't, and why",
            Stage::Operations => "how the work is actually done: workflows, tools, decisions",
            Stage::ExpertiseMap => {
                "the areas of their knowledge, basic to advanced, and how they connect"
            }
            Stage::FailureModes => {
                "what goes wrong, early warning signs, recoveries, novice mistakes"
            }
            Stage::Mastery => {
                "what separates the best from the good; judgement and intuition made explicit"
            }
            Stage::GrowthPath => "how they learned, and how someone could learn it faster",
            Stage::WrapUp => "anything missed, the one thing to pass on, thanks",
        }
    }

    /// The planned time for the stage (the upper bound where the plan gives a range).
    pub fn budget(self) -> Duration {
        let minutes = match self {
            Stage::Greeting => 5,
            Stage::Profiling => 10,
            Stage::Essence => 15,
            Stage::Operations => 20,
            Stage::ExpertiseMap => 20,
            Stage::FailureModes => 20,
            Stage::Mastery => 15,
            Stage::GrowthPath => 15,
            Stage::WrapUp => 5,
        };
        Duration::from_secs(minutes * 60)
    }

    /// The planned time of the whole interview.
    pub fn total_budget() -> Duration {
        Stage::ALL.into_iter().map(Stage::budget).sum()
    }

    /// Decides on the stage the model proposed while the interview is in `self`: staying and
    /// moving to the next stage are accepted; skipping ahead and going back are not.
    pub fn transition_to(self, proposed: Stage) -> Transition {
        if proposed == self {
            Transition::Stay
        } else if Some(proposed) == self.next() {
            Transition::Advance(proposed)
        } else {
            Transition::Refused { proposed }
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_run_in_plan_order_and_end_at_wrap_up() {
        let mut walked = vec![Stage::Greeting];
        while let Some(next) = walked.last().unwrap().next() {
            walked.push(next);
        }
        assert_eq!(walked, Stage::ALL);
        assert_eq!(Stage::WrapUp.next(), None);
        assert_eq!(Stage::ExpertiseMap.number(), 5);
    }

    #[test]
    fn ids_round_trip_and_match_serde() {
        for stage in Stage::ALL {
            assert_eq!(Stage::from_id(stage.id()), Some(stage));
            assert_eq!(serde_json::to_value(stage).unwrap(), stage.id());
        }
        assert_eq!(Stage::from_id("expertise map"), None);
    }

    #[test]
    fn only_staying_or_moving_to_the_next_stage_is_accepted() {
        assert_eq!(
            Stage::Essence.transition_to(Stage::Essence),
            Transition::Stay
        );
        assert_eq!(
            Stage::Essence.transition_to(Stage::Operations),
            Transition::Advance(Stage::Operations)
        );
        assert_eq!(
            Stage::Essence.transition_to(Stage::Mastery),
            Transition::Refused {
                proposed: Stage::Mastery
            }
        );
        assert_eq!(
            Stage::Essence.transition_to(Stage::Profiling),
            Transition::Refused {
                proposed: Stage::Profiling
            }
        );
    }

    #[test]
    fn the_plan_adds_up_to_about_two_hours() {
        assert_eq!(Stage::total_budget(), Duration::from_secs(125 * 60));
    }
}
