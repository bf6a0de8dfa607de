//! Tokens and dollars of a whole interview, printed (not asserted).
//!
//! A full 120-turn interview, its stage summaries and its report run through the real engine
//! and Claude client against the fake Anthropic API, whose usage counts model prompt caching
//! (breakpoints, the 20-block lookback, the minimum cacheable prefix per generation), the
//! tokenizer (30% more tokens from generation 5 on) and thinking (by effort, counted as
//! output). The fake replies at a realistic length: a question of a few sentences with an
//! acknowledgement, an insight and a follow-up per turn; a knowledge element of a couple of
//! sentences per answer in a stage summary (a decision point per answer of an incident); a
//! report of up to nine sections and a summary of about a hundred words. The expert answers
//! about 90 words a turn, one turn a minute. The 120 turns are spread over the stages in
//! proportion to their time budgets. As the bot does, each stage's summary is asked for after
//! the reply that opens the next stage, and the report once the interview ends.
//!
//! For each model: uncached input, cache writes, cache reads, output, the dollars at the
//! published prices (`llm::pricing`, five-minute cache writes) for the turns, the stage
//! summaries and the report, and the share of input read from the cache. Then, for the
//! default model: each kind of request in detail, and the report request's input against
//! the transcript's.
//!
//! Run with `cargo bench --bench interview_cost`.

use interviewer_fakes::anthropic;
use std::{sync::Arc, time::Duration};

use ai_interviewer::{
    i18n::{Catalog, Lang},
    interview::ReportOutcome,
    interview::{
        Answer, Engine, EngineConfig, ManualClock, Outcome, Prompts, QuestionBank, SessionOwner,
        Stage, Style, UserId,
    },
    llm::{ClaudeClient, Model, PriceTable, wire::Usage},
    settings::Settings,
    store::{SessionStore, Storage},
};

/// Turns per stage: 120 in all, in proportion to the stages' time budgets.
const PLAN: [(Stage, usize); 9] = [
    (Stage::Greeting, 5),
    (Stage::Profiling, 10),
    (Stage::Essence, 14),
    (Stage::Operations, 19),
    (Stage::ExpertiseMap, 19),
    (Stage::FailureModes, 19),
    (Stage::Mastery, 14),
    (Stage::GrowthPath, 14),
    (Stage::WrapUp, 6),
];

fn answer_text(i: usize) -> String {
    format!(
        "Turn {i}. Usually I start by checking what changed since the last batch: the supplier, the \
         ambient humidity, who set the machine up. Last month, for example, the welds looked fine \
         but the colour was slightly off, and that told me the gas mix had drifted. I stopped the \
         line, we found a leaking regulator, and we lost an hour instead of a week of rework."
    )
}

/// What one model's interview cost.
struct Figures {
    model: String,
    effort: String,
    turns: usize,
    offline: u32,
    interview: Usage,
    summaries: Usage,
    report: Usage,
    thinking: u64,
    /// Stage summary requests, and their thinking tokens.
    summary_requests: usize,
    summary_thinking: u64,
    /// The report's thinking tokens.
    report_thinking: u64,
    /// The report request's user message, in bytes, and its input tokens.
    report_prompt_bytes: usize,
    report_input_tokens: u64,
    /// The transcript, in bytes and in the model's tokens.
    transcript_bytes: usize,
    transcript_tokens: u64,
    /// Sections the report filled, of nine.
    sections: usize,
}

fn add(total: &mut Usage, usage: anthropic::Usage) {
    total.input_tokens += usage.input;
    total.cache_creation_input_tokens += usage.cache_write;
    total.cache_read_input_tokens += usage.cache_read;
    total.output_tokens += usage.output;
}

