//! What the model sees of an interview: a bounded window of recent messages, a summary that
//! stands for everything before it, and the engine's note for the turn.
//!
//! The window slides in chunks: when it grows past its bounds, the oldest half of it is folded
//! into the summary at once. Between folds the request only grows at its end, so its prefix
//! (output format, system prompt, summary, older messages) stays byte-identical and the prompt
//! cache keeps hitting. Cache breakpoints sit on the system prompt and on the last transcript
//! block; the engine's note comes after the second one and changes freely.
//!
//! A fold changes the summary, so everything after the system prompt is written to the cache
//! again: folding half the window at a time makes folds rare (every 25 turns with the default
//! window of 100 messages) and each one rewrites at most half a window, which costs less over
//! an interview than folding small chunks often, and the average request is smaller too.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::{Role, Session, Stage, turn::TurnRequest};
use crate::llm::wire::{ChatMessage, ChatRole, TextBlock};

/// The first message of every request while nothing is folded yet.
pub const OPENING_HEAD: &str =
    "[Interview engine] The interview has begun. The conversation so far follows.";

/// The default bound on the window's size in bytes (about 60-80k tokens).
pub const DEFAULT_MAX_BYTES: usize = 240_000;

/// Bounds on the part of the transcript sent verbatim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContextLimits {
    /// The most messages in the window (`MAX_CONVERSATION_HISTORY`).
    pub max_messages: usize,
    /// The most bytes of message text in the window.
    pub max_bytes: usize,
}

impl ContextLimits {
    /// Limits of `max_messages` messages and the default byte bound.
    pub fn new(max_messages: usize) -> Self {
        ContextLimits {
            max_messages,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }

    /// How many messages are folded at once: half the window, at least 2.
    pub fn chunk(&self) -> usize {
        (self.max_messages / 2).max(2)
    }
}

/// Something the engine asks of the model this turn, beyond the usual.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directive {
    /// The interview starts now.
    Opening,
    /// The expert asked to finish early; the interview has moved to wrap_up.
    FinishEarly,
}

/// Folds the oldest messages into the summary while the window exceeds its bounds.
/// Returns whether anything was folded. The window always starts at an interviewer message
/// and always keeps the last message.
pub fn fold(session: &mut Session, limits: &ContextLimits) -> bool {
    let transcript = &session.transcript;
    let len = transcript.len();
    let bytes_from = |from: usize| {
        transcript[from..]
            .iter()
            .map(|e| e.text.len())
            .sum::<usize>()
    };
    let mut folded = session.context.folded.min(len);
    let start = folded;
    while len - folded > limits.max_messages || bytes_from(folded) > limits.max_bytes {
        let mut next = (folded + limits.chunk()).min(len.saturating_sub(1));
        while next < len - 1 && transcript[next].role != Role::Interviewer {
            next += 1;
        }
        if next <= folded {
            break;
        }
        folded = next;
    }
    if folded == start {
        return false;
    }
    session.context.folded = folded;
    session.context.summary = summarize(session);
    true
}

/// Caps that keep the summary compact however long the interview runs.
const SUMMARY_INSIGHTS: usize = 40;
const SUMMARY_QUESTIONS: usize = 30;
const SUMMARY_ANSWERS: usize = 30;
const INSIGHT_CHARS: usize = 300;
const QUESTION_CHARS: usize = 180;
const ANSWER_CHARS: usize = 240;

/// Caps on each finished stage's findings in the summary.
const FINDINGS_PER_STAGE: usize = 5;
const FINDING_CHARS: usize = 180;

