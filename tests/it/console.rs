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
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while fake.count() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the answer never reached the fake"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
