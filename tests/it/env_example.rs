//! `.env.example` documents every variable the program reads, each with a one-line
//! description and its real default; the README's configuration table lists each one too.
//!
//! The variables read are found two ways, so neither a new code shape nor a conditional read
//! slips through: the settings loader is run with a lookup that records every name it asks
//! for, and the sources are scanned for names passed to the loader's accessors
//! (`env.text("NAME", ...)`) or to `std::env::var`.

use std::{
    cell::RefCell,
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use ai_interviewer::settings::Settings;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every name the settings loader asks for when nothing is set.
fn asked_by_the_loader() -> BTreeSet<String> {
    let asked = RefCell::new(BTreeSet::new());
    Settings::from_lookup(|name| {
        asked.borrow_mut().insert(name.to_owned());
        None
    })
    .expect("the defaults are valid");
    asked.into_inner()
}

fn is_variable(name: &str) -> bool {
    name.len() > 1
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The string literal opening `text` after optional whitespace and `(`, if it names a variable.
fn literal_argument(text: &str) -> Option<String> {
    let rest = text.trim_start().strip_prefix('(')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    let name = &rest[..rest.find('"')?];
    is_variable(name).then(|| name.to_owned())
}

/// Names passed to `env.<accessor>(...)`, `env::var(...)` or `env::var_os(...)` in `source`.
fn read_in(source: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in source.match_indices("env.") {
        let rest = &source[at + 4..];
        let accessor_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        names.extend(literal_argument(&rest[accessor_end..]));
    }
    for call in ["env::var", "env::var_os"] {
        for (at, _) in source.match_indices(call) {
            names.extend(literal_argument(&source[at + call.len()..]));
        }
    }
    names
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every variable the program reads.
fn variables_read() -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(&repo().join("src"), &mut files);
    let mut names = asked_by_the_loader();
    for file in files {
        names.extend(read_in(&std::fs::read_to_string(file).unwrap()));
    }
    names
}

/// `.env.example`'s entries (`NAME=value` or `# NAME=value`) with their values, checking that
/// each has a description on the line above.
fn documented() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(repo().join(".env.example")).unwrap();
    let entry = |line: &str| -> Option<(String, String)> {
        let line = line.strip_prefix('#').unwrap_or(line).trim_start();
        let (name, value) = line.split_once('=')?;
        is_variable(name).then(|| (name.to_owned(), value.to_owned()))
    };
    let mut entries = BTreeMap::new();
    let mut previous = "";
    for line in text.lines() {
        if let Some((name, value)) = entry(line) {
            let described = previous.starts_with("# ") && entry(previous).is_none();
            assert!(
                described,
                ".env.example: {name} needs a one-line description just above it"
            );
            assert!(
                entries.insert(name.clone(), value).is_none(),
                ".env.example: {name} twice"
            );
        }
        previous = line;
    }
    entries
}

#[test]
fn the_scan_finds_names_however_the_call_is_formatted() {
    let source = r#"
        let a = env.text("ONE", "x");
        let b = Duration::from_secs(env.number(
            "TWO",
            300,
        )?);
        let c = std::env::var("THREE");
        let d = env.text(name, "NOT_A_NAME_ARGUMENT");
        let e = "FOUR";
    "#;
    assert_eq!(
        read_in(source),
        ["ONE", "THREE", "TWO"]
            .into_iter()
            .map(String::from)
            .collect()
    );
}

#[test]
fn env_example_lists_every_variable_the_program_reads_and_nothing_else() {
    let read = variables_read();
    assert!(read.contains("TELEGRAM_BOT_TOKEN") && read.contains("SESSION_RETENTION_DAYS"));
    let documented = documented();
    let missing: Vec<_> = read
        .iter()
        .filter(|n| !documented.contains_key(*n))
        .collect();
    let stale: Vec<_> = documented.keys().filter(|n| !read.contains(*n)).collect();
    assert!(
        missing.is_empty(),
        ".env.example lacks {missing:?}: add each with its default and a one-line description"
    );
    assert!(
        stale.is_empty(),
        ".env.example lists {stale:?}, which nothing reads"
    );
}

#[test]
fn the_defaults_in_env_example_are_the_programs_defaults() {
    let documented = documented();
    let as_documented = Settings::from_lookup(|name| documented.get(name).cloned())
        .expect(".env.example's values are valid");
    let defaults = Settings::from_lookup(|_| None).unwrap();
    assert_eq!(
        format!("{as_documented:?}"),
        format!("{defaults:?}"),
        "a value in .env.example differs from the default it claims to show"
    );
}

#[test]
fn the_readme_configuration_table_lists_every_variable() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let missing: Vec<_> = variables_read()
        .into_iter()
        .filter(|name| !readme.contains(&format!("| `{name}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "README's configuration table lacks {missing:?}"
    );
}
