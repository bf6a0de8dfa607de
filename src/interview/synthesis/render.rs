//! The synthesis as a Markdown document for the organisation's operators: each claim with how
//! many experts gave it and the ids it rests on, the sides of a disagreement quoted, and at the
//! end every id cited with the item's words, so each reference resolves in the document.

use std::fmt::Write;

use super::{Finding, Synthesis};
use crate::model::{Lang, Stage};

/// The document's fixed words in one language.
struct Words {
    title: &'static str,
    experts: &'static str,
    of: &'static str,
    not_analysed: &'static str,
    left_out: &'static str,
    dropped: &'static str,
    cost: &'static str,
    headings: [&'static str; 9],
    references: &'static str,
    stage: &'static str,
    nothing: &'static str,
}

const EN: Words = Words {
    title: "Synthesis",
    experts: "experts",
    of: "of",
    not_analysed: "Not analysed: Claude was not available, so this is the experts' report items \
                   merged by section, each with its reference, without counts, comparison or \
                   questions.",
    left_out: "report(s) made without Claude have no structured items and are left out",
    dropped: "claim(s) citing no report item were dropped",
    cost: "Cost",
    headings: [
        "Shared task diagram",
        "Cues",
        "Strategies",
        "Typical errors",
        "Disagreements",
        "Failure modes",
        "What only one expert knows",
        "Gaps",
        "Questions for the next experts",
    ],
    references: "References",
    stage: "stage",
    nothing: "Nothing here.",
};

const RU: Words = Words {
    title: "Синтез",
    experts: "экспертов",
    of: "из",
    not_analysed: "Без анализа: Claude был недоступен, поэтому здесь пункты отчётов экспертов, \
                   сведённые по разделам, каждый со ссылкой, без подсчётов, сравнения и вопросов.",
    left_out: "отчёт(ов), составленных без Claude, не имеют структурированных пунктов и не вошли",
    dropped: "утверждений без ссылки на пункт отчёта отброшено",
    cost: "Стоимость",
    headings: [
        "Общая схема задачи",
        "Сигналы",
        "Стратегии",
        "Типичные ошибки",
        "Разногласия",
        "Сбои",
        "Что знает только один эксперт",
        "Пробелы",
        "Вопросы следующим экспертам",
    ],
    references: "Ссылки",
    stage: "этап",
    nothing: "Пусто.",
};

/// The report sections' names, for the merged document.
fn section_name(lang: Lang, id: &str) -> &'static str {
    let en = [
        ("profile", "Profiles", "Профили"),
        ("essence", "Essence of the role", "Суть роли"),
        ("task_diagram", "Task diagram", "Схема задачи"),
        ("expertise_map", "Expertise map", "Карта знаний"),
        (
            "incidents",
            "Cues, strategies and typical errors",
            "Сигналы, стратегии и типичные ошибки",
        ),
        ("failure_modes", "Failure modes", "Сбои"),
        ("mastery", "Mastery", "Мастерство"),
        ("growth_path", "Growth path", "Путь роста"),
        ("quotes", "Quotes", "Цитаты"),
    ];
    en.iter()
        .find(|(i, _, _)| *i == id)
        .map_or("", |(_, e, r)| if lang == Lang::Ru { r } else { e })
}

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Ru => &RU,
        Lang::En => &EN,
    }
}