/// One model's interview. With `summaries_as_it_goes`, each stage is summarised when it ends,
/// as the bot does, and the findings reach the running context; without, all summaries are
/// written with the report (the baseline for what the findings cost the turns).
async fn interview(model: &str, effort: &str, summaries_as_it_goes: bool) -> Figures {
    let fake = anthropic::FakeAnthropic::start().await;
    fake.set_verbose(true);
    let script: Vec<anthropic::Reply> = PLAN
        .iter()
        .flat_map(|(stage, turns)| {
            (1..=*turns).map(move |n| anthropic::Reply::Turn {
                stage: stage.id(),
                completeness: (n * 100 / turns) as u8,
            })
        })
        .collect();
    assert_eq!(script.len(), 120);
    fake.script(script);
    let dir = tempfile::tempdir().unwrap();
    let vars = [
        ("ANTHROPIC_BASE_URL", fake.url.clone()),
        ("ANTHROPIC_API_KEY", anthropic::API_KEY.to_owned()),
        ("CLAUDE_MODEL", model.to_owned()),
        ("CLAUDE_EFFORT", effort.to_owned()),
    ];
    let settings =
        Settings::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            .unwrap();
    let client = ClaudeClient::new(&settings.claude, settings.claude.api_key.clone().unwrap());
    let catalog = Arc::new(Catalog::load().unwrap());
    let bank = QuestionBank::from_catalog(&catalog).unwrap();
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let engine = Engine::new(
        &Storage::files(SessionStore::open(dir.path()).unwrap()),
        Some(Arc::new(client) as Arc<dyn Model>),
        Prompts::embedded(),
        catalog,
        bank,
        clock.clone(),
        EngineConfig::new(
            settings.max_conversation_history,
            Duration::from_secs(3 * 3600),
        ),
    );
    let mut owner = SessionOwner::load(&engine, UserId(11)).await.unwrap();
    owner
        .begin(&engine, Lang::En, Style::MasterInterviewer)
        .await
        .unwrap();
    let mut offline = 0;
    for i in 1.. {
        clock.advance(Duration::from_secs(60));
        let text = answer_text(i);
        match owner
            .answer(&engine, Answer::typed(&text), std::future::pending())
            .await
            .unwrap()
        {
            Outcome::Reply(reply) => {
                offline += u32::from(reply.offline);
                if reply.stage_changed && summaries_as_it_goes {
                    owner.summarize_stages(&engine).await.unwrap();
                }
            }
            Outcome::Finished(_) => break,
            other => panic!("{other:?}"),
        }
        assert!(i < 200, "the interview never ended");
    }
    let sections = match owner.write_report(&engine).await.unwrap() {
        ReportOutcome::Ready(ready) => {
            assert!(!ready.offline, "{model}: the report was written");
            9 - ready.markdown.matches("Too little material").count()
        }
        other => panic!("{model}: {other:?}"),
    };
    let session = owner.session().unwrap();
    let spec = anthropic::ModelSpec::find(model).expect("a model the fake knows");
    let transcript: String = session
        .transcript
        .iter()
        .map(|e| e.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let received = fake.received();
    for r in &received {
        assert_eq!(r.status, 200, "{model}: refused: {:?}", r.error);
    }
    let mut figures = Figures {
        model: model.to_owned(),
        effort: effort.to_owned(),
        turns: 0,
        offline,
        interview: Usage::default(),
        summaries: Usage::default(),
        report: Usage::default(),
        thinking: 0,
        summary_requests: 0,
        summary_thinking: 0,
        report_thinking: 0,
        report_prompt_bytes: 0,
        report_input_tokens: 0,
        transcript_bytes: transcript.len(),
        transcript_tokens: spec.tokens(&transcript),
        sections,
    };
    for r in &received {
        figures.thinking += r.usage.thinking;
        match anthropic::writing_kind(&r.body) {
            None => {
                figures.turns += 1;
                add(&mut figures.interview, r.usage);
            }
            Some("summary") => {
                figures.summary_requests += 1;
                figures.summary_thinking += r.usage.thinking;
                add(&mut figures.summaries, r.usage);
            }
            Some(_) => {
                figures.report_thinking += r.usage.thinking;
                figures.report_prompt_bytes = r.body["messages"][0]["content"][0]["text"]
                    .as_str()
                    .map_or(0, str::len);
                figures.report_input_tokens =
                    r.usage.input + r.usage.cache_write + r.usage.cache_read;
                add(&mut figures.report, r.usage);
            }
        }
    }
    figures
}

fn input(u: &Usage) -> u64 {
    u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let prices = PriceTable::published();
    let runs = [
        ("claude-sonnet-5-5", "low", true),
        ("claude-sonnet-4-6", "low", true),
        ("claude-haiku-5-5", "low", true),
        ("claude-sonnet-5", "low", true),
        ("claude-sonnet-5-5", "medium", true),
        ("claude-sonnet-5-5", "high", true),
        ("claude-sonnet-5-5", "low", false),
    ];
    println!(
        "A 120-turn interview, its stage summaries and its report against the fake Anthropic API \
         (tokens; dollars at the published prices, five-minute cache writes)\n"
    );
    println!(
        "{:<19} {:<7} {:>6} {:>10} {:>11} {:>10} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>7}",
        "model",
        "effort",
        "turns",
        "uncached",
        "cache write",
        "cache read",
        "output",
        "thinking",
        "$ turns",
        "$ stages",
        "$ report",
        "$ total",
        "cached"
    );
    let mut default = None;
    for (model, effort, as_it_goes) in runs {
        let f = runtime.block_on(interview(model, effort, as_it_goes));
        assert_eq!(f.offline, 0, "{model}: offline turns");
        let mut total = f.interview;
        total += f.summaries;
        total += f.report;
        let price = prices.price(&f.model).expect("a published price");
        let share = total.cache_read_input_tokens as f64 / input(&total) as f64;
        println!(
            "{:<19} {:<7} {:>6} {:>10} {:>11} {:>10} {:>9} {:>9} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>6.1}%{}",
            f.model,
            f.effort,
            f.turns,
            total.input_tokens,
            total.cache_creation_input_tokens,
            total.cache_read_input_tokens,
            total.output_tokens,
            f.thinking,
            price.cost(&f.interview),
            price.cost(&f.summaries),
            price.cost(&f.report),
            price.cost(&total),
            share * 100.0,
            if as_it_goes {
                ""
            } else {
                "  (summaries only at the end)"
            }
        );
        if default.is_none() {
            default = Some(f);
        }
    }
    println!(
        "\n`cached` is the share of all input tokens read from the cache. Stage summaries and the \
         report are one request each, not cached. Thinking is the fake's model of it \
         (400/1,500/3,000 tokens at low/medium/high), billed as output. The last row writes \
         every summary with the report instead: its `$ turns` against the first row's is what \
         carrying the finished stages' findings in the running context costs the turns."
    );

    let f = default.expect("the default model ran");
    let price = prices.price(&f.model).expect("a published price");
    println!(
        "\nThe stage summaries and the report on {} at effort {}, in detail:\n",
        f.model, f.effort
    );
    println!(
        "{:<16} {:>8} {:>12} {:>9} {:>9} {:>9}",
        "requests", "count", "input", "output", "thinking", "$"
    );
    for (label, count, usage, thinking) in [
        (
            "stage summaries",
            f.summary_requests,
            f.summaries,
            f.summary_thinking,
        ),
        ("report", 1, f.report, f.report_thinking),
    ] {
        println!(
            "{:<16} {:>8} {:>12} {:>9} {:>9} {:>9.4}",
            label,
            count,
            input(&usage),
            usage.output_tokens,
            thinking,
            price.cost(&usage)
        );
    }
    let mut writing = f.summaries;
    writing += f.report;
    let mut all = writing;
    all += f.interview;
    println!(
        "{:<16} {:>8} {:>12} {:>9} {:>9} {:>9.4}   ({:.1}% of the interview's ${:.3})",
        "together",
        f.summary_requests + 1,
        input(&writing),
        writing.output_tokens,
        f.summary_thinking + f.report_thinking,
        price.cost(&writing),
        price.cost(&writing) / price.cost(&all) * 100.0,
        price.cost(&all)
    );
    println!(
        "\nThe report request's input: {} bytes of stage summaries, {} input tokens with the \
         instructions; the transcript: {} bytes, {} tokens. The request carries {:.0}% of the \
         transcript's bytes; {} of 9 sections were filled.",
        f.report_prompt_bytes,
        f.report_input_tokens,
        f.transcript_bytes,
        f.transcript_tokens,
        f.report_prompt_bytes as f64 / f.transcript_bytes as f64 * 100.0,
        f.sections
    );
}
