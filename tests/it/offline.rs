//! The offline interviewer and its report, through the console binary with piped input:
//! whole interviews in each language with /complete half way, a thin answer probed once, a
//! question that builds on a case asked only when a case was told, a read-back that quotes
//! the expert, a correction standing next to what it corrects, and the revision shown once.

use std::{
    io::Write,
    process::{Command, Stdio},
};

use ai_interviewer::{
    i18n::{Catalog, Lang},
    interview::{QuestionBank, Stage, bank::Variant},
};

use crate::support::binary;

/// Runs the console in `lang` on `lines` to the end of the input; returns what it printed
/// and the report file it left in `completed/`, if any.
fn run(lang: &str, lines: &[String]) -> (String, Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd: Command = binary(dir.path());
    cmd.args(["console", "--lang", lang]).stdin(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all((lines.join("\n") + "\n").as_bytes())
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_dir(dir.path().join("completed"))
        .ok()
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| std::fs::read_to_string(p).unwrap());
    (stdout, report)
}

/// `n` distinct answers that tell no case and walk through nothing, long enough to be taken
/// as they are (no digits: a number would read as a particular case).
fn plain(lang: Lang, n: usize) -> Vec<String> {
    const TAGS: [&str; 12] = [
        "alder", "birch", "cedar", "elm", "fir", "hazel", "larch", "maple", "oak", "pine", "rowan",
        "willow",
    ];
    (0..n)
        .map(|i| {
            let tag = format!("{}-{}", TAGS[i % 12], TAGS[i / 12 % 12]);
            match lang {
                Lang::En => format!(
                    "Plain answer {tag}: I usually check every weld twice because people who \
                     rush tend to miss the small cracks that grow into real trouble."
                ),
                Lang::Ru => format!(
                    "Обычный ответ {tag}: я всегда проверяю каждый шов дважды, потому что \
                     торопливые люди пропускают мелкие трещины, из которых потом вырастают беды."
                ),
            }
        })
        .collect()
}

fn bank() -> QuestionBank {
    QuestionBank::from_catalog(&Catalog::load().unwrap()).unwrap()
}

/// Every question text of the bank, variants included, in both languages.
fn bank_texts() -> Vec<String> {
    let bank = bank();
    let mut out = Vec::new();
    for lang in Lang::ALL {
        for stage in Stage::ALL {
            for i in 0..bank.len(lang, stage) {
                out.extend(bank.get(lang, stage, i).map(str::to_owned));
                for v in [Variant::General, Variant::Walked] {
                    out.extend(bank.variant(lang, stage, i, v).map(str::to_owned));
                }
            }
        }
    }
    out
}