/// The summary standing for the folded part of the transcript: stages covered, what the
/// finished stages found (their summaries), the insights of the others, the questions already
/// asked and the gist of the expert's answers.
///
/// It is rebuilt when the window slides, and when a stage whose messages are already folded
/// gets its summary; between those moments it stays byte-identical, so the cached prefix
/// holds.
pub fn summarize(session: &Session) -> String {
    // The count comes from the file: a hand-edited one may point past the transcript's end.
    let folded = &session.transcript[..session.context.folded.min(session.transcript.len())];
    let mut out = String::from(
        "[Interview engine] Summary of the earlier part of this interview. Those messages are \
         no longer shown; build on them and do not repeat their questions.\n",
    );
    out.push_str("\nStages so far (completeness):");
    for stage in Stage::ALL.into_iter().take(session.stage.index() + 1) {
        let _ = write!(out, " {stage} {};", session.record(stage).completeness);
    }
    if !session.summaries.is_empty() {
        out.push_str("\n\nWhat the finished stages found:\n");
        out.push_str(&super::knowledge::digest(
            session,
            FINDINGS_PER_STAGE,
            FINDING_CHARS,
        ));
    }
    // A summarised stage's findings stand for its insights.
    let insights: Vec<(Stage, &String)> = session
        .stages
        .iter()
        .filter(|(stage, _)| !session.summaries.contains_key(stage))
        .flat_map(|(stage, record)| record.insights.iter().map(move |i| (*stage, i)))
        .collect();
    if !insights.is_empty() {
        out.push_str("\n\nKey insights so far:\n");
        for (stage, insight) in tail(&insights, SUMMARY_INSIGHTS) {
            let _ = writeln!(out, "- [{stage}] {}", clip(insight, INSIGHT_CHARS));
        }
    }
    let questions: Vec<_> = folded
        .iter()
        .filter(|e| e.role == Role::Interviewer)
        .collect();
    if !questions.is_empty() {
        out.push_str("\nQuestions already asked:\n");
        for entry in tail(&questions, SUMMARY_QUESTIONS) {
            let _ = writeln!(
                out,
                "- [{}] {}",
                entry.stage,
                clip(&entry.text, QUESTION_CHARS)
            );
        }
    }
    let answers: Vec<_> = folded.iter().filter(|e| e.role == Role::Expert).collect();
    if !answers.is_empty() {
        out.push_str("\nThe expert's earlier answers, in brief:\n");
        for entry in tail(&answers, SUMMARY_ANSWERS) {
            let _ = writeln!(
                out,
                "- [{}] {}",
                entry.stage,
                clip(&entry.text, ANSWER_CHARS)
            );
        }
    }
    out.trim_end().to_owned()
}

fn tail<T>(items: &[T], n: usize) -> &[T] {
    &items[items.len().saturating_sub(n)..]
}

