//! Stored interviews for the operator's desk: [`seed`] writes interviews into a sessions
//! directory exactly as the bot leaves them (the active file, `completed/` with the report's
//! Markdown beside it, `archive/`), built from the library's own types and rendered by its own
//! report writer, so that the desk reads what a deployment would hold.
//!
//! The interviews cycle through every state the desk tells apart, alternate the languages,
//! mix typed and spoken answers, carry token usage, offline turns, stage summaries and
//! reports. Everything is derived from the interview's number, so two runs write the same
//! files (save the archive stamps, see [`seed`]). The integration tests and `benches/desk.rs`
//! (which includes this file by path) share it.

use std::path::{Path, PathBuf};

use ai_interviewer::{
    desk::State,
    i18n::Catalog,
    interview::report::render,
    model::{
        Consent, Correction, Fallback, Lang, LastReading, Report, ReportState, Review, Session,
        Stage, StageSummary, Style, Usage, UserId, VoiceClip, Work,
        report::{Area, Claim, Failure, Quote, Row, Step},
        summary::{Decision, Element, ElementKind, Evidence},
    },
    store::STAMP_FORMAT,
};
use chrono::{DateTime, Duration, Utc};

/// Whether an interview in `state` has ended (all nine stages behind it).
fn ended(state: State) -> bool {
    !matches!(state, State::InProgress | State::Idle | State::Abandoned)
}

/// One interview the generator wrote.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// Whose it is.
    pub user: UserId,
    /// The interview's id.
    pub id: u32,
    /// Where it stands.
    pub state: State,
    /// Its language.
    pub language: Lang,
    /// Whether the expert gave consent (all but one interview).
    pub consent: bool,
    /// The session file.
    pub json: PathBuf,
    /// The report's Markdown, once one is written.
    pub report: Option<PathBuf>,
    /// How many of the expert's answers were spoken.
    pub voice_answers: usize,
    /// How many answers there are in all.
    pub answers: usize,
}

/// The user id of the one interview without consent: it must never appear on the desk.
pub const WITHOUT_CONSENT: UserId = UserId(99_999);

/// The user id of interview number `n`.
pub fn user_of(n: usize) -> UserId {
    UserId(100_000 + n as u64)
}

/// Writes `count` interviews with consent, cycling through the desk's states
/// ([`State::ALL`]), plus one without consent (in progress, [`WITHOUT_CONSENT`]), into `dir`;
/// `now` is the moment the desk will look at them from (in progress means active within the
/// hour before it). The folders are created as the store creates them.
pub fn seed(dir: &Path, count: usize, now: DateTime<Utc>) -> Vec<Seeded> {
    seed_states(dir, count, &State::ALL, now)
}

/// As [`seed`], cycling through `states` only (the bench's export wants confirmed reports).
pub fn seed_states(dir: &Path, count: usize, states: &[State], now: DateTime<Utc>) -> Vec<Seeded> {
    let catalog = Catalog::load().expect("the embedded catalog loads");
    for folder in ["completed", "archive", "quarantine", "chats", "profiles"] {
        std::fs::create_dir_all(dir.join(folder)).expect("the sessions folders are created");
    }
    let mut out: Vec<Seeded> = (0..count)
        .map(|n| {
            let state = states[n % states.len()];
            write(dir, &catalog, n, user_of(n), state, true, now)
        })
        .collect();
    out.push(write(
        dir,
        &catalog,
        count,
        WITHOUT_CONSENT,
        State::InProgress,
        false,
        now,
    ));
    out
}

