//! Engine figures, printed (not asserted):
//!
//! 1. engine overhead per turn, excluding Claude: a whole `answer` (load, save before the call,
//!    context fold, request build and serialisation, turn validation, save after) with an
//!    instant model, on tmpfs and on the disk;
//! 2. save and load time (cold, and for a file unchanged since the store wrote it) and file size
//!    of a session with a 200-message transcript.
//!
//! Tokens and cost of a whole interview are measured by `cargo bench --bench interview_cost`.
//!
//! Run with `cargo bench --bench engine`.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use ai_interviewer::{
    i18n::{Catalog, Lang},
    interview::{
        Answer, Engine, EngineConfig, ManualClock, Outcome, Prompts, QuestionBank, Session,
        SessionOwner, Style, UserId,
    },
    llm::{BoxFuture, LlmError, Model, Pace, StructuredRequest, Written, wire::Usage},
    store::{Loaded, SessionStore, Storage},
};
use serde_json::json;

/// A model that answers at once, doing the CPU work the HTTP client does around the network:
/// serialising the request, parsing a response body, checking the turn.
#[derive(Debug)]
struct InstantModel;

const RESPONSE: &str = r#"{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"{\"interview_stage\":\"operations\",\"response\":\"Walk me through the last time that happened: what did you notice first, and what did you do about it?\",\"metadata\":{\"question_depth\":3,\"completeness\":40,\"engagement_level\":\"high\",\"estimated_time_remaining\":\"about an hour\"},\"internal_tracking\":{\"key_insights\":[\"Checks the supplier's batch numbers before anything else\"],\"examples_collected\":2,\"follow_up_needed\":[\"the second supplier\"],\"stage_transition_ready\":false,\"conversation_quality\":\"rich\"}}"}],"stop_reason":"end_turn","usage":{"input_tokens":12,"output_tokens":150,"cache_creation_input_tokens":0,"cache_read_input_tokens":9000}}"#;

impl Model for InstantModel {
    fn ask<'a>(
        &'a self,
        request: &'a StructuredRequest<'a>,
    ) -> BoxFuture<'a, Result<Written, LlmError>> {
        Box::pin(async move {
            if request.pace != Pace::Conversation {
                return Err(LlmError::Unusable {
                    reason: "the benchmark's model writes no summaries".into(),
                    usage: Usage::default(),
                });
            }
            let body = serde_json::to_vec(
                &json!({"system": request.system, "messages": request.messages, "schema": request.schema}),
            )
            .unwrap();
            std::hint::black_box(body);
            let response: serde_json::Value = serde_json::from_str(RESPONSE).unwrap();
            let text = response["content"][0]["text"].as_str().unwrap();
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            (request.check)(&value).map_err(|reason| LlmError::Unusable {
                reason,
                usage: Usage::default(),
            })?;
            Ok(Written {
                value,
                usage: Usage::default(),
                repaired: false,
            })
        })
    }
}

fn engine(dir: &Path, model: Option<Arc<dyn Model>>) -> Engine {
    let catalog = Arc::new(Catalog::load().unwrap());
    let bank = QuestionBank::from_catalog(&catalog).unwrap();
    let prompts = Prompts::embedded();
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    Engine::new(
        &Storage::files(SessionStore::open(dir).unwrap()),
        model,
        prompts,
        catalog,
        bank,
        clock,
        EngineConfig::new(100, Duration::from_secs(3 * 3600)),
    )
}

fn answer_text(i: usize) -> String {
    format!(
        "Turn {i}. Usually I start by checking what changed since the last batch: the supplier, the \
         ambient humidity, who set the machine up. Last month, for example, the welds looked fine \
         but the colour was slightly off, and that told me the gas mix had drifted. I stopped the \
         line, we found a leaking regulator, and we lost an hour instead of a week of rework."
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn summary(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "  {label:<44} p50 {:>9.3} ms   p99 {:>9.3} ms   (n={})",
        percentile(&samples, 0.50).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.len()
    );
}

fn tmpfs_dir() -> Option<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    shm.is_dir()
        .then(|| tempfile::tempdir_in(shm).ok())
        .flatten()
}

fn disk_dir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

async fn overhead(dir: &Path, turns: usize) -> Vec<Duration> {
    let engine = engine(dir, Some(Arc::new(InstantModel)));
    let mut owner = SessionOwner::load(&engine, UserId(7)).await.unwrap();
    owner
        .begin(&engine, Lang::En, Style::MasterInterviewer)
        .await
        .unwrap();
    let mut samples = Vec::with_capacity(turns);
    for i in 0..turns {
        let text = answer_text(i);
        let started = Instant::now();
        let outcome = owner
            .answer(&engine, Answer::typed(&text), std::future::pending())
            .await
            .unwrap();
        samples.push(started.elapsed());
        assert!(matches!(outcome, Outcome::Reply(_)));
    }
    samples
}

struct StoreFigures {
    saves: Vec<Duration>,
    loads: Vec<Duration>,
    size: usize,
}

async fn save_and_load(dir: &Path) -> StoreFigures {
    let store = SessionStore::open(dir).unwrap();
    let now = chrono::Utc::now();
    let mut session = Session::new(1, UserId(9), Lang::En, Style::default(), now);
    for i in 0..100 {
        session.push_question(
            format!("Question {i}: what did you notice first, and why did it matter to you?"),
            now,
        );
        session.push_answer(&answer_text(i), now);
        session.record_mut(session.stage).insights.push(format!(
            "Insight {i}: checks the gas mix when the colour drifts"
        ));
    }
    assert_eq!(session.transcript.len(), 200);
    let path = dir.join("9.json");
    let (mut saves, mut loads) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        let started = Instant::now();
        store.save(&session).await.unwrap();
        saves.push(started.elapsed());
        // Paid once per chat worker, when it starts: the worker keeps the session after.
        let started = Instant::now();
        let loaded = store.load(UserId(9)).await.unwrap();
        loads.push(started.elapsed());
        assert!(matches!(loaded, Loaded::Session(s) if s.transcript.len() == 200));
    }
    let size = std::fs::metadata(&path).unwrap().len() as usize;
    StoreFigures { saves, loads, size }
}

#[tokio::main]
async fn main() {
    println!("engine overhead per turn, excluding Claude (window of 100 messages)");
    for turns in [120, 300] {
        if let Some(dir) = tmpfs_dir() {
            let label = format!("answer(), {turns} turns, tmpfs");
            summary(&label, overhead(dir.path(), turns).await);
        }
        let dir = disk_dir();
        let label = format!("answer(), {turns} turns, disk (2 fsyncs)");
        summary(&label, overhead(dir.path(), turns).await);
    }

    println!("\nsession with a 200-message transcript");
    for (label, dir) in [("tmpfs", tmpfs_dir()), ("disk", Some(disk_dir()))] {
        let Some(dir) = dir else { continue };
        let figures = save_and_load(dir.path()).await;
        summary(
            &format!("save, {label} (encode, write, fsync, rename)"),
            figures.saves,
        );
        summary(&format!("load, {label} (read, decode)"), figures.loads);
        println!("  file size: {} bytes", figures.size);
    }
}
