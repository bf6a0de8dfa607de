//! The console on a real pseudo-terminal, as a person types and pastes into it: the binary
//! runs with the terminal as its standard input and output, no keys, sessions in a temp dir.
//!
//! The terminal's other end is read on a thread of its own; each step waits for the text
//! the console prints next (with a deadline), then types.

use std::{
    io::{Read, Write},
    os::fd::OwnedFd,
    path::Path,
    process::{Child, Stdio},
    sync::mpsc,
    time::Instant,
};

use nix::pty::{Winsize, openpty};
use serde_json::Value;

use crate::support::{binary, bot::WAIT};

/// Keys as a terminal sends them.
const ENTER: &str = "\r";
const LEFT: &str = "\x1b[D";
const BACKSPACE: &str = "\x7f";
const CTRL_A: &str = "\x01";
const CTRL_E: &str = "\x05";
const CTRL_C: &str = "\x03";
const CTRL_D: &str = "\x04";
const PASTE_START: &str = "\x1b[200~";
const PASTE_END: &str = "\x1b[201~";

/// The console binary on a pseudo-terminal.
struct Terminal {
    child: Child,
    /// The terminal's master side, where keys are typed.
    keys: std::fs::File,
    /// What the console printed, in chunks, from the reading thread.
    screen: mpsc::Receiver<Vec<u8>>,
    /// Everything printed so far.
    seen: String,
    /// How much of `seen` earlier waits have consumed.
    read_up_to: usize,
    /// Where the binary's log goes (kept out of the terminal).
    _log_dir: tempfile::TempDir,
}