/// The Markdown document of `synthesis`.
pub fn render(synthesis: &Synthesis) -> String {
    let w = words(synthesis.language);
    let n = synthesis.experts.len();
    let mut out = format!("# {}: {}\n\n", w.title, synthesis.title);
    let _ = write!(
        out,
        "{n} {} · {}",
        w.experts,
        synthesis.written_at.format("%Y-%m-%d %H:%M UTC")
    );
    if let Some(model) = &synthesis.model {
        let _ = write!(out, " · {model}");
    }
    if let Some(cost) = synthesis.cost_usd {
        let _ = write!(out, " · {} ${cost:.4}", w.cost);
    }
    out.push_str("\n\n");
    // Who the labels are: for the operators, who alone read this document.
    for expert in &synthesis.experts {
        let _ = write!(
            out,
            "- {}: user {}, interview {}",
            expert.label, expert.user, expert.session
        );
        if let Some(at) = expert.finished_at {
            let _ = write!(out, ", {}", at.format("%Y-%m-%d"));
        }
        out.push('\n');
    }
    out.push('\n');
    if synthesis.left_out > 0 {
        let _ = writeln!(out, "_{} {}._\n", synthesis.left_out, w.left_out);
    }
    if !synthesis.analysed {
        let _ = writeln!(out, "> {}\n", w.not_analysed);
        for merged in &synthesis.merged {
            let _ = writeln!(
                out,
                "## {}\n",
                section_name(synthesis.language, &merged.section)
            );
            for id in &merged.items {
                if let Some(item) = synthesis.references.get(id) {
                    let _ = writeln!(out, "- {} ({id})", item.text);
                }
            }
            out.push('\n');
        }
        return out;
    }
    if !synthesis.summary.is_empty() {
        let _ = writeln!(out, "{}\n", synthesis.summary);
    }
    if synthesis.dropped > 0 {
        let _ = writeln!(out, "_{} {}._\n", synthesis.dropped, w.dropped);
    }
    let count = |f: &Finding| format!("**{} {} {n}**", f.experts, w.of);
    let lists = [
        (0, &synthesis.task_diagram, true),
        (1, &synthesis.cues, false),
        (2, &synthesis.strategies, false),
        (3, &synthesis.typical_errors, false),
    ];
    for (heading, findings, numbered) in lists {
        let _ = writeln!(out, "## {}\n", w.headings[heading]);
        if findings.is_empty() {
            let _ = writeln!(out, "{}\n", w.nothing);
            continue;
        }
        for (i, f) in findings.iter().enumerate() {
            let mark = if numbered {
                format!("{}.", i + 1)
            } else {
                "-".to_owned()
            };
            let _ = writeln!(
                out,
                "{mark} {} — {} ({})",
                f.text,
                count(f),
                f.sources.join(", ")
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## {}\n", w.headings[4]);
    if synthesis.disagreements.is_empty() {
        let _ = writeln!(out, "{}\n", w.nothing);
    }
    for d in &synthesis.disagreements {
        let _ = writeln!(out, "### {}\n", d.topic);
        for side in &d.sides {
            let _ = writeln!(
                out,
                "- {} ({})\n  > {}",
                side.position,
                side.sources.join(", "),
                side.quote
            );
        }
        out.push('\n');
    }
    for (heading, findings) in [
        (5, &synthesis.failure_modes),
        (6, &synthesis.unique),
        (7, &synthesis.gaps),
    ] {
        let _ = writeln!(out, "## {}\n", w.headings[heading]);
        if findings.is_empty() {
            let _ = writeln!(out, "{}\n", w.nothing);
            continue;
        }
        for f in findings {
            let counted = if heading == 5 {
                format!(" — {}", count(f))
            } else {
                String::new()
            };
            let _ = writeln!(out, "- {}{counted} ({})", f.text, f.sources.join(", "));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## {}\n", w.headings[8]);
    if synthesis.questions.is_empty() {
        let _ = writeln!(out, "{}\n", w.nothing);
    }
    for stage in Stage::ALL {
        for q in synthesis.questions.iter().filter(|q| q.stage == stage) {
            let _ = writeln!(
                out,
                "- [{} {}] {} ({})",
                w.stage,
                stage.number(),
                q.question,
                q.sources.join(", ")
            );
        }
    }
    let _ = writeln!(out, "\n## {}\n", w.references);
    for (id, item) in &synthesis.references {
        let _ = writeln!(out, "- **{id}** ({}): {}", item.section, item.text);
    }
    out
}
