//! Which request shape a model gets, decided in one place: from the model's capabilities as
//! the Models API describes them when it does ([`RequestRules::with_capabilities`]), else from
//! its id.
//!
//! Claude's generations accept different requests: sampling parameters, forced tool choice,
//! assistant prefill and ways of turning thinking off each became refusals (400) on newer models,
//! effort appeared with generation 5, and thinking tokens count against `max_tokens` from then
//! on. [`rules`] reads the generation from the model id (`claude-sonnet-4-6`,
//! `claude-sonnet-5-5-20260928`, ...) and returns what that generation accepts; an id this build
//! does not know, newer or without a version, gets the newest generation's rules, which are the
//! strictest. [`RequestRules::shape`] turns the rules and the settings into the optional fields
//! of one request.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use super::wire::Capabilities;

/// A family of models that accept the same request shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Generation {
    /// Sonnet 4.5 / 4.6, Haiku 4.5, Opus 4.x (and anything older).
    Claude4,
    /// Sonnet 5.
    Claude5,
    /// Sonnet 5.5, Opus 5.5, Haiku 5.5, and any newer id.
    Claude5_5,
}

impl Generation {
    /// The newest generation this build knows: what an unknown id is treated as.
    pub const NEWEST: Generation = Generation::Claude5_5;

    /// A short name for logs.
    pub fn name(self) -> &'static str {
        match self {
            Generation::Claude4 => "4.x",
            Generation::Claude5 => "5",
            Generation::Claude5_5 => "5.5",
        }
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How much the model deliberates before answering (`output_config.effort`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effort {
    /// Little deliberation: fastest and cheapest.
    Low,
    /// Some deliberation.
    Medium,
    /// The API's default on most generation-5 models.
    High,
    /// More than high.
    #[serde(rename = "xhigh")]
    XHigh,
    /// As much as the model will spend.
    Max,
}

impl Effort {
    /// Every value, in increasing order.
    pub const ALL: [Effort; 5] = [
        Effort::Low,
        Effort::Medium,
        Effort::High,
        Effort::XHigh,
        Effort::Max,
    ];

    /// The value as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Effort::Low => "low",
            Effort::Medium => "medium",
            Effort::High => "high",
            Effort::XHigh => "xhigh",
            Effort::Max => "max",
        }
    }

    /// The default output budget of one turn (`CLAUDE_MAX_TOKENS` unset) at this effort.
    ///
    /// On models that think, `max_tokens` holds the thinking and the answer together. An
    /// interviewer's turn is at most about 1,200 tokens of JSON (a reply of a few sentences in
    /// Russian on the newer tokenizer, plus the tracking fields; usually 300-600), and at a low
    /// effort the thinking before it stays within a couple of thousand tokens. 4096 leaves room
    /// for both with margin, and each step up in effort doubles it, as the thinking grows
    /// roughly that fast. On models that do not think the budget is only a ceiling, and a
    /// generous one costs nothing: tokens are billed as produced.
    pub fn default_max_tokens(self) -> u32 {
        match self {
            Effort::Low => 4_096,
            Effort::Medium => 8_192,
            Effort::High => 16_384,
            Effort::XHigh => 32_768,
            Effort::Max => 64_000,
        }
    }
}

/// A set of efforts (the levels a model takes, or a thinking type combines with).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Efforts(u8);

impl Efforts {
    /// No effort at all: the field is refused.
    pub const NONE: Efforts = Efforts(0);
    /// Every effort.
    pub const ALL: Efforts = Efforts::of(&Effort::ALL);

    /// The set of `efforts`.
    pub const fn of(efforts: &[Effort]) -> Efforts {
        let mut bits = 0;
        let mut i = 0;
        while i < efforts.len() {
            bits |= 1 << efforts[i] as u8;
            i += 1;
        }
        Efforts(bits)
    }

    /// Whether `effort` is in the set.
    pub fn contains(self, effort: Effort) -> bool {
        self.0 & (1 << effort as u8) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The efforts in the set, in increasing order.
    pub fn iter(self) -> impl Iterator<Item = Effort> {
        Effort::ALL.into_iter().filter(move |e| self.contains(*e))
    }

    /// The efforts in both sets.
    pub fn and(self, other: Efforts) -> Efforts {
        Efforts(self.0 & other.0)
    }
}

impl FromIterator<Effort> for Efforts {
    fn from_iter<I: IntoIterator<Item = Effort>>(iter: I) -> Self {
        Efforts(iter.into_iter().fold(0, |bits, e| bits | 1 << e as u8))
    }
}

impl fmt::Display for Efforts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Effort::as_str).collect();
        f.write_str(&names.join(","))
    }
}