/// Shortens `text` to at most `max` characters on one line, marking the cut.
fn clip(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The engine's note for this turn: where the interview stands against its plan and what
/// the model may do next.
pub fn note(session: &Session, now: DateTime<Utc>, directive: Option<Directive>) -> String {
    let stage = session.stage;
    let record = session.record(stage);
    // Time since the last message counts as it will once the turn is recorded.
    let pending = session
        .idle_for(now)
        .min(super::session::ACTIVE_GAP_CAP)
        .as_secs();
    let in_stage = (record.active_secs + pending) / 60;
    let total = (session.active_time().as_secs() + pending) / 60;
    let budget = stage.budget().as_secs() / 60;
    let total_budget = Stage::total_budget().as_secs() / 60;
    let mut out = format!(
        "[Interview engine]\nStage: {stage} ({} of {}): {}.\nTime in this stage: {in_stage} of \
         {budget} min. Interview so far: {total} of about {total_budget} min.\nStage completeness so \
         far: {}/100.\n",
        stage.number(),
        Stage::COUNT,
        stage.goal(),
        record.completeness,
    );
    match stage.next() {
        Some(next) => {
            let _ = writeln!(
                out,
                "Allowed `interview_stage` this turn: \"{stage}\" (stay) or \"{next}\" (move on)."
            );
            if in_stage * 2 >= budget * 3 {
                let _ = writeln!(
                    out,
                    "This stage has overrun its budget by half: close it and move on to \"{next}\" now."
                );
            }
        }
        None => {
            let _ = writeln!(
                out,
                "Allowed `interview_stage` this turn: \"{stage}\". When the expert has given their \
                 last word, thank them and set completeness to 100: that ends the interview."
            );
        }
    }
    if total >= total_budget && stage != Stage::WrapUp {
        out.push_str(
            "The interview has passed its planned time: keep the remaining stages brief.\n",
        );
    }
    match directive {
        Some(Directive::Opening) => out
            .push_str("The interview starts now: greet the expert and open the greeting stage.\n"),
        Some(Directive::FinishEarly) => out.push_str(
            "The expert asked to finish now. The interview has moved to wrap_up: acknowledge it \
             briefly and ask the closing questions only.\n",
        ),
        None => {}
    }
    out.trim_end().to_owned()
}

/// Builds the request for the next turn from the session's window, with `note` last.
pub fn request(session: &Session, system: String, note: String) -> TurnRequest {
    let head = if session.context.folded == 0 {
        OPENING_HEAD.to_owned()
    } else {
        session.context.summary.clone()
    };
    let mut messages = vec![ChatMessage {
        role: ChatRole::User,
        content: vec![TextBlock::new(head)],
    }];
    for entry in &session.transcript[session.context.folded.min(session.transcript.len())..] {
        let role = match entry.role {
            Role::Interviewer => ChatRole::Assistant,
            Role::Expert => ChatRole::User,
        };
        push_block(&mut messages, role, TextBlock::new(entry.text.clone()));
    }
    // The second cache breakpoint: everything up to the last transcript block is reused by
    // the next turn unchanged.
    if let Some(last) = messages.last_mut().and_then(|m| m.content.last_mut()) {
        last.cache_control = Some(crate::llm::wire::CacheControl::EPHEMERAL);
    }
    push_block(&mut messages, ChatRole::User, TextBlock::new(note));
    TurnRequest { system, messages }
}

fn push_block(messages: &mut Vec<ChatMessage>, role: ChatRole, block: TextBlock) {
    match messages.last_mut() {
        Some(last) if last.role == role => last.content.push(block),
        _ => messages.push(ChatMessage {
            role,
            content: vec![block],
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        i18n::Lang,
        interview::{Style, UserId},
    };

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn interview(turns: usize) -> Session {
        let mut s = Session::new(1, UserId(1), Lang::En, Style::default(), now());
        for i in 0..turns {
            s.push_question(format!("question {i}"), now());
            s.push_answer(&format!("answer {i}"), now());
        }
        s
    }

    #[test]
    fn nothing_is_folded_while_the_window_is_within_bounds() {
        let mut s = interview(50);
        assert!(!fold(&mut s, &ContextLimits::new(100)));
        assert_eq!(s.context.folded, 0);
    }

    #[test]
    fn the_window_slides_by_whole_chunks_and_starts_at_a_question() {
        let mut s = interview(51);
        assert!(fold(&mut s, &ContextLimits::new(100)));
        assert_eq!(s.context.folded, 50);
        assert_eq!(s.transcript[50].role, Role::Interviewer);
        assert!(s.context.summary.contains("question 0"));
        // Further turns do not move the window until it is full again.
        for i in 51..75 {
            s.push_question(format!("question {i}"), now());
            s.push_answer(&format!("answer {i}"), now());
            assert!(!fold(&mut s, &ContextLimits::new(100)), "turn {i}");
        }
    }

    #[test]
    fn a_window_over_its_byte_bound_is_folded_but_keeps_the_last_message() {
        let mut s = interview(3);
        s.push_question("q".into(), now());
        s.push_answer(&"x".repeat(5000), now());
        let limits = ContextLimits {
            max_messages: 100,
            max_bytes: 1000,
        };
        assert!(fold(&mut s, &limits));
        assert_eq!(s.context.folded, s.transcript.len() - 1);
    }

    #[test]
    fn the_request_prefix_is_unchanged_from_one_turn_to_the_next() {
        let mut s = interview(10);
        let first = request(&s, "system".into(), "note one".into());
        s.push_question("next".into(), now());
        s.push_answer("more", now());
        let second = request(&s, "system".into(), "note two".into());
        // Every block of the first request but its note appears unchanged in the second,
        // cache markers aside.
        let strip = |m: &ChatMessage| m.content.iter().map(|b| b.text.clone()).collect::<Vec<_>>();
        let n = first.messages.len();
        for i in 0..n - 1 {
            assert_eq!(
                strip(&first.messages[i]),
                strip(&second.messages[i]),
                "message {i}"
            );
        }
        let last_first = strip(&first.messages[n - 1]);
        assert_eq!(last_first.last().unwrap(), "note one");
        assert_eq!(
            strip(&second.messages[n - 1])[..last_first.len() - 1],
            last_first[..last_first.len() - 1]
        );
    }

    #[test]
    fn the_request_alternates_roles_and_ends_with_the_note() {
        let s = interview(4);
        let req = request(&s, "system".into(), "the note".into());
        assert_eq!(req.messages[0].role, ChatRole::User);
        for pair in req.messages.windows(2) {
            assert_ne!(pair[0].role, pair[1].role);
        }
        let last = req.messages.last().unwrap();
        assert_eq!(last.role, ChatRole::User);
        assert_eq!(last.content.last().unwrap().text, "the note");
        assert!(last.content.last().unwrap().cache_control.is_none());
        assert!(last.content[last.content.len() - 2].cache_control.is_some());
    }

    #[test]
    fn the_note_asks_to_move_on_when_a_stage_overruns_by_half() {
        let mut s = interview(1);
        s.stage = Stage::Essence;
        s.record_mut(Stage::Essence).active_secs = 20 * 60;
        assert!(!note(&s, s.last_activity, None).contains("overrun"));
        s.record_mut(Stage::Essence).active_secs = 23 * 60;
        let text = note(&s, s.last_activity, None);
        assert!(
            text.contains("overrun its budget by half") && text.contains("\"operations\""),
            "{text}"
        );
    }

    #[test]
    fn the_folded_summary_carries_what_the_finished_stages_found() {
        let mut s = interview(60);
        s.record_mut(Stage::Greeting)
            .insights
            .push("raw greeting insight".into());
        s.summaries.insert(
            Stage::Greeting,
            super::super::knowledge::StageSummary {
                summary: "Ann is a welder of twelve years.".into(),
                elements: vec![],
                decisions: vec![],
                written_at: now(),
            },
        );
        fold(&mut s, &ContextLimits::new(100));
        let text = &s.context.summary;
        assert!(text.contains("[greeting] Ann is a welder"), "{text}");
        assert!(!text.contains("raw greeting insight"), "{text}");
    }

    #[test]
    fn the_summary_stays_compact_however_long_the_interview() {
        let mut s = interview(400);
        for stage in Stage::ALL {
            s.record_mut(stage).insights = vec!["an insight ".repeat(50); 30];
        }
        let element = super::super::knowledge::Element {
            kind: super::super::knowledge::ElementKind::Cue,
            text: "a finding ".repeat(60),
            detail: "why ".repeat(40),
            order: 0,
            hard: false,
            evidence: super::super::knowledge::Evidence {
                entry: 1,
                quote: None,
            },
        };
        for stage in &Stage::ALL[..7] {
            s.summaries.insert(
                *stage,
                super::super::knowledge::StageSummary {
                    summary: "what it found ".repeat(80),
                    elements: vec![element.clone(); 40],
                    decisions: vec![],
                    written_at: now(),
                },
            );
        }
        s.context.folded = 780;
        assert!(summarize(&s).len() < 30_000, "{}", summarize(&s).len());
    }
}
