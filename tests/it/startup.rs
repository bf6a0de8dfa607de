//! Start-up failures: one clear line naming the problem, exit code 2; and no secret in logs.

use std::process::Output;

use crate::support::{FakeAnthropic, binary, prompts_dir};

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
fn a_missing_prompt_stops_start_up_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let prompts = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(prompts_dir()).unwrap() {
        let path = entry.unwrap().path();
        if !path.ends_with("mastery.md") && !path.ends_with("stage_specific.md") {
            std::fs::copy(&path, prompts.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let line = one_error_line(&run(
        &[("PROMPTS_DIR", prompts.path().to_str().unwrap())],
        dir.path(),
    ));
    assert!(line.contains("stage_specific.md"), "{line}");
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