impl fmt::Display for Effort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Effort {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Effort::ALL
            .into_iter()
            .find(|e| e.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(())
    }
}

/// What a request is for: the shape can differ between a conversation's turns and the pieces
/// written in the background (the client's [`Pace`](super::Pace) picks it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A turn of a conversation: latency is what the person waiting feels.
    Turn,
    /// A piece written while nobody waits (in the interview: a stage summary, the report),
    /// where deliberation pays.
    Summary,
}

/// The `thinking` field of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ThinkingMode {
    /// No thinking before the answer, only between tool calls (Sonnet 5.5 and its generation).
    /// The product sends no tools, so a request with it answers without thinking.
    BetweenTools,
}

/// What one model accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestRules {
    /// The generation the rules come from.
    pub generation: Generation,
    /// `temperature`, `top_p` and `top_k` may be sent.
    pub sampling_parameters: bool,
    /// `tool_choice` may force a tool (`tool` or `any`).
    pub forced_tool_choice: bool,
    /// The last message may be the assistant's (prefill).
    pub assistant_prefill: bool,
    /// The values `output_config.effort` accepts; empty when the field is refused.
    pub efforts: Efforts,
    /// The effort the model uses when none is sent, if it takes one.
    pub default_effort: Option<Effort>,
    /// The model thinks before answering unless told otherwise.
    pub thinks_by_default: bool,
    /// `thinking: {"type": "disabled"}` is accepted.
    pub thinking_can_be_disabled: bool,
    /// `thinking: {"type": "between_tools"}` is accepted.
    pub between_tools: bool,
    /// The efforts `between_tools` may be combined with.
    pub between_tools_efforts: Efforts,
    /// Thinking tokens count against `max_tokens`.
    pub thinking_in_max_tokens: bool,
    /// Prefixes shorter than this many tokens are not cached.
    pub min_cacheable_tokens: u32,
}

const BETWEEN_TOOLS_EFFORTS: Efforts = Efforts::of(&[Effort::Low, Effort::Medium, Effort::High]);

/// The rules for `model`.
pub fn rules(model: &str) -> RequestRules {
    let id = ModelId::parse(model);
    let generation = id.generation();
    match generation {
        Generation::Claude4 => RequestRules {
            generation,
            sampling_parameters: true,
            forced_tool_choice: true,
            assistant_prefill: true,
            efforts: Efforts::NONE,
            default_effort: None,
            thinks_by_default: false,
            thinking_can_be_disabled: true,
            between_tools: false,
            between_tools_efforts: Efforts::NONE,
            thinking_in_max_tokens: false,
            min_cacheable_tokens: if id.family == Family::Haiku {
                4096
            } else {
                1024
            },
        },
        Generation::Claude5 => RequestRules {
            generation,
            sampling_parameters: false,
            forced_tool_choice: true,
            assistant_prefill: true,
            efforts: Efforts::ALL,
            default_effort: Some(Effort::High),
            thinks_by_default: true,
            thinking_can_be_disabled: true,
            between_tools: false,
            between_tools_efforts: Efforts::NONE,
            thinking_in_max_tokens: true,
            min_cacheable_tokens: 1024,
        },
        Generation::Claude5_5 => RequestRules {
            generation,
            sampling_parameters: false,
            forced_tool_choice: false,
            assistant_prefill: false,
            efforts: Efforts::ALL,
            default_effort: Some(if id.family == Family::Haiku {
                Effort::Medium
            } else {
                Effort::High
            }),
            thinks_by_default: true,
            thinking_can_be_disabled: false,
            between_tools: true,
            between_tools_efforts: BETWEEN_TOOLS_EFFORTS,
            thinking_in_max_tokens: true,
            // Stated for Sonnet 5.5; assumed for the rest of the generation (a guess on the low
            // side only costs a breakpoint that caches nothing).
            min_cacheable_tokens: 512,
        },
    }
}

/// The optional fields of one request, as the rules and the settings decide them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// `temperature`, when the operator set one and the model accepts it.
    pub temperature: Option<f32>,
    /// `output_config.effort`, when the model takes it.
    pub effort: Option<Effort>,
    /// `thinking`, when the request changes the model's default.
    pub thinking: Option<ThinkingMode>,
}

impl RequestRules {
    /// Whether `output_config.effort` may be sent.
    pub fn takes_effort(&self) -> bool {
        !self.efforts.is_empty()
    }