impl Terminal {
    fn start(sessions: &Path, args: &[&str]) -> Terminal {
        let size = Winsize {
            ws_row: 40,
            ws_col: 120,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(Some(&size), None).expect("a pseudo-terminal");
        let log_dir = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(log_dir.path().join("stderr.log")).unwrap();
        let slave = |fd: &OwnedFd| Stdio::from(fd.try_clone().unwrap());
        let mut cmd = binary(sessions);
        cmd.arg("console")
            .args(args)
            .stdin(slave(&pty.slave))
            .stdout(slave(&pty.slave))
            .stderr(Stdio::from(log));
        let child = cmd.spawn().unwrap();
        // Only the child holds the terminal now, so reading ends when it exits.
        drop(pty.slave);
        let keys = std::fs::File::from(pty.master);
        let mut output = keys.try_clone().unwrap();
        let (tx, screen) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // The master reports an error (EIO) once the child has closed the terminal.
            while let Ok(n @ 1..) = output.read(&mut buf) {
                if tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Terminal {
            child,
            keys,
            screen,
            seen: String::new(),
            read_up_to: 0,
            _log_dir: log_dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._log_dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Waits until the console prints `marker` (after what earlier waits consumed).
    fn wait_for(&mut self, marker: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(at) = self.seen[self.read_up_to..].find(marker) {
                self.read_up_to += at + marker.len();
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.screen.recv_timeout(left) {
                Ok(chunk) => self.seen.push_str(&String::from_utf8_lossy(&chunk)),
                Err(_) => panic!(
                    "the console did not print {marker:?} within {WAIT:?}; it printed:\n{}\n\
                     its log:\n{}",
                    self.seen,
                    self.log()
                ),
            }
        }
    }

    /// Waits for the line editor's prompt: the console is ready for keys.
    fn wait_for_prompt(&mut self) {
        self.wait_for("> ");
    }

    fn type_keys(&mut self, keys: &str) {
        self.keys.write_all(keys.as_bytes()).unwrap();
        self.keys.flush().unwrap();
    }

    /// Waits for the process to exit after it said goodbye, and checks that it succeeded.
    fn exits(mut self) {
        let (tx, rx) = mpsc::channel();
        let mut child = self.child;
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        let status = rx
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("the console did not exit; it printed:\n{}", self.seen))
            .unwrap();
        // Drain what is left for the message below.
        while let Ok(chunk) = self.screen.try_recv() {
            self.seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(status.success(), "{status}:\n{}", self.seen);
    }
}

/// The saved session.
fn session(sessions: &Path) -> Value {
    let text = std::fs::read_to_string(sessions.join("0.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The expert's entries of the saved transcript, in order.
fn answers(session: &Value) -> Vec<String> {
    session["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["role"] == "expert")
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect()
}

/// The console's start: the first question (after `speaker`), then the prompt.
fn started(sessions: &Path, args: &[&str], speaker: &str) -> Terminal {
    let mut term = Terminal::start(sessions, args);
    term.wait_for(speaker);
    term.wait_for_prompt();
    term
}

#[test]
fn a_pasted_block_of_three_lines_is_one_answer() {
    let dir = tempfile::tempdir().unwrap();
    let mut term = started(dir.path(), &[], "Interviewer:");
    // A terminal sends the pasted newlines as carriage returns, between the paste brackets.
    term.type_keys(&format!(
        "{PASTE_START}I am a welder.\r\rMostly pipelines, twenty years.\rAlso teach \
         apprentices.{PASTE_END}"
    ));
    term.type_keys(ENTER);
    term.wait_for("Interviewer:");
    term.wait_for_prompt();
    term.type_keys(CTRL_D);
    term.wait_for("Run the same command to continue");
    term.exits();
    assert_eq!(
        answers(&session(dir.path())),
        ["I am a welder.\n\nMostly pipelines, twenty years.\nAlso teach apprentices."]
    );
}

#[test]
fn a_paste_longer_than_a_terminal_line_is_taken_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut term = started(dir.path(), &[], "Interviewer:");
    // Past the 4096 bytes a terminal in line mode holds: the console reads in raw mode.
    let long: String = (0..300).map(|n| format!("Weld {n:03} done. ")).collect();
    assert!(long.len() > 4096);
    term.type_keys(&format!("{PASTE_START}{long}{PASTE_END}{ENTER}"));
    term.wait_for("Interviewer:");
    term.wait_for_prompt();
    term.type_keys(CTRL_D);
    term.wait_for("Run the same command to continue");
    term.exits();
    assert_eq!(answers(&session(dir.path())), [long.trim_end()]);
}

#[test]
fn an_unknown_command_is_refused_and_help_explains_each_command() {
    let dir = tempfile::tempdir().unwrap();
    let mut term = started(dir.path(), &[], "Interviewer:");
    term.type_keys(&format!("/foo{ENTER}"));
    term.wait_for("Unknown command: /foo");
    term.wait_for("/help, /skip, /status, /complete, /reset and /quit");
    term.wait_for_prompt();
    term.type_keys(&format!("/help{ENTER}"));
    term.wait_for("/skip      skip the question");
    term.wait_for("/reset     archive this interview and start a new one (asks first)");
    term.wait_for("between two \"\"\" lines");
    term.wait_for_prompt();
    term.type_keys(CTRL_D);
    term.wait_for("Your interview is saved. Run the same command to continue.");
    term.exits();
    let saved = std::fs::read_to_string(dir.path().join("0.json")).unwrap();
    assert!(!saved.contains("/foo"), "{saved}");
    assert!(!saved.contains("/help"), "{saved}");
    assert!(answers(&session(dir.path())).is_empty());
}

#[test]
fn arrow_keys_and_ctrl_a_e_edit_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut term = started(dir.path(), &[], "Interviewer:");
    // "Jo Smiht": one left, rub out the h, to the end, h again; then a word in front.
    term.type_keys(&format!(
        "Jo Smiht{LEFT}{BACKSPACE}{CTRL_E}h{CTRL_A}Dr {ENTER}"
    ));
    term.wait_for("Interviewer:");
    term.wait_for_prompt();
    term.type_keys(CTRL_C);
    term.wait_for("Run the same command to continue");
    term.exits();
    assert_eq!(answers(&session(dir.path())), ["Dr Jo Smith"]);
}

#[test]
fn skip_is_recorded_and_reset_asks_first_taking_cyrillic_letters() {
    let dir = tempfile::tempdir().unwrap();
    let mut term = started(dir.path(), &[], "Interviewer:");
    term.type_keys(&format!("/skip{ENTER}"));
    term.wait_for("Question skipped.");
    term.wait_for("Interviewer:");
    term.wait_for_prompt();
    term.type_keys(&format!("/reset{ENTER}"));
    term.wait_for("Type y (д) for yes or n (н) for no:");
    term.wait_for_prompt();
    term.type_keys(&format!("maybe{ENTER}"));
    term.wait_for("Please type y (д) or n (н).");
    term.wait_for_prompt();
    term.type_keys(&format!("н{ENTER}"));
    term.wait_for("Nothing was archived: the interview goes on.");
    // The question is asked again.
    term.wait_for("Interviewer:");
    term.wait_for_prompt();
    term.type_keys(&format!("/reset{ENTER}"));
    term.wait_for("Type y (д) for yes or n (н) for no:");
    term.wait_for_prompt();
    term.type_keys(&format!("n{ENTER}"));
    term.wait_for("Nothing was archived: the interview goes on.");
    term.wait_for_prompt();
    term.type_keys(CTRL_D);
    term.wait_for("Run the same command to continue");
    term.exits();

    let session = session(dir.path());
    let transcript = session["transcript"].as_array().unwrap();
    let skips: Vec<&Value> = session["stages"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|record| record["skipped"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(skips.len(), 1, "{session}");
    let question = &transcript[skips[0]["question"].as_u64().unwrap() as usize];
    let stand_in = &transcript[skips[0]["answer"].as_u64().unwrap() as usize];
    assert_eq!(question["role"], "interviewer");
    assert_eq!(stand_in["role"], "expert");
    assert_eq!(stand_in["text"], "(I'd rather skip this question.)");
    // A reset would have begun a new interview: one question, no skip.
    assert_eq!(transcript.len(), 3, "nothing was reset: {session}");
}

#[test]
fn a_russian_reset_is_confirmed_with_da() {
    let dir = tempfile::tempdir().unwrap();
    let mut term = started(dir.path(), &["--lang", "ru"], "Интервьюер:");
    term.type_keys(&format!("Анна, сварщик{ENTER}"));
    term.wait_for("Интервьюер:");
    term.wait_for_prompt();
    term.type_keys(&format!("/reset{ENTER}"));
    term.wait_for("Введите д (y) — да или н (n) — нет:");
    term.wait_for_prompt();
    term.type_keys(&format!("д{ENTER}"));
    term.wait_for("Прошлое интервью перенесено в архив. Начинаем новое.");
    term.wait_for("Интервьюер:");
    term.wait_for_prompt();
    term.type_keys(CTRL_D);
    term.wait_for("Чтобы продолжить, запустите ту же команду.");
    term.exits();
    assert!(
        answers(&session(dir.path())).is_empty(),
        "a new interview began"
    );
}