/// The checks every offline report passes: nine distinct numbered headings, a reference on
/// every item, no bank question repeated as a finding, and the stages /complete skipped
/// marked as not covered.
fn check_report(report: &str, skipped_mark: &str, skipped: &[&str]) {
    let headings: Vec<&str> = report.lines().filter(|l| l.starts_with("## ")).collect();
    let numbered: Vec<&str> = headings
        .iter()
        .copied()
        .filter(|h| h[3..].starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(numbered.len(), 9, "{headings:?}");
    let titles: std::collections::BTreeSet<&str> = numbered
        .iter()
        .map(|h| h.split_once(". ").unwrap().1)
        .collect();
    assert_eq!(titles.len(), 9, "section headings repeat: {numbered:?}");
    let items: Vec<&str> = report
        .lines()
        .filter(|l| {
            l.starts_with("- “")
                || l.starts_with("- «")
                || (l.starts_with("| ") && !l.starts_with("|---") && l.contains("*["))
                || l.split_once(". ").is_some_and(|(n, rest)| {
                    n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() && !rest.is_empty()
                })
        })
        .collect();
    assert!(items.len() >= 10, "{report}");
    for item in &items {
        assert!(
            item.contains("*[") && item.contains(":"),
            "no reference: {item}"
        );
    }
    for question in bank_texts() {
        assert!(
            !report.contains(&question),
            "a bank question as a finding: {question}"
        );
    }
    for stage in skipped {
        assert!(
            report
                .lines()
                .any(|l| l.contains(stage) && l.contains(skipped_mark)),
            "{stage} not marked as skipped:\n{report}"
        );
    }
}

#[test]
fn a_thin_answer_gets_one_probe_and_no_question_builds_on_a_case_never_told() {
    let mut lines = plain(Lang::En, 8);
    lines.push("Hard to say, it's mostly experience".into());
    lines.push("It depends.".into());
    lines.push("/quit".into());
    let (stdout, _) = run("en", &lines);
    let bank = bank();
    let voice = bank.voice(Lang::En, Default::default()).unwrap();
    assert_eq!(stdout.matches(&voice.probe).count(), 1, "{stdout}");
    let general = bank
        .variant(Lang::En, Stage::Essence, 1, Variant::General)
        .unwrap();
    assert!(stdout.contains(general), "{stdout}");
    assert!(!stdout.contains("What in that piece of work"), "{stdout}");
    // The probe came right after the thin answer, before the next bank question.
    let probe_at = stdout.find(&voice.probe).unwrap();
    assert!(probe_at < stdout.find(general).unwrap());
}

#[test]
fn a_skipped_question_gets_no_probe_and_counts_as_unanswered_in_the_report() {
    // Greeting 4, profile 4: the first essence question is skipped, then /complete.
    let mut lines = plain(Lang::En, 8);
    lines.push("/skip".into());
    lines.push("/complete".into());
    lines.extend(plain(Lang::En, 20).into_iter().skip(15).take(4));
    lines.push("y".into());
    let (stdout, report) = run("en", &lines);
    let bank = bank();
    let voice = bank.voice(Lang::En, Default::default()).unwrap();
    assert!(stdout.contains("Question skipped."), "{stdout}");
    assert!(!stdout.contains(&voice.probe), "{stdout}");
    let report = report.expect("a report is saved");
    assert!(!report.contains("skip this question"), "{report}");
    assert!(report.contains("not answered"), "{report}");
}

const INCIDENT_EN: &str = "Last March the line failed its pressure test. First the gauge dropped \
    at 20:07 and I stopped the test. Then I walked the line and found a weep at a tie-in weld. \
    After that we cut it out and rewelded it, and by 23:40 the test passed.";

#[test]
fn an_english_offline_interview_reads_back_the_incident_and_ends_in_a_report_by_topic() {
    // Greeting 4, profile 4, essence 5, operations 6, expertise map 7.
    let mut lines = plain(Lang::En, 26);
    lines.push(INCIDENT_EN.into());
    lines.push("Yes, that's right.".into());
    // The timeline is not asked again: failure modes 3 to 8.
    lines.extend(plain(Lang::En, 40).into_iter().skip(30).take(6));
    // Mastery's first question is asked; the expert finishes early from there.
    lines.push("/complete".into());
    lines.extend(plain(Lang::En, 50).into_iter().skip(45).take(1));
    lines.push("The gauge dropped at 20:05, not 20:07.".into());
    lines.extend(plain(Lang::En, 50).into_iter().skip(47).take(1));
    lines.push("Read the joint before you strike the arc, every single time.".into());
    lines.push("It was the hydrostatic pressure test, not a pneumatic one.".into());
    let (stdout, report) = run("en", &lines);
    let report = report.expect("a report is saved");

    // The read-back quotes the expert's own sentences and asks whether they are right.
    let voice = bank().voice(Lang::En, Default::default()).unwrap().clone();
    assert!(
        stdout.contains(&format!(
            "{}\n\n“First the gauge dropped at 20:07 and I stopped the test.",
            voice.read_back
        )),
        "{stdout}"
    );
    assert!(stdout.contains(&voice.check));
    assert!(
        !stdout.contains("Let's lay that incident out in order"),
        "{stdout}"
    );
    // Mastery builds on the incident walked instead of asking for another one.
    assert!(stdout.contains("Think back to the incident you walked me through"));
    assert!(!stdout.contains("Think of a recent hard case"));

    check_report(
        &report,
        "the interview ended before this stage",
        &["Growth path"],
    );
    assert!(report.contains("without the language model"), "{report}");
    assert!(!report.contains("findings and insights"), "{report}");
    // The wrap-up's correction stands in the incident's own cell, right after the words it
    // corrects, and nowhere else.
    let row = report
        .lines()
        .find(|l| l.contains("20:07 and I stopped"))
        .expect("the incident is in the table");
    assert!(row.starts_with("| "), "{row}");
    let (said, fixed) = (
        row.find("20:07 and I stopped").unwrap(),
        row.find("✏️").unwrap(),
    );
    assert!(
        said < fixed && row[fixed..].contains("20:05, not 20:07"),
        "{row}"
    );
    assert_eq!(report.matches("20:05, not 20:07").count(), 1, "{report}");
    // So does the review's, and the revision is shown once: the corrected passages only.
    assert!(report.contains("hydrostatic pressure test"));
    assert_eq!(stdout.matches("# Knowledge report").count(), 1, "{stdout}");
    assert_eq!(stdout.matches("## 1. The expert's profile").count(), 1);
    let after_review = &stdout[stdout.rfind("to confirm the report").unwrap()..];
    assert!(after_review.contains("hydrostatic"), "{after_review}");
    assert!(
        after_review.contains("20:07 and I stopped"),
        "{after_review}"
    );
}

#[test]
fn a_russian_offline_interview_ends_in_a_report_by_topic_with_skipped_stages_marked() {
    // Greeting 4, profile 4, essence 5: then /complete, in operations' first question.
    let mut lines = plain(Lang::Ru, 13);
    lines.push(
        "Однажды в прошлом году на объекте упало давление. Сначала я проверил манометр и \
         позвонил мастеру. Потом мы перекрыли линию и нашли трещину у сварного шва."
            .into(),
    );
    lines.push("Да, всё так.".into());
    lines.push("/complete".into());
    lines.extend(plain(Lang::Ru, 20).into_iter().skip(15).take(4));
    lines.push("д".into());
    let (stdout, report) = run("ru", &lines);
    let report = report.expect("a report is saved");
    assert!(
        stdout.contains("Позвольте пересказать вашими же словами:\n\n«Сначала я проверил манометр"),
        "{stdout}"
    );
    check_report(
        &report,
        "до этого этапа интервью не дошло",
        &["Ошибки и сбои", "Мастерство", "Путь развития"],
    );
    assert!(
        report.starts_with("# Отчёт о профессиональном опыте"),
        "{report}"
    );
    assert!(report.contains("ничего не проанализировано"), "{report}");
    assert!(!report.contains("экспертиз"), "{report}");
}