    /// The shape of a request for `purpose` at `effort`, with the operator's `temperature`.
    ///
    /// - Sampling parameters are sent only to models that accept them.
    /// - Effort is sent wherever the model takes it.
    /// - An interviewer turn at a low effort on a model with `between_tools` gets it: the
    ///   product sends no tools, so the model answers without thinking, which is what a low
    ///   effort asks for and what keeps the expert's wait short. At medium and high effort the
    ///   operator asked for deliberation, so the model's adaptive thinking stays on. The
    ///   report's summary always keeps its thinking: it is one request over the whole
    ///   interview, where deliberation pays and latency does not matter.
    pub fn shape(&self, purpose: Purpose, effort: Effort, temperature: Option<f32>) -> Shape {
        let between_tools = purpose == Purpose::Turn
            && effort == Effort::Low
            && self.between_tools
            && self.between_tools_efforts.contains(effort);
        Shape {
            temperature: temperature.filter(|_| self.sampling_parameters),
            effort: self.efforts.contains(effort).then_some(effort),
            thinking: between_tools.then_some(ThinkingMode::BetweenTools),
        }
    }

    /// These rules with what the Models API states about the model in place of the table's:
    /// each capability stated replaces the table's guess for it, and one left out keeps it.
    ///
    /// - `effort`: unsupported empties the levels (the field is never sent); the listed levels
    ///   and the default replace the table's.
    /// - `thinking`: its default says whether the model thinks unless told otherwise; the types
    ///   say whether `disabled` and `between_tools` may be sent (and at which efforts).
    /// - `sampling_parameters`: whether a temperature may be sent.
    ///
    /// What capabilities do not describe (forced tool choice, prefill, the cache minimum)
    /// stays the table's.
    pub fn with_capabilities(mut self, capabilities: &Capabilities) -> RequestRules {
        if let Some(effort) = &capabilities.effort {
            if effort.supported == Some(false) {
                self.efforts = Efforts::NONE;
            } else if let Some(levels) = effort.supported_levels() {
                self.efforts = levels.into_iter().collect();
            }
            if let Some(default) = effort.default_level() {
                self.default_effort = Some(default);
            }
            if self.efforts.is_empty() {
                self.default_effort = None;
            }
        }
        if let Some(thinking) = &capabilities.thinking {
            if let Some(default) = thinking.default.as_deref() {
                self.thinks_by_default = default != "disabled";
            }
            if let Some(disabled) = thinking.takes("disabled") {
                self.thinking_can_be_disabled = disabled;
            }
            if let Some(between_tools) = thinking.takes("between_tools") {
                self.between_tools = between_tools;
                if let Some(efforts) = thinking.efforts_of("between_tools") {
                    self.between_tools_efforts = efforts.into_iter().collect();
                } else if !between_tools {
                    self.between_tools_efforts = Efforts::NONE;
                } else if self.between_tools_efforts.is_empty() {
                    self.between_tools_efforts = BETWEEN_TOOLS_EFFORTS;
                }
            }
            if thinking.supported == Some(false) {
                self.thinks_by_default = false;
                self.between_tools = false;
            }
            // A model that thinks by default spends its thinking out of `max_tokens`.
            self.thinking_in_max_tokens |= self.thinks_by_default;
        }
        if let Some(sampling) = capabilities.sampling_parameters {
            self.sampling_parameters = sampling.supported;
        }
        self
    }

    /// Whether a request of this shape may spend part of `max_tokens` on thinking.
    pub fn thinks(&self, shape: &Shape) -> bool {
        self.thinks_by_default && self.thinking_in_max_tokens && shape.thinking.is_none()
    }
}

/// The model line an id names, where it matters to the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Haiku,
    Other,
}

/// What the rules read from a model id: its family and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ModelId {
    family: Family,
    /// `(major, minor)`; `None` when the id carries no version (an alias or a new naming).
    version: Option<(u32, u32)>,
}

