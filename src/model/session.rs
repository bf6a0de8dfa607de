//! The session model: everything an interview has said and decided, as saved to disk.

use std::{collections::BTreeMap, time::Duration};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Fallback, Lang, Stage, Style, UsageTotals, UserId, report::ReportState, study::Study,
    study::StudyId, study::StudyPlan, summary::StageSummary,
};

/// The version of the session file format this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// Gaps longer than this between two messages count as a break, not as interview time.
pub const ACTIVE_GAP_CAP: Duration = Duration::from_secs(10 * 60);

/// Who wrote a transcript entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The interviewer (the model, or the offline question bank).
    Interviewer,
    /// The expert being interviewed.
    Expert,
}

/// One message of the transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Who wrote it.
    pub role: Role,
    /// What was said, exactly as sent or received.
    pub text: String,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// The stage the interview was in when it was said.
    pub stage: Stage,
    /// For interviewer entries: the question came from the offline bank, not from the model.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub offline: bool,
    /// For offline questions: why the model did not write it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
    /// For interviewer entries: the front end has delivered the message to the expert. New
    /// messages start undelivered; files written before delivery was tracked count as delivered.
    #[serde(default = "delivered_by_default", skip_serializing_if = "is_true")]
    pub delivered: bool,
    /// For expert entries: the voice notes the answer was spoken in, in order (empty for a
    /// typed answer). Quick successive messages join into one entry, so a turn may hold
    /// several notes, or notes and text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub voice: Vec<VoiceClip>,
}

/// One voice note of an answer: what the speech recognition reported about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoiceClip {
    /// The recording's length, in milliseconds, counted from its audio frames.
    pub duration_ms: u64,
    /// The transcript's confidence, 0 to 1.
    pub confidence: f64,
    /// The speech model that transcribed it, when the service said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl VoiceClip {
    /// The recording's length.
    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.duration_ms)
    }
}

fn delivered_by_default() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// What the interview has gathered in one stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    /// How fully the stage is covered, 0 to 100.
    pub completeness: u8,
    /// Interview time spent in the stage, in seconds (breaks excluded).
    pub active_secs: u64,
    /// Insights the model drew from the expert's answers in this stage.
    pub insights: Vec<String>,
    /// Concrete examples the expert gave in this stage, as the model counted them.
    pub examples: u32,
    /// How many offline bank questions of this stage have been asked.
    pub bank_asked: usize,
    /// The questions of this stage the expert chose to skip (/skip in the console), so that
    /// the report can say they were not covered rather than quote the stand-in as an answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skip>,
}

/// A question the expert skipped: where it and the stand-in that moved the interview on sit
/// in the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skip {
    /// The index in the transcript of the interviewer's question that was skipped.
    pub question: usize,
    /// The index in the transcript of the expert entry that stands for the skip. Its text is
    /// a short localized note ("I'd rather skip this question"), which the model reads as
    /// such; it is no answer and is never quoted as one.
    pub answer: usize,
}

/// The model's latest reading of the conversation, kept for the status and the summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LastReading {
    /// Depth of the last question, 1 (surface) to 4 (tacit).
    pub question_depth: u8,
    /// The expert's engagement: high, medium or low.
    pub engagement_level: String,
    /// The model's estimate of the time left.
    pub estimated_time_remaining: String,
    /// Threads worth returning to.
    pub follow_up_needed: Vec<String>,
    /// The model's note on how the conversation goes.
    pub conversation_quality: String,
}

/// The part of the transcript no longer sent verbatim, and what stands for it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContextState {
    /// Transcript entries folded into the summary; the window starts here.
    pub folded: usize,
    /// The summary that replaces the folded entries; empty while nothing is folded.
    pub summary: String,
}