/// Builds interview `n` and writes it where the bot would keep it.
fn write(
    dir: &Path,
    catalog: &Catalog,
    n: usize,
    user: UserId,
    state: State,
    consent: bool,
    now: DateTime<Utc>,
) -> Seeded {
    let session = build(dir, n, user, state, consent, now);
    let stamp = |at: DateTime<Utc>| format!("{user}-{}", at.format(STAMP_FORMAT));
    let (json, report) = match state {
        State::InProgress | State::Idle | State::ReportWriting => {
            (dir.join(format!("{user}.json")), None)
        }
        State::ReportWaiting => (
            dir.join(format!("{user}.json")),
            session.report_path.clone(),
        ),
        State::Confirmed | State::Corrected => {
            let name = stamp(session.finished_at.expect("an ended interview has its end"));
            (
                dir.join("completed").join(format!("{name}.json")),
                session.report_path.clone(),
            )
        }
        // The archive's stamp is when the interview was set aside: a day after its last word.
        State::Abandoned => {
            let name = stamp(session.last_activity + Duration::days(1));
            (dir.join("archive").join(format!("{name}.json")), None)
        }
    };
    if let Some(path) = &report {
        std::fs::write(path, render(&session, catalog)).expect("the report is written");
    }
    let bytes = serde_json::to_vec_pretty(&session).expect("a session encodes");
    std::fs::write(&json, bytes).expect("the session is written");
    Seeded {
        user,
        id: session.id,
        state,
        language: session.language,
        consent,
        json,
        report,
        voice_answers: session
            .transcript
            .iter()
            .filter(|e| !e.voice.is_empty())
            .count(),
        answers: session.answers(),
    }
}

/// The stages interview `n` in `state` has reached (the last one is the current stage).
fn reached(n: usize, state: State) -> usize {
    if ended(state) {
        Stage::COUNT
    } else {
        1 + (n / State::ALL.len()) % (Stage::COUNT - 1)
    }
}

/// Interview `n`, as it stands in `state` at `now`, its report (if any) to be written into
/// `dir`'s `completed/`.
fn build(
    dir: &Path,
    n: usize,
    user: UserId,
    state: State,
    consent: bool,
    now: DateTime<Utc>,
) -> Session {
    let language = if n % 3 == 2 { Lang::Ru } else { Lang::En };
    let style = Style::ALL[n % Style::ALL.len()];
    let domain = &DOMAINS[n % DOMAINS.len()];
    let stages = reached(n, state);
    let answers_per_stage = 2 + n % 3;
    let gap = Duration::seconds(90 + (n % 5) as i64 * 30);
    let turns = (stages * answers_per_stage) as i32;
    // When the last word was said, by state; the interview started that long before it.
    let last = match state {
        State::InProgress => now - Duration::minutes(5 + (n % 40) as i64),
        State::Idle => now - Duration::days(2 + (n % 9) as i64),
        // Within the default retention (30 days, counted from when it was set aside), so a
        // bot started over the folder keeps it.
        State::Abandoned => now - Duration::days(3 + (n % 20) as i64),
        _ => now - Duration::hours(3 + (n % 400) as i64),
    };
    // Two messages a turn, and the interviewer's last word.
    let start = last - gap * (2 * turns + 1);
    let mut session = Session::new(
        1_000 + (n as u32).wrapping_mul(7_919),
        user,
        language,
        style,
        start,
    );
    if consent {
        session.consent = Some(Consent {
            version: "c0ffee12".into(),
            at: start,
        });
    }
    let mut at = start;
    let mut turn = 0;
    for (index, stage) in Stage::ALL.into_iter().take(stages).enumerate() {
        session.stage = stage;
        let first = session.transcript.len();
        for k in 0..answers_per_stage {
            at += gap;
            let question = domain.question(language, stage, k);
            if turn % 11 == 7 {
                let reason = Fallback::ALL[turn % Fallback::ALL.len()];
                session.push_fallback_question(question, reason, at);
                session.usage.record_offline(reason);
            } else {
                session.push_question(question, at);
                session.usage.record(Usage {
                    input_tokens: 900 + 40 * turn as u64,
                    output_tokens: 180 + (turn as u64 % 7) * 25,
                    cache_creation_input_tokens: if turn == 0 { 6_200 } else { 300 },
                    cache_read_input_tokens: 6_200 + 350 * turn as u64,
                });
            }
            if let Some(last) = session.transcript.last_mut() {
                last.delivered = true;
            }
            at += gap;
            let answer = domain.answer(language, stage, k);
            // Every other interview speaks some of its answers, as experts on the move do.
            if n % 2 == 1 && k % 2 == 0 {
                let clip = VoiceClip {
                    duration_ms: 20_000 + (turn as u64 % 9) * 7_000,
                    confidence: 0.78 + (turn % 20) as f64 / 100.0,
                    model: Some("universal".into()),
                };
                session.push_voice_answer(&answer, clip, at);
            } else {
                session.push_answer(&answer, at);
            }
            turn += 1;
        }
        let record = session.record_mut(stage);
        let current = index + 1 == stages && !ended(state);
        record.completeness = if current {
            40 + (n % 5) as u8 * 10
        } else {
            85 + (n % 3) as u8 * 5
        };
        record.examples = 1 + (n % 3) as u32;
        record.insights = vec![domain.insight(language, stage)];
        if !current {
            session
                .summaries
                .insert(stage, summary(&session, stage, first, at, language, domain));
        }
    }
    // The interviewer has the last word, delivered: the next question of a running interview
    // (the expert has not answered yet), the closing words of an ended one. A bot started over
    // the folder then finds no answer waiting for it, and leaves every interview as it is.
    at += gap;
    let last_word = if ended(state) {
        domain.closing(language)
    } else {
        domain.question(language, session.stage, answers_per_stage)
    };
    session.push_question(last_word, at);
    if let Some(entry) = session.transcript.last_mut() {
        entry.delivered = true;
    }
    session.last_reading = Some(LastReading {
        question_depth: 1 + (n % 4) as u8,
        engagement_level: ["high", "medium", "low"][n % 3].into(),
        estimated_time_remaining: format!("{} minutes", 10 + (9 - stages) * 12),
        follow_up_needed: vec![domain.insight(language, Stage::Operations)],
        conversation_quality: "concrete, with examples".into(),
    });
    session.last_input = Some(50_000 + turn as u64);
    finish(&mut session, &dir.join("completed"), state, n, domain);
    session
}

