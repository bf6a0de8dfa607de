//! Tokens and dollars of a whole interview, printed (not asserted).
//!
//! A full 120-turn interview plus its report runs through the real engine and Claude client
//! against the fake Anthropic API, whose usage counts model prompt caching (breakpoints, the
//! 20-block lookback, the minimum cacheable prefix per generation), the tokenizer (30% more
//! tokens from generation 5 on) and thinking (by effort, counted as output). The fake replies
//! at a realistic length: a question of a few sentences with an acknowledgement, an insight
//! and a follow-up per turn, a summary of several hundred words. The expert answers about 90
//! words a turn, one turn a minute. The 120 turns are spread over the stages in proportion
//! to their time budgets.
//!
//! For each model: uncached input, cache writes, cache reads, output, the dollars at the
//! published prices (`llm::pricing`, five-minute cache writes), and the share of input read
//! from the cache.
//!
//! Run with `cargo bench --bench interview_cost`.

#[path = "../tests/it/support/anthropic.rs"]
#[allow(dead_code)]
mod anthropic;

use std::{sync::Arc, time::Duration};

use ai_interviewer::{
    i18n::{Catalog, Lang},
    interview::{
        Engine, EngineConfig, ManualClock, Outcome, Prompts, QuestionBank, Stage, Style, UserId,
    },
    llm::{ClaudeClient, Model, PriceTable, wire::Usage},
    settings::Settings,
    store::SessionStore,
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
    report: Usage,
    thinking: u64,
}

fn add(total: &mut Usage, usage: anthropic::Usage) {
    total.input_tokens += usage.input;
    total.cache_creation_input_tokens += usage.cache_write;
    total.cache_read_input_tokens += usage.cache_read;
    total.output_tokens += usage.output;
}

async fn interview(model: &str, effort: &str) -> Figures {
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
        SessionStore::open(dir.path()).unwrap(),
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
    let user = UserId(11);
    engine
        .begin(user, Lang::En, Style::MasterInterviewer)
        .await
        .unwrap();
    let mut offline = 0;
    for i in 1.. {
        clock.advance(Duration::from_secs(60));
        match engine
            .answer(user, &answer_text(i), std::future::pending())
            .await
            .unwrap()
        {
            Outcome::Reply(reply) => offline += u32::from(reply.offline),
            Outcome::Finished(_) => break,
            other => panic!("{other:?}"),
        }
        assert!(i < 200, "the interview never ended");
    }
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
        report: Usage::default(),
        thinking: 0,
    };
    for r in &received {
        figures.thinking += r.usage.thinking;
        let is_turn = r.body["output_config"]["format"]["schema"]["properties"]
            .get("interview_stage")
            .is_some();
        if is_turn {
            figures.turns += 1;
            add(&mut figures.interview, r.usage);
        } else {
            add(&mut figures.report, r.usage);
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
        ("claude-sonnet-5-5", "low"),
        ("claude-sonnet-4-6", "low"),
        ("claude-haiku-5-5", "low"),
        ("claude-sonnet-5", "low"),
        ("claude-sonnet-5-5", "medium"),
        ("claude-sonnet-5-5", "high"),
    ];
    println!(
        "A 120-turn interview plus its report against the fake Anthropic API (tokens; dollars at \
         the published prices, five-minute cache writes)\n"
    );
    println!(
        "{:<19} {:<7} {:>6} {:>10} {:>11} {:>10} {:>9} {:>9} {:>8} {:>8} {:>8} {:>7}",
        "model",
        "effort",
        "turns",
        "uncached",
        "cache write",
        "cache read",
        "output",
        "thinking",
        "$ turns",
        "$ report",
        "$ total",
        "cached"
    );
    for (model, effort) in runs {
        let f = runtime.block_on(interview(model, effort));
        assert_eq!(f.offline, 0, "{model}: offline turns");
        let mut total = f.interview;
        total += f.report;
        let price = prices.price(&f.model).expect("a published price");
        let share = total.cache_read_input_tokens as f64 / input(&total) as f64;
        println!(
            "{:<19} {:<7} {:>6} {:>10} {:>11} {:>10} {:>9} {:>9} {:>8.3} {:>8.3} {:>8.3} {:>6.1}%",
            f.model,
            f.effort,
            f.turns,
            total.input_tokens,
            total.cache_creation_input_tokens,
            total.cache_read_input_tokens,
            total.output_tokens,
            f.thinking,
            price.cost(&f.interview),
            price.cost(&f.report),
            price.cost(&total),
            share * 100.0
        );
    }
    println!(
        "\n`cached` is the share of all input tokens (turns and report) read from the cache. \
         The report's request (the whole interview, sent once) is not cached. Thinking is the \
         fake's model of it (400/1,500/3,000 tokens at low/medium/high), billed as output."
    );
}