/// One interview, from greeting to report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The file format version ([`SCHEMA_VERSION`]).
    pub version: u32,
    /// A random id telling this interview apart from the user's earlier ones.
    pub id: u32,
    /// Whose interview this is.
    pub user: UserId,
    /// The interview's language.
    pub language: Lang,
    /// The interviewer personality.
    pub style: Style,
    /// When the interview began.
    pub started_at: DateTime<Utc>,
    /// When the last message was recorded.
    pub last_activity: DateTime<Utc>,
    /// When the interview ended, if it has.
    pub finished_at: Option<DateTime<Utc>>,
    /// The current stage.
    pub stage: Stage,
    /// What each stage has gathered so far.
    pub stages: BTreeMap<Stage, StageRecord>,
    /// Every message, in order; never shortened.
    pub transcript: Vec<Entry>,
    /// What is sent to the model in place of the oldest messages.
    pub context: ContextState,
    /// The expert asked to finish early (/complete).
    #[serde(default)]
    pub wrap_up_requested: bool,
    /// The model's latest reading of the conversation.
    #[serde(default)]
    pub last_reading: Option<LastReading>,
    /// Token usage over the interview.
    #[serde(default)]
    pub usage: UsageTotals,
    /// The highest input id (a front end's sequence number, such as a Telegram update id)
    /// whose text is in the transcript: the same input arriving again changes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_input: Option<u64>,
    /// Where the knowledge report is written (in `completed/`) once the interview has ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_path: Option<std::path::PathBuf>,
    /// What each finished stage yielded, written when the stage ended.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub summaries: BTreeMap<Stage, StageSummary>,
    /// Where the report stands once the interview has ended: written, pending, checked.
    #[serde(default, skip_serializing_if = "ReportState::is_empty")]
    pub report: ReportState,
    /// The expert's agreement that the operators of this bot may read the interview, if
    /// given. Without it nothing of the interview is shown on the operator's desk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<Consent>,
    /// Who the expert is, as their messenger names them, taken when they accepted the
    /// notice: what the operators see beside the interview.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expert: Option<Expert>,
    /// The study the expert joined with its invite link; `None` for an interview of its own
    /// (files written before studies existed read as none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study: Option<StudyId>,
    /// The study's plan as it stood when the interview began: its subject joins the system
    /// prompt and its added questions are asked in their stages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<StudyPlan>,
}

/// The expert's name and handle, as their messenger gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expert {
    /// Their name (first and last, as far as they gave one).
    pub name: String,
    /// Their @username, without the @, if they have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// What the expert agreed to, and when: the notice is kept by its version (a hash of the
/// text shown), so that a later change of the text does not pass for what they accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// The version of the notice shown: a short hash of its text.
    pub version: String,
    /// When the expert accepted it.
    pub at: DateTime<Utc>,
}

/// Where the end of an interview stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The interview is still running.
    Running,
    /// It ended; the report is not written yet (being written, or waiting to retry).
    ReportDue,
    /// The report is written and waits for the expert to confirm or correct it.
    Review,
    /// The expert sent a correction; the revised report is not written yet.
    RevisionDue,
    /// Nothing is left to do but archive it.
    Done,
}

/// Who wrote an interviewer message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    ByModel,
    FromBank,
}

impl Session {
    /// A new interview at the greeting stage.
    pub fn new(id: u32, user: UserId, language: Lang, style: Style, now: DateTime<Utc>) -> Self {
        Session {
            version: SCHEMA_VERSION,
            id,
            user,
            language,
            style,
            started_at: now,
            last_activity: now,
            finished_at: None,
            stage: Stage::Greeting,
            stages: BTreeMap::new(),
            transcript: Vec::new(),
            context: ContextState::default(),
            wrap_up_requested: false,
            last_reading: None,
            usage: UsageTotals::default(),
            last_input: None,
            report_path: None,
            summaries: BTreeMap::new(),
            report: ReportState::default(),
            consent: None,
            expert: None,
            study: None,
            plan: None,
        }
    }

    /// Makes this (new) interview one of `study`'s: it keeps the study's id and its plan as
    /// it stands now.
    pub fn join(&mut self, study: &Study) {
        self.study = Some(study.id.clone());
        self.plan = Some(study.plan());
    }

    /// Where the end of the interview stands.
    pub fn ending(&self) -> Ending {
        use super::Review;
        if self.finished_at.is_none() {
            return Ending::Running;
        }
        let report = &self.report;
        if report.version == 0 {
            // Interviews ended by an earlier version had their report written at once.
            return if self.report_path.is_some() && report.is_empty() {
                Ending::Done
            } else {
                Ending::ReportDue
            };
        }
        match report.review {
            Review::Confirmed | Review::Corrected => Ending::Done,
            Review::Open if report.correction.is_some() => Ending::RevisionDue,
            Review::Open => Ending::Review,
        }
    }

    /// The record of `stage` (empty if nothing happened there yet).
    pub fn record(&self, stage: Stage) -> StageRecord {
        self.stages.get(&stage).cloned().unwrap_or_default()
    }

    /// The record of `stage`, for updating.
    pub fn record_mut(&mut self, stage: Stage) -> &mut StageRecord {
        self.stages.entry(stage).or_default()
    }

    /// The expert's message still waiting for an answer, if the last entry is theirs.
    pub fn pending(&self) -> Option<&Entry> {
        self.transcript.last().filter(|e| e.role == Role::Expert)
    }

    /// The interviewer's last message.
    pub fn last_question(&self) -> Option<&Entry> {
        self.transcript
            .iter()
            .rev()
            .find(|e| e.role == Role::Interviewer)
    }

    /// How many messages the expert has sent.
    pub fn answers(&self) -> usize {
        self.transcript
            .iter()
            .filter(|e| e.role == Role::Expert)
            .count()
    }