/// Ends the interview as `state` requires: the report's attempt, version and review.
fn finish(session: &mut Session, completed: &Path, state: State, n: usize, domain: &Domain) {
    let language = session.language;
    if !ended(state) {
        return;
    }
    let ended = session.last_activity + Duration::minutes(1);
    session.finished_at = Some(ended);
    session.wrap_up_requested = n.is_multiple_of(4);
    // The report request and the stage summaries are billed to the interview too.
    session.usage.add_tokens(
        Work::Report,
        Usage {
            input_tokens: 14_000,
            output_tokens: 3_800,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 6_200,
        },
    );
    if state == State::ReportWriting {
        session.report = ReportState {
            failures: 1,
            failed_at: Some(ended + Duration::minutes(2)),
            ..ReportState::default()
        };
        return;
    }
    let stamp = ended.format(STAMP_FORMAT);
    session.report_path = Some(completed.join(format!("{}-{stamp}.md", session.user)));
    session.report = ReportState {
        document: Some(report(session, language, domain)),
        version: 1,
        ..ReportState::default()
    };
    match state {
        State::Confirmed => session.report.review = Review::Confirmed,
        State::Corrected => {
            session.report.version = 2;
            session.report.review = Review::Corrected;
            session.report.correction = Some(Correction {
                text: domain.correction(language).into(),
                at: ended + Duration::hours(1),
                applied: true,
            });
        }
        _ => {}
    }
}

