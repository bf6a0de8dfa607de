//! A strict reader of the Prometheus text exposition format (version 0.0.4): every family
//! declared once with HELP and TYPE before its samples, names and labels well-formed, values
//! numbers, no series twice, histogram buckets cumulative up to `+Inf`.

use std::collections::{BTreeMap, BTreeSet};

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's name (a family name, or `<family>_bucket`, `_sum`, `_count`).
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
}

/// One metric family.
#[derive(Debug, Clone, Default)]
pub struct Family {
    /// `counter`, `gauge`, `histogram`, `summary` or `untyped`.
    pub kind: String,
    /// The HELP text.
    pub help: String,
    /// The samples.
    pub samples: Vec<Sample>,
}

/// A parsed exposition.
#[derive(Debug, Clone, Default)]
pub struct Exposition {
    /// Families by name.
    pub families: BTreeMap<String, Family>,
}

impl Exposition {
    /// The value of the sample `name` whose labels include `labels`, if exactly one matches.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let matching: Vec<&Sample> = self
            .families
            .values()
            .flat_map(|f| &f.samples)
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect();
        match matching.as_slice() {
            [one] => Some(one.value),
            _ => None,
        }
    }
}

fn valid_name(name: &str, colon: bool) -> bool {
    let mut chars = name.chars();
    let ok_first = |c: char| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':');
    chars.next().is_some_and(ok_first)
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

fn parse_value(raw: &str) -> Result<f64, String> {
    match raw {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => raw.parse().map_err(|_| format!("not a number: {raw:?}")),
    }
}

/// Parses `{k="v",...}` at the start of `text`; returns the labels and the rest.
fn parse_labels(text: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    let mut rest = text.strip_prefix('{').ok_or("expected {")?;
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let eq = rest.find('=').ok_or("label without =")?;
        let name = &rest[..eq];
        if !valid_name(name, false) {
            return Err(format!("bad label name {name:?}"));
        }
        rest = rest[eq + 1..]
            .strip_prefix('"')
            .ok_or("label value not quoted")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next().ok_or("unterminated label value")? {
                (i, '"') => break i,
                (_, '\\') => match chars.next().ok_or("dangling escape")?.1 {
                    '\\' => value.push('\\'),
                    '"' => value.push('"'),
                    'n' => value.push('\n'),
                    other => return Err(format!("bad escape \\{other}")),
                },
                (_, c) => value.push(c),
            }
        };
        if labels.insert(name.to_owned(), value).is_some() {
            return Err(format!("label {name} twice"));
        }
        rest = &rest[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

/// The family a sample name belongs to, given the declared families.
fn family_of<'a>(name: &'a str, families: &BTreeMap<String, Family>) -> Option<&'a str> {
    if families.contains_key(name) {
        return Some(name);
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix)
            && let Some(family) = families.get(base)
            && (family.kind == "histogram" || (family.kind == "summary" && suffix != "_bucket"))
        {
            return Some(base);
        }
    }
    None
}

/// Parses `text`, or says what is wrong with it.
pub fn parse(text: &str) -> Result<Exposition, String> {
    let mut out = Exposition::default();
    let mut typed = BTreeSet::new();
    let mut series = BTreeSet::new();
    for (number, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", number + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("HELP"), Some(name), Some(help)) => {
                    if !valid_name(name, true) {
                        return Err(at("bad metric name".into()));
                    }
                    let family = out.families.entry(name.to_owned()).or_default();
                    if !family.help.is_empty() || !family.samples.is_empty() {
                        return Err(at("HELP after samples or twice".into()));
                    }
                    family.help = help.to_owned();
                }
                (Some("TYPE"), Some(name), Some(kind)) => {
                    if !valid_name(name, true) {
                        return Err(at("bad metric name".into()));
                    }
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                        return Err(at(format!("unknown type {kind}")));
                    }
                    let family = out.families.entry(name.to_owned()).or_default();
                    if !typed.insert(name.to_owned()) || !family.samples.is_empty() {
                        return Err(at("TYPE after samples or twice".into()));
                    }
                    family.kind = kind.to_owned();
                }
                _ => {}
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).ok_or_else(|| at("no value".into()))?;
        let name = &line[..name_end];
        if !valid_name(name, true) {
            return Err(at("bad metric name".into()));
        }
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end..]).map_err(at)?
        } else {
            (BTreeMap::new(), &line[name_end..])
        };
        let mut fields = rest.trim_start().split(' ');
        let value = parse_value(fields.next().unwrap_or_default()).map_err(at)?;
        if let Some(stamp) = fields.next()
            && stamp.parse::<i64>().is_err()
        {
            return Err(at("bad timestamp".into()));
        }
        let family = family_of(name, &out.families)
            .ok_or_else(|| at("sample of an undeclared family".into()))?
            .to_owned();
        if !typed.contains(&family) {
            return Err(at("sample before its TYPE".into()));
        }
        if !series.insert(format!("{name}{labels:?}")) {
            return Err(at("series twice".into()));
        }
        out.families
            .get_mut(&family)
            .expect("declared")
            .samples
            .push(Sample {
                name: name.to_owned(),
                labels,
                value,
            });
    }
    for (name, family) in &out.families {
        if family.kind.is_empty() {
            return Err(format!("{name}: HELP without TYPE"));
        }
        if family.kind == "histogram" {
            check_histogram(name, family)?;
        }
    }
    Ok(out)
}

fn check_histogram(name: &str, family: &Family) -> Result<(), String> {
    let mut buckets: Vec<(f64, f64)> = family
        .samples
        .iter()
        .filter(|s| s.name.ends_with("_bucket"))
        .map(|s| {
            let le = s
                .labels
                .get("le")
                .ok_or(format!("{name}: bucket without le"))?;
            Ok((parse_value(le)?, s.value))
        })
        .collect::<Result<_, String>>()?;
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    if buckets.last().map(|b| b.0) != Some(f64::INFINITY) {
        return Err(format!("{name}: no +Inf bucket"));
    }
    if buckets.windows(2).any(|w| w[1].1 < w[0].1) {
        return Err(format!("{name}: buckets not cumulative"));
    }
    let count = family
        .samples
        .iter()
        .find(|s| s.name == format!("{name}_count"))
        .ok_or(format!("{name}: no _count"))?;
    if buckets.last().map(|b| b.1) != Some(count.value) {
        return Err(format!("{name}: +Inf bucket differs from _count"));
    }
    Ok(())
}

#[test]
fn the_reader_rejects_malformed_expositions() {
    let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{k=\"v \\\"q\\\"\"} 3\n";
    assert_eq!(
        parse(good).unwrap().value("a_total", &[("k", "v \"q\"")]),
        Some(3.0)
    );
    for bad in [
        "a_total 1\n",
        "# TYPE a counter\na 1\na 2\n",
        "# TYPE a counter\na{k=v} 1\n",
        "# TYPE a counter\na one\n",
        "# TYPE 1a counter\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
    ] {
        assert!(parse(bad).is_err(), "accepted {bad:?}");
    }
}