impl ModelId {
    /// Reads ids such as `claude-sonnet-4-6`, `claude-haiku-5-5-20261015`, `claude-sonnet-5`
    /// and the older `claude-3-5-haiku-20241022`. Eight-digit parts are dates, not versions.
    fn parse(model: &str) -> ModelId {
        let lower = model.trim().to_ascii_lowercase();
        let parts: Vec<&str> = lower.split(['-', '.', '_']).collect();
        let family = if parts.contains(&"haiku") {
            Family::Haiku
        } else {
            Family::Other
        };
        let numbers: Vec<u32> = parts
            .iter()
            .filter(|p| !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()))
            .filter_map(|p| p.parse().ok())
            .collect();
        let version = match numbers.as_slice() {
            [] => None,
            [major] => Some((*major, 0)),
            [major, minor, ..] => Some((*major, *minor)),
        };
        ModelId { family, version }
    }

    fn generation(&self) -> Generation {
        match self.version {
            None => Generation::NEWEST,
            Some((major, _)) if major < 5 => Generation::Claude4,
            Some((5, minor)) if minor < 5 => Generation::Claude5,
            Some(_) => Generation::Claude5_5,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_4_models_take_sampling_tools_and_prefill_but_no_effort() {
        for id in [
            "claude-sonnet-4-6",
            "claude-sonnet-4-5-20250929",
            "claude-haiku-4-5",
            "claude-opus-4-1",
        ] {
            let r = rules(id);
            assert_eq!(r.generation, Generation::Claude4, "{id}");
            assert!(r.sampling_parameters && r.forced_tool_choice && r.assistant_prefill);
            assert!(!r.takes_effort() && !r.between_tools && !r.thinking_in_max_tokens);
            assert!(!r.thinks_by_default);
        }
        assert_eq!(rules("claude-sonnet-4-6").min_cacheable_tokens, 1024);
        assert_eq!(rules("claude-haiku-4-5").min_cacheable_tokens, 4096);
        let shape = rules("claude-sonnet-4-6").shape(Purpose::Turn, Effort::Low, Some(0.7));
        assert_eq!(shape.temperature, Some(0.7));
        assert_eq!((shape.effort, shape.thinking), (None, None));
    }

    #[test]
    fn generation_5_refuses_sampling_takes_effort_and_thinks_within_max_tokens() {
        for id in ["claude-sonnet-5", "claude-sonnet-5-20260630"] {
            let r = rules(id);
            assert_eq!(r.generation, Generation::Claude5, "{id}");
            assert!(!r.sampling_parameters);
            assert!(r.forced_tool_choice && r.assistant_prefill && r.thinking_can_be_disabled);
            assert_eq!(r.efforts, Efforts::ALL);
            assert_eq!(r.default_effort, Some(Effort::High));
            assert!(r.thinks_by_default && r.thinking_in_max_tokens && !r.between_tools);
            assert_eq!(r.min_cacheable_tokens, 1024);
        }
        let r = rules("claude-sonnet-5");
        let shape = r.shape(Purpose::Turn, Effort::Low, Some(0.7));
        assert_eq!(shape.temperature, None, "never sent, even when set");
        assert_eq!(shape.effort, Some(Effort::Low));
        assert_eq!(shape.thinking, None, "no between_tools before 5.5");
        assert!(r.thinks(&shape));
    }

    #[test]
    fn generation_5_5_refuses_forced_tools_prefill_and_disabling_thinking() {
        for id in [
            "claude-sonnet-5-5",
            "claude-sonnet-5-5-20260928",
            "claude-opus-5-5",
            "claude-haiku-5-5",
        ] {
            let r = rules(id);
            assert_eq!(r.generation, Generation::Claude5_5, "{id}");
            assert!(!r.sampling_parameters && !r.forced_tool_choice && !r.assistant_prefill);
            assert!(!r.thinking_can_be_disabled && r.between_tools);
            assert_eq!(r.between_tools_efforts, BETWEEN_TOOLS_EFFORTS);
            assert!(r.thinking_in_max_tokens);
            assert_eq!(r.min_cacheable_tokens, 512);
        }
        assert_eq!(
            rules("claude-haiku-5-5").default_effort,
            Some(Effort::Medium)
        );
        assert_eq!(
            rules("claude-sonnet-5-5").default_effort,
            Some(Effort::High)
        );
    }

    #[test]
    fn on_5_5_a_low_effort_turn_answers_without_thinking_and_the_summary_keeps_it() {
        let r = rules("claude-sonnet-5-5");
        let turn = r.shape(Purpose::Turn, Effort::Low, None);
        assert_eq!(turn.thinking, Some(ThinkingMode::BetweenTools));
        assert_eq!(turn.effort, Some(Effort::Low));
        assert!(!r.thinks(&turn));
        let deliberate = r.shape(Purpose::Turn, Effort::Medium, None);
        assert_eq!(deliberate.thinking, None);
        assert!(r.thinks(&deliberate));
        let summary = r.shape(Purpose::Summary, Effort::Low, None);
        assert_eq!(summary.thinking, None);
        for effort in [Effort::XHigh, Effort::Max] {
            assert_eq!(r.shape(Purpose::Turn, effort, None).thinking, None);
        }
    }

    #[test]
    fn unknown_newer_ids_get_the_newest_rules() {
        for id in [
            "claude-sonnet-6",
            "claude-foo-7",
            "claude-opus-6-1-20280101",
            "claude-sonnet-latest",
            "some-proxy-alias",
        ] {
            assert_eq!(rules(id).generation, Generation::NEWEST, "{id}");
        }
        assert_eq!(rules("claude-sonnet-6"), rules("claude-sonnet-5-5"));
    }

    #[test]
    fn older_ids_count_as_generation_4() {
        assert_eq!(
            rules("claude-3-5-haiku-20241022").generation,
            Generation::Claude4
        );
        assert_eq!(
            rules("claude-3-5-haiku-20241022").min_cacheable_tokens,
            4096
        );
    }

    fn capabilities(json: serde_json::Value) -> Capabilities {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn stated_capabilities_replace_the_tables_guesses_and_silence_keeps_them() {
        let table = rules("claude-sonnet-5-5");
        assert_eq!(table.with_capabilities(&Capabilities::default()), table);
        let no_effort = table.with_capabilities(&capabilities(serde_json::json!({
            "effort": {"supported": false},
        })));
        assert!(!no_effort.takes_effort() && no_effort.default_effort.is_none());
        assert_eq!(
            no_effort.shape(Purpose::Turn, Effort::Low, None).effort,
            None
        );
        let some = table.with_capabilities(&capabilities(serde_json::json!({
            "effort": {"supported": true, "default": "medium", "low": {"supported": false},
                       "medium": {"supported": true}, "high": {"supported": true},
                       "ultra": {"supported": true}},
            "thinking": {"supported": true, "default": "adaptive",
                         "types": {"adaptive": {"supported": true},
                                   "between_tools": {"supported": false}}},
            "sampling_parameters": {"supported": true},
            "citations": {"supported": true}
        })));
        assert_eq!(some.efforts, Efforts::of(&[Effort::Medium, Effort::High]));
        assert_eq!(some.default_effort, Some(Effort::Medium));
        assert!(!some.between_tools && some.between_tools_efforts.is_empty());
        assert!(some.sampling_parameters);
        let turn = some.shape(Purpose::Turn, Effort::Low, Some(0.4));
        assert_eq!(
            (turn.effort, turn.thinking),
            (None, None),
            "low is not taken"
        );
        assert_eq!(turn.temperature, Some(0.4));
        assert_eq!(
            some.min_cacheable_tokens, table.min_cacheable_tokens,
            "what capabilities do not describe stays the table's"
        );
    }

    #[test]
    fn an_id_the_table_does_not_know_gets_what_its_capabilities_say() {
        let table = rules("claude-fable-5-2");
        let described = table.with_capabilities(&capabilities(serde_json::json!({
            "effort": {"supported": true, "low": {"supported": true}},
            "thinking": {"default": "disabled",
                         "types": {"disabled": {"supported": true},
                                   "between_tools": {"supported": true, "efforts": ["low"]}}}
        })));
        assert_eq!(described.efforts, Efforts::of(&[Effort::Low]));
        assert!(!described.thinks_by_default && described.thinking_can_be_disabled);
        assert_eq!(described.between_tools_efforts, Efforts::of(&[Effort::Low]));
        let shape = described.shape(Purpose::Turn, Effort::Low, None);
        assert_eq!(shape.thinking, Some(ThinkingMode::BetweenTools));
        assert!(!described.thinks(&shape));
        // Malformed parts are ignored, not fatal.
        let odd = capabilities(serde_json::json!({"effort": "yes", "thinking": {"types": 3}}));
        assert_eq!(odd.effort, None);
        assert_eq!(table.with_capabilities(&odd).efforts, table.efforts);
    }

    #[test]
    fn effort_parses_case_insensitively_and_its_default_budget_grows() {
        assert_eq!("XHigh".parse::<Effort>(), Ok(Effort::XHigh));
        assert_eq!(" low ".parse::<Effort>(), Ok(Effort::Low));
        assert!("extreme".parse::<Effort>().is_err());
        for pair in Effort::ALL.windows(2) {
            assert!(pair[0].default_max_tokens() < pair[1].default_max_tokens());
        }
        assert_eq!(serde_json::to_value(Effort::XHigh).unwrap(), "xhigh");
        assert_eq!(
            serde_json::to_value(ThinkingMode::BetweenTools).unwrap(),
            serde_json::json!({"type": "between_tools"})
        );
    }
}