/// What stage `stage` yielded: an element per answer, a decision point in operations.
fn summary(
    session: &Session,
    stage: Stage,
    first: usize,
    at: DateTime<Utc>,
    language: Lang,
    domain: &Domain,
) -> StageSummary {
    let kinds = stage_kinds(stage);
    let mut elements = Vec::new();
    let mut decisions = Vec::new();
    for (i, entry) in session.transcript.iter().enumerate().skip(first) {
        if entry.role != ai_interviewer::model::Role::Expert {
            continue;
        }
        let words: String = entry
            .text
            .split_whitespace()
            .take(6)
            .collect::<Vec<_>>()
            .join(" ");
        elements.push(Element {
            kind: kinds[elements.len() % kinds.len()],
            text: domain.insight(language, stage),
            detail: String::new(),
            order: if stage == Stage::Operations {
                elements.len() as u32 + 1
            } else {
                0
            },
            hard: stage == Stage::Operations && elements.len() == 1,
            evidence: Evidence {
                entry: i,
                quote: Some(words),
            },
        });
        if stage == Stage::Operations && decisions.is_empty() {
            decisions.push(Decision {
                situation: domain.pick(
                    language,
                    "the batch looks right but feels wrong",
                    "партия выглядит правильно, но что-то не так",
                ),
                cues: domain.pick(language, "colour, sound, smell", "цвет, звук, запах"),
                strategy: domain.pick(
                    language,
                    "stop, check what changed since the last good run",
                    "остановиться и проверить, что изменилось",
                ),
                novice_error: domain.pick(
                    language,
                    "carry on and fix it later",
                    "продолжать и чинить потом",
                ),
                evidence: Evidence {
                    entry: i,
                    quote: None,
                },
            });
        }
    }
    StageSummary {
        summary: domain.insight(language, stage),
        elements,
        decisions,
        written_at: at,
    }
}

/// The element kinds a stage's summary draws on.
fn stage_kinds(stage: Stage) -> &'static [ElementKind] {
    match stage {
        Stage::Greeting | Stage::Profiling => &[ElementKind::Profile],
        Stage::Essence => &[ElementKind::Principle],
        Stage::Operations => &[ElementKind::Step, ElementKind::Cue, ElementKind::Strategy],
        Stage::ExpertiseMap => &[ElementKind::Area],
        Stage::FailureModes => &[ElementKind::Failure, ElementKind::Error],
        Stage::Mastery => &[ElementKind::Mastery],
        Stage::GrowthPath => &[ElementKind::Learning],
        Stage::WrapUp => &[ElementKind::Advice, ElementKind::Quote],
    }
}

