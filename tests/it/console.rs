//! The console binary, driven through stdin.

use std::{
    io::Write,
    process::{Command, Stdio},
    time::Duration,
};

use crate::support::{FakeAnthropic, Reply, anthropic::API_KEY, binary};

fn console(sessions: &std::path::Path) -> Command {
    let mut cmd = binary(sessions);
    cmd.arg("console").stdin(Stdio::piped());
    cmd
}

#[test]
fn an_offline_console_interview_runs_to_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = console(dir.path()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut script = String::from("\n/status\n");
    // Short answers: the offline interviewer probes once after many of them.
    for i in 0..160 {
        script.push_str(&format!("My answer number {i}.\n"));
    }
    stdin.write_all(script.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first_line = stdout.lines().next().unwrap();
    assert!(first_line.contains("ANTHROPIC_API_KEY"), "{first_line}");
    assert!(stdout.contains("Your message looks empty"));
    assert!(stdout.contains("Stage 1 of 9"));
    assert!(stdout.contains("— 9/9 · Wrap-up —"));
    assert!(stdout.contains("Knowledge report"));
    // The answer to the field question stands in the profile, with its reference.
    assert!(
        stdout.contains("- “My answer number 1.” *[Greeting, "),
        "{stdout}"
    );
    let completed: Vec<_> = std::fs::read_dir(dir.path().join("completed"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(completed.len(), 2, "{completed:?}");
    assert!(!dir.path().join("0.json").exists());
}

#[test]
fn the_console_speaks_russian_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = console(dir.path())
        .args(["--lang", "ru", "--style", "stage_specific"])
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("Анна, сварщик\n/status\n/quit\n".as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("офлайн-банку"), "{stdout}");
    assert!(stdout.contains("Этап 1 из 9"), "{stdout}");
    assert!(stdout.contains("Глубокое погружение"), "{stdout}");
    assert!(stdout.contains("Интервью сохранено"), "{stdout}");
    assert!(
        dir.path().join("0.json").exists(),
        "the interview is kept for next time"
    );
}

#[tokio::test]
async fn a_console_killed_mid_call_answers_the_saved_message_on_the_next_start() {
    let fake = FakeAnthropic::start().await;
    let dir = tempfile::tempdir().unwrap();
    let online = |cmd: &mut Command| {
        cmd.env("ANTHROPIC_API_KEY", API_KEY)
            .env("ANTHROPIC_BASE_URL", &fake.url);
    };
    let mut first = console(dir.path());
    online(&mut first);
    let mut child = first.spawn().unwrap();
    // The opening turn is answered; the next call hangs until the process is killed.
    fake.script([Reply::Auto, Reply::Hang(Duration::from_secs(60))]);
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"I build bridges.\n")
        .unwrap();
    crate::support::eventually("the answer reached the fake", async || fake.count() >= 2).await;
    child.kill().unwrap();
    child.wait().unwrap();

    let mut second = console(dir.path());
    online(&mut second);
    let mut child = second.spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"/quit\n").unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(fake.turn_count(), 3, "the saved message was sent again");
    let blocks = fake.last_user_blocks(2);
    assert_eq!(blocks[blocks.len() - 2], "I build bridges.");
    assert!(
        stdout.contains("[profiling]") || stdout.contains("[greeting]"),
        "{stdout}"
    );
}

#[tokio::test]
async fn the_console_runs_from_a_directory_without_prompts_on_its_built_in_ones() {
    let fake = FakeAnthropic::start().await;
    let dir = tempfile::tempdir().unwrap();
    assert!(!dir.path().join("prompts").exists());
    let mut cmd = console(dir.path());
    cmd.env("ANTHROPIC_API_KEY", API_KEY)
        .env("ANTHROPIC_BASE_URL", &fake.url)
        .env_remove("PROMPTS_DIR");
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"I restore violins.\n/quit\n")
        .unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Could you tell me more"),
        "Claude asked: {stdout}"
    );
    // The opening turn and the answer's, which moved on to the next stage: the finished
    // stage's summary was written after it.
    assert_eq!(fake.turn_count(), 2);
    assert_eq!(fake.writing().len(), 1);
    assert_eq!(fake.writing()[0].0, "summary");
    let system = fake.received()[0].body["system"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        system.contains("## The turn contract") && system.contains("held in English"),
        "the built-in prompts reached Claude"
    );
}