    /// How many insights have been collected over all stages.
    pub fn insight_count(&self) -> usize {
        self.stages.values().map(|r| r.insights.len()).sum()
    }

    /// Interview time over all stages, breaks excluded.
    pub fn active_time(&self) -> Duration {
        Duration::from_secs(self.stages.values().map(|r| r.active_secs).sum())
    }

    /// How long the session has been idle at `now`.
    pub fn idle_for(&self, now: DateTime<Utc>) -> Duration {
        (now - self.last_activity).to_std().unwrap_or_default()
    }

    /// Counts the time since the last activity (up to [`ACTIVE_GAP_CAP`]) towards the current
    /// stage, and marks `now` as the last activity.
    pub fn touch(&mut self, now: DateTime<Utc>) {
        let gap = self.idle_for(now).min(ACTIVE_GAP_CAP);
        let stage = self.stage;
        self.record_mut(stage).active_secs += gap.as_secs();
        self.last_activity = now;
    }

    /// Records an expert message. A message still waiting for an answer is extended rather
    /// than followed by a second one, so quick successive messages become one turn.
    pub fn push_answer(&mut self, text: &str, now: DateTime<Utc>) {
        self.touch(now);
        match self.transcript.last_mut() {
            Some(last) if last.role == Role::Expert => {
                last.text.push_str("\n\n");
                last.text.push_str(text);
                last.at = now;
            }
            _ => self.transcript.push(Entry {
                role: Role::Expert,
                text: text.to_owned(),
                at: now,
                stage: self.stage,
                offline: false,
                fallback: None,
                delivered: true,
                voice: Vec::new(),
            }),
        }
    }

    /// Marks the expert's pending entry (just taken) as skipping the question before it. Does
    /// nothing when no expert entry is pending, or when it is already marked.
    pub fn mark_skipped(&mut self) {
        let Some(answer) = self.transcript.len().checked_sub(1) else {
            return;
        };
        if self.pending().is_none() || self.is_skipped(answer) {
            return;
        }
        let question = self.transcript[..answer]
            .iter()
            .rposition(|e| e.role == Role::Interviewer);
        let Some(question) = question else {
            return;
        };
        let stage = self.transcript[answer].stage;
        self.record_mut(stage)
            .skipped
            .push(Skip { question, answer });
    }

    /// Whether the transcript entry at `index` is a skipped question or the expert's stand-in
    /// for a skip.
    pub fn is_skipped(&self, index: usize) -> bool {
        self.stages
            .values()
            .flat_map(|record| &record.skipped)
            .any(|skip| skip.question == index || skip.answer == index)
    }

    /// Records an expert message spoken in a voice note: as [`Session::push_answer`], with the
    /// note kept on the entry it joins.
    pub fn push_voice_answer(&mut self, text: &str, clip: VoiceClip, now: DateTime<Utc>) {
        self.push_answer(text, now);
        if let Some(entry) = self.transcript.last_mut() {
            entry.voice.push(clip);
        }
    }

    /// Records an interviewer message the model wrote, in the current stage.
    pub fn push_question(&mut self, text: String, now: DateTime<Utc>) {
        self.push_interviewer(text, Written::ByModel, now);
    }

    /// Records an interviewer message from the offline bank, in the current stage.
    pub fn push_offline_question(&mut self, text: String, now: DateTime<Utc>) {
        self.push_interviewer(text, Written::FromBank, now);
    }

    fn push_interviewer(&mut self, text: String, written: Written, now: DateTime<Utc>) {
        let offline = written == Written::FromBank;
        self.touch(now);
        self.transcript.push(Entry {
            role: Role::Interviewer,
            text,
            at: now,
            stage: self.stage,
            offline,
            fallback: None,
            delivered: false,
            voice: Vec::new(),
        });
    }

    /// Records a question from the offline bank in the current stage, and why the model did
    /// not write it.
    pub fn push_fallback_question(&mut self, text: String, reason: Fallback, now: DateTime<Utc>) {
        self.push_offline_question(text, now);
        if let Some(entry) = self.transcript.last_mut() {
            entry.fallback = Some(reason);
        }
    }

    /// Interviewer messages not yet delivered, oldest first, with their transcript index.
    pub fn undelivered(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.transcript
            .iter()
            .enumerate()
            .filter(|(_, e)| e.role == Role::Interviewer && !e.delivered)
    }

    /// Whether an input id has already been taken into the transcript.
    pub fn has_input(&self, input: u64) -> bool {
        self.last_input.is_some_and(|last| input <= last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0).unwrap()
    }

    fn session() -> Session {
        Session::new(7, UserId(42), Lang::En, Style::MasterInterviewer, at(0))
    }

    #[test]
    fn a_new_session_starts_at_the_greeting_with_nothing_pending() {
        let s = session();
        assert_eq!(s.stage, Stage::Greeting);
        assert!(s.pending().is_none());
        assert_eq!(s.answers(), 0);
    }