/// The report Claude would write: every section filled, each item citing stage summary
/// elements (`E1…`, numbered over the summaries in plan order), quotes in the expert's words.
fn report(session: &Session, language: Lang, domain: &Domain) -> Report {
    // The element ids each stage's summary holds, numbered as the report cites them.
    let mut by_stage: Vec<(Stage, String)> = Vec::new();
    for (stage, summary) in &session.summaries {
        for _ in &summary.elements {
            by_stage.push((*stage, format!("E{}", by_stage.len() + 1)));
        }
    }
    let cite = |stage: Stage, k: usize| {
        let of_stage: Vec<&String> = by_stage
            .iter()
            .filter(|(s, _)| *s == stage)
            .map(|(_, id)| id)
            .collect();
        vec![of_stage[k % of_stage.len()].clone()]
    };
    let claim = |stage: Stage, k: usize| Claim {
        text: domain.insight(language, stage),
        sources: cite(stage, k),
    };
    let quote = session
        .transcript
        .iter()
        .find(|e| e.role == ai_interviewer::model::Role::Expert)
        .map(|e| {
            e.text
                .split_whitespace()
                .take(8)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    Report {
        summary: domain.pick(language, domain.summary_en, domain.summary_ru),
        profile: vec![claim(Stage::Profiling, 0)],
        essence: vec![claim(Stage::Essence, 0), claim(Stage::Essence, 1)],
        task_diagram: vec![
            Step {
                step: domain.pick(
                    language,
                    "Check what changed since the last good run",
                    "Проверить, что изменилось с последнего удачного запуска",
                ),
                hard: false,
                sources: cite(Stage::Operations, 0),
            },
            Step {
                step: domain.pick(
                    language,
                    "Adjust one variable at a time and watch",
                    "Менять по одному параметру и наблюдать",
                ),
                hard: true,
                sources: cite(Stage::Operations, 1),
            },
        ],
        expertise_map: vec![Area {
            area: domain.pick(
                language,
                "Materials and their moods",
                "Материалы и их капризы",
            ),
            why: domain.insight(language, Stage::ExpertiseMap),
            sources: cite(Stage::ExpertiseMap, 0),
        }],
        incidents: vec![Row {
            situation: domain.pick(
                language,
                "The result looks right but feels wrong",
                "Результат выглядит верно, но что-то не так",
            ),
            cues: domain.pick(language, "Colour, sound, smell", "Цвет, звук, запах"),
            strategy: domain.pick(
                language,
                "Stop and compare with the last good run",
                "Остановиться и сравнить с последним удачным",
            ),
            typical_error: domain.pick(
                language,
                "Carrying on and fixing it later",
                "Продолжать и исправлять потом",
            ),
            sources: cite(Stage::Operations, 2),
        }],
        failure_modes: vec![Failure {
            failure: domain.insight(language, Stage::FailureModes),
            prevention: domain.pick(
                language,
                "A two-minute check before each batch",
                "Двухминутная проверка перед каждой партией",
            ),
            sources: cite(Stage::FailureModes, 0),
        }],
        mastery: vec![claim(Stage::Mastery, 0)],
        growth_path: vec![claim(Stage::GrowthPath, 0)],
        quotes: vec![Quote {
            quote,
            source: cite(Stage::Greeting, 0).remove(0),
        }],
    }
}

/// What each stage teaches, in both languages: the lesson the summaries and the report carry.
const LESSONS: [(&str, &str); 9] = [
    (
        "Prefers concrete cases to general questions",
        "Лучше отвечает на конкретные случаи, чем на общие вопросы",
    ),
    (
        "Fifteen years of practice, the one the team calls when it is unclear",
        "Пятнадцать лет практики; к нему идут, когда непонятно",
    ),
    (
        "Judges by what changed since the last good run, not by the checklist",
        "Судит по тому, что изменилось с последнего удачного раза, а не по чек-листу",
    ),
    (
        "Changes one variable at a time and watches before the next",
        "Меняет по одному параметру и наблюдает, прежде чем менять следующий",
    ),
    (
        "Materials first, then the equipment, then the people",
        "Сначала материалы, потом оборудование, потом люди",
    ),
    (
        "A result that looks right but feels wrong is stopped, not shipped",
        "Результат, который выглядит верно, но ощущается неправильно, останавливают",
    ),
    (
        "Notices what is missing, not only what is there",
        "Замечает то, чего не хватает, а не только то, что есть",
    ),
    (
        "Learned by shadowing nights, could be taught with ten real cases",
        "Учился на ночных сменах рядом со старшим; можно научить на десяти реальных случаях",
    ),
    (
        "Write down what you changed, every time",
        "Записывайте, что вы изменили, каждый раз",
    ),
];

/// A field of expertise: what its expert is asked and says, in both languages.
struct Domain {
    en: &'static str,
    ru: &'static str,
    answer_en: &'static str,
    answer_ru: &'static str,
    summary_en: &'static str,
    summary_ru: &'static str,
}

const DOMAINS: [Domain; 4] = [
    Domain {
        en: "welding of thin-walled stainless pipe",
        ru: "сварка тонкостенных труб из нержавейки",
        answer_en: "Usually I start by checking what changed since the last batch: the supplier, the humidity, who set the machine up. Last month the welds looked fine but the colour was slightly off, and that told me the gas mix had drifted. We found a leaking regulator and lost an hour instead of a week of rework.",
        answer_ru: "Обычно я начинаю с того, что изменилось с прошлой партии: поставщик, влажность, кто настраивал аппарат. В прошлом месяце швы выглядели нормально, но цвет был чуть другой, и я понял, что уплыла газовая смесь. Нашли подтекающий редуктор и потеряли час, а не неделю переделок.",
        summary_en: "A welder who reads the colour of the seam before any gauge, and stops the line on a hunch that is usually right.",
        summary_ru: "Сварщик, который читает цвет шва раньше приборов и останавливает линию по наитию, которое обычно оказывается верным.",
    },
    Domain {
        en: "night shifts in a paediatric ward",
        ru: "ночные смены в детском отделении",
        answer_en: "At three in the morning the numbers on the monitor lie less than the child does not: a quiet baby who was crying an hour ago worries me more than any alarm. I learned to trust that after a night when the saturation looked fine and the skin told another story.",
        answer_ru: "В три часа ночи цифры на мониторе врут меньше, чем ребёнок молчит: тихий малыш, который час назад плакал, тревожит меня больше любой тревоги. Я научилась этому доверять после ночи, когда сатурация была в норме, а кожа говорила другое.",
        summary_en: "A night nurse whose early warnings come from behaviour, not alarms, and who hands over by story, not by checklist.",
        summary_ru: "Ночная медсестра, для которой ранние сигналы — это поведение, а не тревоги мониторов, и которая передаёт смену историей, а не списком.",
    },
    Domain {
        en: "running a payments platform on call",
        ru: "дежурства по платёжной платформе",
        answer_en: "The first thing I look at is not the error rate but the shape of the traffic: a flat line at peak hour is worse than a spike. Once the dashboards were green while a whole bank was silently failing over, and only the missing evening bump gave it away.",
        answer_ru: "Первым делом я смотрю не на процент ошибок, а на форму трафика: ровная линия в час пик хуже любого всплеска. Однажды дашборды были зелёными, а целый банк тихо отваливался, и выдал его только пропавший вечерний горб.",
        summary_en: "An on-call engineer who watches for what is missing from the graphs, and keeps a written trail while fixing.",
        summary_ru: "Дежурный инженер, который ищет на графиках то, чего там нет, и ведёт записи прямо во время починки.",
    },
    Domain {
        en: "sourdough baking at a neighbourhood bakery",
        ru: "хлеб на закваске в районной пекарне",
        answer_en: "The recipe is a starting point; the dough tells me the rest. On a humid morning I cut the water by a few percent before I even touch it, and I poke the dough rather than trusting the clock. A new baker follows the timer and wonders why Tuesday's bread is flat.",
        answer_ru: "Рецепт — это только начало, остальное подсказывает тесто. Во влажное утро я убираю пару процентов воды ещё до замеса и проверяю тесто пальцем, а не по часам. Новичок идёт по таймеру и удивляется, почему во вторник хлеб плоский.",
        summary_en: "A baker who adjusts to the weather before the dough shows it, and judges proof by touch rather than time.",
        summary_ru: "Пекарь, который подстраивается под погоду раньше, чем это покажет тесто, и определяет расстойку на ощупь, а не по времени.",
    },
];

impl Domain {
    fn pick(&self, language: Lang, en: &str, ru: &str) -> String {
        match language {
            Lang::En => en.to_owned(),
            Lang::Ru => ru.to_owned(),
        }
    }

    fn question(&self, language: Lang, stage: Stage, k: usize) -> String {
        match language {
            Lang::En => format!(
                "Thank you, that helps. About {}: {} — could you walk me through a recent case (question {} of this part)?",
                self.en,
                stage.goal(),
                k + 1
            ),
            Lang::Ru => format!(
                "Спасибо, это важно. Про {}: расскажите, пожалуйста, о недавнем случае — что вы заметили первым и что сделали (вопрос {} этой части)?",
                self.ru,
                k + 1
            ),
        }
    }

    fn answer(&self, language: Lang, stage: Stage, k: usize) -> String {
        let text = self.pick(language, self.answer_en, self.answer_ru);
        match (language, k) {
            (_, 0) => text,
            (Lang::En, _) => format!(
                "{text} In {} it is the same idea, only slower.",
                stage.id().replace('_', " ")
            ),
            (Lang::Ru, _) => format!("{text} Здесь то же самое, только медленнее."),
        }
    }

    fn insight(&self, language: Lang, stage: Stage) -> String {
        let (en, ru) = LESSONS[stage.index()];
        match language {
            Lang::En => format!("{en} ({})", self.en),
            Lang::Ru => format!("{ru} ({})", self.ru),
        }
    }

    fn closing(&self, language: Lang) -> String {
        match language {
            Lang::En => {
                "Thank you, that is everything I wanted to ask. Your report follows.".into()
            }
            Lang::Ru => "Спасибо, это всё, о чём я хотел спросить. Ниже будет ваш отчёт.".into(),
        }
    }

    fn correction(&self, language: Lang) -> &'static str {
        match language {
            Lang::En => {
                "The second step is wrong: I never change two settings at once, please say one at a time."
            }
            Lang::Ru => {
                "Второй шаг неверен: я никогда не меняю два параметра сразу, напишите — по одному."
            }
        }
    }
}
