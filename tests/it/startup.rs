//! Start-up on the binary: failures in one clear line naming the problem with exit code 2 (bad
//! settings, prompts, the Anthropic key or model), what only warns, prompt overrides, and no
//! secret in logs.

use std::process::Output;

use crate::support::{FakeAnthropic, Reply, anthropic::API_KEY, binary};

fn run(vars: &[(&str, &str)], sessions: &std::path::Path) -> Output {
    let mut cmd = binary(sessions);
    cmd.arg("console");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn one_error_line(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

#[test]
fn a_malformed_number_stops_start_up_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let line = one_error_line(&run(&[("CLAUDE_MAX_TOKENS", "many")], dir.path()));
    assert!(
        line.contains("CLAUDE_MAX_TOKENS") && line.contains("\"many\""),
        "{line}"
    );
}

#[test]
fn an_empty_prompt_override_stops_start_up_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let prompts = tempfile::tempdir().unwrap();
    std::fs::write(prompts.path().join("stage_specific.md"), "  \n").unwrap();
    let line = one_error_line(&run(
        &[("PROMPTS_DIR", prompts.path().to_str().unwrap())],
        dir.path(),
    ));
    assert!(
        line.contains("PROMPTS_DIR")
            && line.contains("stage_specific.md")
            && line.contains("empty"),
        "{line}"
    );
}

#[test]
fn a_prompts_dir_that_does_not_exist_stops_start_up_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-prompts");
    let line = one_error_line(&run(
        &[("PROMPTS_DIR", missing.to_str().unwrap())],
        dir.path(),
    ));
    assert!(
        line.contains("PROMPTS_DIR") && line.contains("no-such-prompts"),
        "{line}"
    );
}