/// Runs the console with `script` piped in; returns what it printed and the saved session.
fn piped(dir: &std::path::Path, args: &[&str], script: &str) -> (String, serde_json::Value) {
    let mut child = console(dir).args(args).spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    let saved = std::fs::read_to_string(dir.join("0.json")).unwrap();
    (stdout, serde_json::from_str(&saved).unwrap())
}

fn expert_entries(session: &serde_json::Value) -> Vec<String> {
    session["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["role"] == "expert")
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn piped_lines_take_a_quoted_block_as_one_answer_and_refuse_unknown_commands() {
    let dir = tempfile::tempdir().unwrap();
    let script = "/foo\n/start\n\"\"\"\nI am a welder.\n\n/usr/bin is not my world: pipelines are.\n\"\"\"\nAnna\n/skip\n";
    let (stdout, session) = piped(dir.path(), &[], script);
    assert!(stdout.contains("Unknown command: /foo"), "{stdout}");
    assert!(stdout.contains("Unknown command: /start"), "{stdout}");
    assert!(
        stdout.contains("An answer of several lines"),
        "how to close the block is said: {stdout}"
    );
    assert!(stdout.contains("Question skipped."), "{stdout}");
    assert_eq!(
        expert_entries(&session),
        [
            "I am a welder.\n\n/usr/bin is not my world: pipelines are.",
            "Anna",
            "(I'd rather skip this question.)"
        ]
    );
    let skipped = &session["stages"][session["stage"].as_str().unwrap()]["skipped"];
    assert_eq!(skipped[0]["answer"], 5, "{session}");
    assert_eq!(skipped[0]["question"], 4, "{session}");
    // The input ended: the console says the interview is kept.
    assert!(
        stdout
            .trim_end()
            .ends_with("Run the same command to continue. Goodbye!"),
        "{stdout}"
    );
}

#[test]
fn a_piped_reset_asks_first_in_russian_and_takes_cyrillic_letters() {
    let dir = tempfile::tempdir().unwrap();
    let script = "Анна\n/reset\nможет быть\nн\n/reset\nд\n";
    let (stdout, session) = piped(dir.path(), &["--lang", "ru"], script);
    assert!(
        stdout.contains("Введите д (y) — да или н (n) — нет:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Введите, пожалуйста, д (y) или н (n)."),
        "{stdout}"
    );
    assert!(
        stdout.contains("Ничего не отправлено в архив: интервью продолжается."),
        "{stdout}"
    );
    assert!(
        stdout.contains("Прошлое интервью перенесено в архив. Начинаем новое."),
        "{stdout}"
    );
    assert!(
        expert_entries(&session).is_empty(),
        "a new interview: {session}"
    );
}

#[test]
fn the_review_refuses_commands_as_corrections_and_takes_da() {
    let dir = tempfile::tempdir().unwrap();
    // /complete twice: the closing question, then the end and the report.
    let script = "Anna\n/complete\n/complete\n/foo\nн\n/quit\n";
    let (stdout, session) = piped(dir.path(), &["--lang", "ru"], script);
    let review = stdout
        .find("Введите д (y), чтобы подтвердить отчёт")
        .unwrap_or_else(|| panic!("{stdout}"));
    let after = &stdout[review..];
    assert!(after.contains("Неизвестная команда: /foo"), "{after}");
    assert!(after.contains("Напишите, что исправить"), "{after}");
    assert!(after.contains("Интервью сохранено."), "{after}");
    assert!(
        session["report"].get("correction").is_none(),
        "no command or no was taken as a correction: {session}"
    );
    let mut child = console(dir.path()).spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("д\n".as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("Отчёт подтверждён"), "{stdout}");
    assert!(!dir.path().join("0.json").exists(), "archived");
}

#[test]
fn an_idle_interview_resumes_on_a_cyrillic_letter_shown_in_the_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut session) = piped(dir.path(), &["--lang", "ru"], "Анна\n/quit\n");
    // A day without a word: past the idle timeout, the console asks before going on.
    session["last_activity"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(dir.path().join("0.json"), session.to_string()).unwrap();
    let (stdout, session) = piped(dir.path(), &[], "может быть\nп\n/quit\n");
    let prompt = "Введите п (r), чтобы продолжить, или з (s), чтобы начать заново:";
    assert_eq!(stdout.matches(prompt).count(), 2, "asked again: {stdout}");
    assert_eq!(expert_entries(&session), ["Анна"], "resumed, not restarted");
}
