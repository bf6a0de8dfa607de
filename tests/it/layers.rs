//! The floors of the house: every module imports only from the floors below its own, so the
//! data model stays at the bottom, the interview above the services it uses, the front ends
//! above the interview, and only the assembly knows the settings. No import circle either,
//! between top-level modules or between the parts of the Telegram front end.
//!
//! The check reads `src/` as text: every `crate::` path (in `use`, grouped `use crate::{a,
//! b::c}`, or written out in code), every `super::` and `self::` path resolved from the file's
//! module, and the binary's `ai_interviewer::` paths. Comments and string literals are skipped.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

/// Each top-level module and its floor: a module may import only modules on lower floors. A
/// new module has to be given a floor here.
const FLOORS: &[(&str, u32)] = &[
    // The data model, and the leaves every service may use.
    ("model", 0),
    ("retry", 0),
    ("faults", 0),
    // The services on the model: languages and messages, logging, Claude, the session files.
    ("i18n", 1),
    ("telemetry", 1),
    ("llm", 1),
    ("store", 1),
    // Voice notes, which answer in the user's language.
    ("voice", 2),
    // The desk's sign-in links, which the Telegram front end issues and the desk redeems.
    ("login", 2),
    // The operator's counters, over the services they count.
    ("metrics", 3),
    // The interview: the engine over Claude, the store and the metrics.
    ("interview", 4),
    // The front ends.
    ("telegram", 5),
    ("console", 5),
    ("desk", 5),
    // The environment read into each component's configuration.
    ("settings", 6),
    // The assembly: the library's start-up, and the binary.
    ("app", 7),
    ("main", 8),
];

/// The module whose parts must not import each other in a circle.
const NO_INNER_CIRCLES: &[&str] = &["telegram"];

/// One source file: its path under `src/` and its text.
struct Source {
    path: String,
    text: String,
}

#[test]
fn no_module_imports_a_floor_above_or_in_a_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut sources = Vec::new();
    read_tree(&root, &root, &mut sources);
    assert!(
        sources.len() > 50,
        "src/ was not read: {} files",
        sources.len()
    );
    let problems = check(&sources);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn read_tree(root: &Path, dir: &Path, out: &mut Vec<Source>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            entry
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_tree(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push(Source {
                path: rel.to_string_lossy().replace('\\', "/"),
                text,
            });
        }
    }
}

/// Everything wrong with the imports of `sources`, one line each.
fn check(sources: &[Source]) -> Vec<String> {
    let floors: BTreeMap<&str, u32> = FLOORS.iter().copied().collect();
    let mut problems = Vec::new();
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut inner: BTreeMap<&str, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    let modules: BTreeSet<String> = sources
        .iter()
        .filter_map(|s| module_of(&s.path).first().cloned())
        .collect();
    for module in &modules {
        if !floors.contains_key(module.as_str()) {
            problems.push(format!(
                "module `{module}` has no floor in the layering table"
            ));
        }
    }
    for source in sources {
        let from = module_of(&source.path);
        let Some(from_top) = from.first() else {
            continue; // lib.rs: the crate root declares every module
        };
        for path in references(&source.path, &source.text) {
            let Some(to_top) = path.first() else { continue };
            if to_top != from_top && modules.contains(to_top) {
                top.entry(from_top.clone())
                    .or_default()
                    .insert(to_top.clone());
            }
            for parent in NO_INNER_CIRCLES {
                let (Some(from_part), Some(to_part)) =
                    (part_of(&from, parent), part_of(&path, parent))
                else {
                    continue;
                };
                let parts = child_modules(sources, parent);
                if from_part != to_part && parts.contains(&to_part) {
                    inner
                        .entry(parent)
                        .or_default()
                        .entry(from_part)
                        .or_default()
                        .insert(to_part);
                }
            }
        }
    }
    for (from, targets) in &top {
        for to in targets {
            if let (Some(a), Some(b)) = (floors.get(from.as_str()), floors.get(to.as_str()))
                && b >= a
            {
                problems.push(format!(
                    "`{from}` (floor {a}) imports `{to}` (floor {b}): only lower floors may be imported"
                ));
            }
        }
    }
    if let Some(circle) = circle(&top) {
        problems.push(format!("import circle: {}", circle.join(" -> ")));
    }
    for (parent, graph) in &inner {
        if let Some(circle) = circle(graph) {
            problems.push(format!(
                "import circle inside `{parent}`: {}",
                circle.join(" -> ")
            ));
        }
    }
    problems
}

/// The module a file under `src/` defines: `telegram/worker/mod.rs` is `telegram::worker`,
/// `lib.rs` the crate root (empty), `main.rs` the binary (`main`).
fn module_of(path: &str) -> Vec<String> {
    let path = path.strip_suffix(".rs").unwrap_or(path);
    let mut parts: Vec<String> = path.split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] {
        parts.clear();
    }
    parts
}

/// The part of `parent` that `path` lies in (`telegram::worker::voice` is in `worker`).
fn part_of(path: &[String], parent: &str) -> Option<String> {
    match path {
        [first, part, ..] if first == parent => Some(part.clone()),
        _ => None,
    }
}