#[tokio::test]
async fn a_prompts_dir_override_replaces_one_file_and_keeps_the_others_built_in() {
    let fake = FakeAnthropic::start().await;
    let dir = tempfile::tempdir().unwrap();
    let prompts = tempfile::tempdir().unwrap();
    std::fs::write(
        prompts.path().join("master_interviewer.md"),
        "You are the operator's own interviewer, edited without a rebuild.",
    )
    .unwrap();
    let (url, sessions, overrides) = (
        fake.url.clone(),
        dir.path().to_path_buf(),
        prompts.path().to_path_buf(),
    );
    let out = tokio::task::spawn_blocking(move || {
        run(
            &[
                ("ANTHROPIC_API_KEY", API_KEY),
                ("ANTHROPIC_BASE_URL", &url),
                ("PROMPTS_DIR", overrides.to_str().unwrap()),
            ],
            &sessions,
        )
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let system = fake.received()[0].body["system"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        system.starts_with("You are the operator's own interviewer"),
        "{system}"
    );
    assert!(
        system.contains("## The turn contract"),
        "the built-in plan is kept"
    );
}

/// Runs the binary's `command` against the fake with `vars`, stdin closed.
async fn run_against(
    fake: &FakeAnthropic,
    command: &'static str,
    vars: &[(&'static str, &str)],
) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = binary(dir.path());
    if command != "bot" {
        cmd.arg(command);
    }
    cmd.env("ANTHROPIC_BASE_URL", &fake.url);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    drop(dir);
    out
}

#[tokio::test]
async fn a_rejected_key_stops_the_console_and_the_bot_with_one_line() {
    let fake = FakeAnthropic::start().await;
    for command in ["console", "bot"] {
        let out = run_against(
            &fake,
            command,
            &[("ANTHROPIC_API_KEY", "sk-ant-wrong-key-000")],
        )
        .await;
        assert_eq!(out.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<_> = stderr
            .lines()
            .filter(|l| l.starts_with("ai-interviewer:"))
            .collect();
        assert_eq!(lines.len(), 1, "{command}: {stderr}");
        let line = lines[0];
        assert!(
            line.contains("ANTHROPIC_API_KEY was rejected") && line.contains("401"),
            "{command}: {line}"
        );
        assert!(!line.contains("sk-ant-wrong"), "the key is never printed");
    }
    assert_eq!(fake.count(), 0, "no interview request was sent");
    assert_eq!(
        fake.model_checks(),
        ["claude-sonnet-5-5", "claude-sonnet-5-5"]
    );
}

#[tokio::test]
async fn an_unknown_model_stops_start_up_with_one_line_naming_it() {
    let fake = FakeAnthropic::start().await;
    let out = run_against(
        &fake,
        "console",
        &[
            ("ANTHROPIC_API_KEY", API_KEY),
            ("CLAUDE_MODEL", "claude-sonnet-9-9"),
        ],
    )
    .await;
    let line = one_error_line(&out);
    assert!(
        line.contains("CLAUDE_MODEL") && line.contains("claude-sonnet-9-9") && line.contains("404"),
        "{line}"
    );
    assert_eq!(fake.count(), 0);
}

#[tokio::test]
async fn a_retired_model_stops_start_up_naming_the_setting_and_the_replacement_the_api_gives() {
    let fake = FakeAnthropic::start().await;
    for command in ["console", "bot"] {
        let out = run_against(
            &fake,
            command,
            &[
                ("ANTHROPIC_API_KEY", API_KEY),
                ("CLAUDE_MODEL", "claude-sonnet-4-5-20250929"),
                ("TELEGRAM_BOT_TOKEN", "123:never-used"),
            ],
        )
        .await;
        assert_eq!(out.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<_> = stderr
            .lines()
            .filter(|l| l.starts_with("ai-interviewer:"))
            .collect();
        assert_eq!(lines.len(), 1, "{command}: {stderr}");
        let line = lines[0];
        assert!(
            line.contains("CLAUDE_MODEL")
                && line.contains("claude-sonnet-4-5-20250929")
                && line.contains("retired")
                && line.contains("CLAUDE_MODEL=claude-sonnet-5-5"),
            "{command}: {line}"
        );
    }
    assert_eq!(fake.count(), 0);
}

#[tokio::test]
async fn an_unreachable_api_at_start_up_is_a_warning_and_the_console_still_runs() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = binary(dir.path());
    cmd.arg("console")
        .env("ANTHROPIC_API_KEY", API_KEY)
        .env("ANTHROPIC_BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("CLAUDE_MAX_RETRIES", "0")
        .stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"I repair turbines.\n/quit\n")
        .unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("could not be checked at start-up") && stderr.contains("WARN"),
        "{stderr}"
    );
    // The interview went on from the offline bank.
    assert!(stdout.contains("Welcome, and thank you"), "{stdout}");
    assert!(
        stdout.contains("how would you like me to address you")
            || stdout.contains("What made you agree"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_temperature_the_model_refuses_is_logged_as_an_error_naming_the_setting() {
    let fake = FakeAnthropic::start().await;
    fake.always([Reply::Rejected(
        "`temperature` is deprecated for this model.".into(),
    )]);
    let out = run_against(
        &fake,
        "console",
        &[
            ("ANTHROPIC_API_KEY", API_KEY),
            ("CLAUDE_MODEL", "claude-sonnet-4-6"),
            ("CLAUDE_TEMPERATURE", "0.5"),
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let error = stderr
        .lines()
        .find(|l| l.contains("ERROR"))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(
        error.contains("`temperature` is deprecated for this model.")
            && error.contains("remove CLAUDE_TEMPERATURE"),
        "{error}"
    );
    assert!(!stderr.contains(API_KEY));
    assert!(
        stdout.contains("Welcome, and thank you"),
        "the offline bank answered: {stdout}"
    );
}

#[test]
fn an_unwritable_sessions_dir_stops_start_up_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let blocked = dir.path().join("file-not-dir");
    std::fs::write(&blocked, b"").unwrap();
    let line = one_error_line(&run(
        &[("SESSIONS_DIR", blocked.to_str().unwrap())],
        dir.path(),
    ));
    assert!(
        line.contains("SESSIONS_DIR") && line.contains("file-not-dir"),
        "{line}"
    );
}

#[tokio::test]
async fn the_api_key_never_reaches_the_logs_even_at_trace_level() {
    let fake = FakeAnthropic::start().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = "sk-ant-never-print-me-42";
    let url = fake.url.clone();
    let sessions = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        run(
            &[
                ("ANTHROPIC_API_KEY", secret),
                ("ANTHROPIC_BASE_URL", &url),
                ("LOG_LEVEL", "trace"),
                ("CLAUDE_MAX_RETRIES", "0"),
            ],
            &sessions,
        )
    })
    .await
    .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.contains("authentication_error"),
        "the failed call is logged: {all}"
    );
    assert!(!all.contains(secret), "the key leaked");
    assert!(!all.contains("never-print"), "part of the key leaked");
}