    #[test]
    fn quick_successive_answers_join_into_one_pending_message() {
        let mut s = session();
        s.push_question("Hello?".into(), at(0));
        s.push_answer("first", at(1));
        s.push_answer("second", at(1));
        assert_eq!(s.transcript.len(), 2);
        assert_eq!(s.pending().unwrap().text, "first\n\nsecond");
        assert_eq!(s.answers(), 1);
    }

    #[test]
    fn breaks_longer_than_the_cap_do_not_count_as_interview_time() {
        let mut s = session();
        s.push_question("q".into(), at(0));
        s.push_answer("a", at(3));
        s.push_question("q".into(), at(4));
        s.push_answer("a", at(4 + 600));
        assert_eq!(s.active_time(), Duration::from_secs((3 + 1 + 10) * 60));
        assert_eq!(s.record(Stage::Greeting).active_secs, 14 * 60);
    }

    #[test]
    fn offline_questions_carry_their_reason_and_older_files_still_load() {
        let mut s = session();
        s.push_fallback_question("q".into(), Fallback::UpstreamDown, at(0));
        s.usage.record_offline(Fallback::UpstreamDown);
        let entry = s.transcript.last().unwrap();
        assert!(entry.offline && entry.fallback == Some(Fallback::UpstreamDown));
        let mut json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["transcript"][0]["fallback"], "upstream_down");
        assert_eq!(json["usage"]["offline_by_reason"]["upstream_down"], 1);
        // A file written before reasons were recorded.
        json["transcript"][0]
            .as_object_mut()
            .unwrap()
            .remove("fallback");
        json["usage"]
            .as_object_mut()
            .unwrap()
            .remove("offline_by_reason");
        let back: Session = serde_json::from_value(json).unwrap();
        assert_eq!(back.transcript[0].fallback, None);
        assert_eq!(back.usage.offline_by_reason.total(), 0);
    }

    #[test]
    fn voice_answers_keep_each_note_and_older_entries_load_as_typed() {
        let mut s = session();
        s.push_question("q".into(), at(0));
        let clip = |ms, confidence| VoiceClip {
            duration_ms: ms,
            confidence,
            model: Some("universal-2".into()),
        };
        s.push_voice_answer("spoken", clip(2_550, 0.93), at(1));
        s.push_answer("typed", at(1));
        s.push_voice_answer("spoken again", clip(4_000, 0.71), at(2));
        let entry = s.pending().unwrap();
        assert_eq!(entry.text, "spoken\n\ntyped\n\nspoken again");
        assert_eq!(entry.voice, vec![clip(2_550, 0.93), clip(4_000, 0.71)]);
        assert_eq!(entry.voice[0].duration(), Duration::from_millis(2_550));
        let mut json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["transcript"][1]["voice"][1]["confidence"], 0.71);
        assert!(
            json["transcript"][0].get("voice").is_none(),
            "typed entries carry nothing"
        );
        json["transcript"][1]
            .as_object_mut()
            .unwrap()
            .remove("voice");
        let back: Session = serde_json::from_value(json).unwrap();
        assert!(back.transcript[1].voice.is_empty());
    }

    #[test]
    fn a_session_survives_a_json_round_trip() {
        let mut s = session();
        s.push_offline_question("q".into(), at(0));
        s.push_answer("a", at(1));
        s.record_mut(Stage::Greeting)
            .insights
            .push("insight".into());
        let json = serde_json::to_string(&s).unwrap();
        let back: Session = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn a_skip_names_the_question_and_its_stand_in_and_old_files_have_none() {
        let mut s = session();
        s.push_offline_question("q1".into(), at(0));
        s.push_answer("a1", at(1));
        s.push_offline_question("q2".into(), at(2));
        s.push_answer("(skipped)", at(3));
        s.mark_skipped();
        s.mark_skipped();
        assert_eq!(
            s.record(Stage::Greeting).skipped,
            [Skip {
                question: 2,
                answer: 3
            }],
            "marked once"
        );
        assert!(s.is_skipped(2) && s.is_skipped(3));
        assert!(!s.is_skipped(0) && !s.is_skipped(1));
        let mut json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["stages"]["greeting"]["skipped"][0]["answer"], 3);
        // A file written before skips were recorded reads as having none.
        json["stages"]["greeting"]
            .as_object_mut()
            .unwrap()
            .remove("skipped");
        let back: Session = serde_json::from_value(json).unwrap();
        assert!(back.record(Stage::Greeting).skipped.is_empty());
        // Nothing pending: nothing to mark.
        s.push_offline_question("q3".into(), at(4));
        s.mark_skipped();
        assert_eq!(s.record(Stage::Greeting).skipped.len(), 1);
    }
}