/// The submodules of `parent`, from the files under `src/<parent>/`.
fn child_modules(sources: &[Source], parent: &str) -> BTreeSet<String> {
    sources
        .iter()
        .filter_map(|s| part_of(&module_of(&s.path), parent))
        .collect()
}

/// A circle in `graph`, if there is one, as the modules along it.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut found = stack[at..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, done, stack) {
                return Some(found);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

/// A token of Rust source, as far as paths are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    /// `::`
    Colons,
    Punct(char),
}

/// Every path from the crate root that `text` (the file at `path` under `src/`) names, resolved
/// from the module it is written in.
fn references(path: &str, text: &str) -> Vec<Vec<String>> {
    let tokens = tokenize(&strip(text));
    let file_module = module_of(path);
    let binary = file_module == ["main"];
    // Inline modules (`mod tests { ... }`) and the brace depth each one closes at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let here = || {
            let mut module = file_module.clone();
            module.extend(inline.iter().map(|(name, _)| name.clone()));
            module
        };
        let starts_path = i == 0 || tokens[i - 1] != Token::Colons;
        match &tokens[i] {
            Token::Ident(word) if starts_path && tokens.get(i + 1) == Some(&Token::Colons) => {
                let root = match word.as_str() {
                    "crate" if !binary => Some((Vec::new(), i + 2)),
                    "ai_interviewer" if binary => Some((Vec::new(), i + 2)),
                    "self" | "super" => Some((here(), i)),
                    _ => None,
                };
                match root {
                    Some((prefix, start)) => i = tail(&tokens, start, prefix, &mut out),
                    None => i += 1,
                }
            }
            Token::Ident(word) if word == "mod" => {
                if let (Some(Token::Ident(name)), Some(Token::Punct('{'))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    inline.push((name.clone(), depth));
                    depth += 1;
                    i += 3;
                } else {
                    i += 1;
                }
            }
            Token::Punct('{') => {
                depth += 1;
                i += 1;
            }
            Token::Punct('}') => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, at)| *at == depth) {
                    inline.pop();
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// Reads the rest of a path from `tokens[i]` on, under `prefix`: segments, `super`, `self`,
/// `*` and groups `{a, b::c}`, pushing every full path to `out`. Returns where it stopped.
fn tail(
    tokens: &[Token],
    mut i: usize,
    mut prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    loop {
        match tokens.get(i) {
            Some(Token::Ident(word)) => {
                match word.as_str() {
                    "super" => {
                        prefix.pop();
                    }
                    "self" => {}
                    _ => prefix.push(word.clone()),
                }
                i += 1;
                if tokens.get(i) == Some(&Token::Colons) {
                    i += 1;
                } else {
                    out.push(prefix);
                    return i;
                }
            }
            Some(Token::Punct('{')) => {
                i += 1;
                while i < tokens.len() && tokens[i] != Token::Punct('}') {
                    i = tail(tokens, i, prefix.clone(), out);
                    // Skip a rename (`as x`) or anything else up to the next item.
                    while i < tokens.len()
                        && tokens[i] != Token::Punct(',')
                        && tokens[i] != Token::Punct('}')
                    {
                        i += 1;
                    }
                    if tokens.get(i) == Some(&Token::Punct(',')) {
                        i += 1;
                    }
                }
                return i + 1;
            }
            _ => {
                // `*`, generic arguments (`::<T>`) or the end: the path is what was read.
                out.push(prefix);
                return i;
            }
        }
    }
}

/// `text` without comments, string literals and character literals (their contents could
/// look like paths); lifetimes are kept.
fn strip(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut level = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    level += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    level -= 1;
                    i += 2;
                    if level == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r'
            && (i == 0
                || !ident(chars[i - 1])
                || (chars[i - 1] == 'b' && (i < 2 || !ident(chars[i - 2]))))
            && matches!(next, Some('"') | Some('#'))
        {
            // A raw string: r"...", r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                match chars.get(j) {
                    None => break,
                    Some('"') if (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) => {
                        j += 1 + hashes;
                        break;
                    }
                    _ => j += 1,
                }
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && next == Some('\\') {
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 3;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn tokenize(code: &str) -> Vec<Token> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push(Token::Colons);
            i += 2;
        } else {
            if !c.is_whitespace() {
                tokens.push(Token::Punct(c));
            }
            i += 1;
        }
    }
    tokens
}

fn source(path: &str, text: &str) -> Source {
    Source {
        path: path.to_owned(),
        text: text.to_owned(),
    }
}

/// A small house that holds: the fixtures below each add one bad import to it.
fn house() -> Vec<Source> {
    vec![
        source(
            "lib.rs",
            "pub mod model; pub mod store; pub mod interview; pub mod telegram;",
        ),
        source("model/mod.rs", "pub struct Session;"),
        source("store/mod.rs", "use crate::model::Session;\nmod cache;"),
        source("store/cache.rs", "use super::super::model::Session;"),
        source(
            "llm/mod.rs",
            "use crate::{model::Session, retry::RetryPolicy};",
        ),
        source("retry.rs", "pub struct RetryPolicy;"),
        source(
            "interview/mod.rs",
            "use crate::{llm, store::{self, Folder as F}, model::*};",
        ),
        source(
            "telegram/mod.rs",
            "mod router; mod worker; use self::router::Router;",
        ),
        source("telegram/router.rs", "use super::worker::ChatWorker;"),
        source(
            "telegram/worker/mod.rs",
            "mod voice; use crate::interview::Engine;",
        ),
        source(
            "telegram/worker/voice.rs",
            "use super::super::event::Event;",
        ),
        source("telegram/event.rs", "pub enum Event {}"),
    ]
}

fn with(extra: Source) -> Vec<String> {
    let mut sources = house();
    sources.retain(|s| s.path != extra.path);
    sources.push(extra);
    check(&sources)
}

#[test]
fn the_house_without_a_bad_import_holds() {
    assert_eq!(check(&house()), Vec::<String>::new());
}

#[test]
fn a_store_that_imports_the_interview_is_refused() {
    let problems = with(source(
        "store/mod.rs",
        "use crate::model::Session;\nuse crate::interview::Engine;\nmod cache;",
    ));
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("`store` (floor 1) imports `interview` (floor 4)")),
        "{problems:?}"
    );
}

#[test]
fn grouped_imports_nested_groups_and_paths_in_code_are_read() {
    let grouped = with(source(
        "llm/mod.rs",
        "use crate::{model::Session, interview::{Engine, Outcome as O}};",
    ));
    assert!(
        grouped
            .iter()
            .any(|p| p.contains("`llm` (floor 1) imports `interview`")),
        "{grouped:?}"
    );
    let in_code = with(source(
        "model/mod.rs",
        "pub struct Session;\nfn f() -> usize { crate::store::cache::limit::<u8>() }",
    ));
    assert!(
        in_code
            .iter()
            .any(|p| p.contains("`model` (floor 0) imports `store`")),
        "{in_code:?}"
    );
}

#[test]
fn super_paths_are_resolved_from_the_file_and_its_inline_modules() {
    let climbing = with(source(
        "store/cache.rs",
        "use super::super::interview::Engine;",
    ));
    assert!(
        climbing
            .iter()
            .any(|p| p.contains("`store` (floor 1) imports `interview`")),
        "{climbing:?}"
    );
    // Inside `mod tests`, `super` is the file's own module, so `super::super` is `store`.
    let inline = with(source(
        "store/cache.rs",
        "mod tests { use super::super::Folder; fn t() { let _ = 1; } }\nuse super::Folder;",
    ));
    assert_eq!(inline, Vec::<String>::new());
    let escaped = with(source(
        "store/cache.rs",
        "mod tests { use super::super::super::interview::Engine; }",
    ));
    assert!(
        escaped.iter().any(|p| p.contains("imports `interview`")),
        "{escaped:?}"
    );
}

#[test]
fn comments_strings_and_characters_are_not_imports() {
    let problems = with(source(
        "store/cache.rs",
        "// use crate::interview::Engine;\n/* crate::telegram:: /* nested */ crate::app:: */\n\
         const A: &str = \"crate::interview::Engine\";\nconst B: &str = r#\"crate::telegram::x\"#;\n\
         const C: char = '{'; fn f<'a>(x: &'a str) -> &'a str { x }\nuse crate::model::Session;",
    ));
    assert_eq!(problems, Vec::<String>::new());
}

#[test]
fn a_circle_between_the_parts_of_telegram_is_found() {
    let problems = with(source(
        "telegram/worker/voice.rs",
        "use crate::telegram::{event::Event, router::Router};",
    ));
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("import circle inside `telegram`: ") && p.contains("router")),
        "{problems:?}"
    );
}

#[test]
fn a_circle_between_modules_and_a_module_without_a_floor_are_found() {
    let mut sources = house();
    sources.push(source("annex/mod.rs", "use crate::model::Session;"));
    let problems = check(&sources);
    assert!(
        problems.contains(&"module `annex` has no floor in the layering table".to_owned()),
        "{problems:?}"
    );
    let problems = with(source("retry.rs", "use crate::llm::Client;"));
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("import circle: ") && p.contains("llm") && p.contains("retry")),
        "{problems:?}"
    );
}

#[test]
fn the_binary_is_read_through_the_library_name() {
    let problems = with(source(
        "main.rs",
        "use ai_interviewer::{store::SessionStore, telegram};\nfn main() { crate::helper(); }",
    ));
    assert_eq!(problems, Vec::<String>::new());
    let mut sources = house();
    sources.push(source("settings.rs", "pub struct Settings;"));
    sources.push(source(
        "telegram/config.rs",
        "use crate::settings::Settings;",
    ));
    let problems = check(&sources);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("`telegram` (floor 5) imports `settings` (floor 6)")),
        "{problems:?}"
    );
}
