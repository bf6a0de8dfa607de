//! The offline interviewer's ear: rules that read an answer the way the interview plan asks
//! an interviewer to, without a model. They decide whether an answer is too thin to move on
//! from (one probe for a real example), whether it gave a case that later questions may build
//! on, and whether it walked through steps or an incident (then the interviewer reads it
//! back in the expert's own words). Everything here is plain text rules, in both languages,
//! so that it can be tested line by line; the wording lives in the catalog.

pub mod plan;

/// Answers shorter than this many words are too thin to build on.
pub const THIN_WORDS: usize = 15;

/// Phrases that say "no particular case" in either language.
const VAGUE: &[&str] = &[
    "hard to say",
    "it depends",
    "depends",
    "not sure",
    "don't know",
    "dont know",
    "no idea",
    "mostly experience",
    "just experience",
    "nothing special",
    "сложно сказать",
    "трудно сказать",
    "зависит",
    "по-разному",
    "не знаю",
    "не уверен",
    "просто опыт",
    "ничего особенного",
];

/// Words that order a story: steps, or the moments of an incident.
const SEQUENCE: &[&str] = &[
    "first",
    "then",
    "next",
    "after",
    "afterwards",
    "later",
    "finally",
    "eventually",
    "meanwhile",
    "before",
    "сначала",
    "потом",
    "затем",
    "после",
    "позже",
    "наконец",
    "в итоге",
    "тогда",
    "сперва",
    "перед",
];

/// Words that place a story in a particular time or place: a case, not a generality.
const CASE_MARKERS: &[&str] = &[
    "last ",
    "once",
    "one day",
    "yesterday",
    "remember",
    "that day",
    "that time",
    "we had",
    "there was",
    "ago",
    "in 19",
    "in 20",
    "однажды",
    "вчера",
    "помню",
    "как-то",
    "был случай",
    "в прошлом",
    "на прошлой",
    "назад",
    "в тот день",
    "в тот раз",
    "у нас был",
];

/// What the rules make of one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// Too short or too general to move on from without asking for a real example.
    pub thin: bool,
    /// It tells a particular case that later questions may refer to.
    pub case: bool,
    /// It walks through steps or an incident in order: worth reading back.
    pub walked: bool,
}

/// Reads one answer.
pub fn read(answer: &str) -> Reading {
    let lower = answer.to_lowercase();
    let words = word_count(answer);
    let vague = VAGUE.iter().any(|v| lower.contains(v));
    let thin = words < THIN_WORDS || (vague && words < THIN_WORDS * 2);
    let sentences = sentences(answer).len();
    let times = times(answer);
    let order = SEQUENCE.iter().filter(|w| has_word(&lower, w)).count();
    let placed = times > 0
        || answer.chars().any(|c| c.is_ascii_digit())
        || CASE_MARKERS.iter().any(|m| lower.contains(m));
    let walked =
        !thin && sentences >= 3 && (order >= 2 || times >= 2 || (order >= 1 && times >= 1));
    Reading {
        thin,
        case: !thin && (placed || walked),
        walked,
    }
}

/// Whether an answer says only that there is no particular answer ("hard to say", "it
/// depends"): it tells nothing to report.
pub fn vague(answer: &str) -> bool {
    let lower = answer.to_lowercase();
    word_count(answer) < THIN_WORDS && VAGUE.iter().any(|v| lower.contains(v))
}

/// The expert's own sentences to read back: those that carry the order (sequence words or
/// times), else the first ones, at most four, joined as they were said.
pub fn read_back(answer: &str) -> String {
    let all = sentences(answer);
    let ordered: Vec<&str> = all
        .iter()
        .copied()
        .filter(|s| {
            let lower = s.to_lowercase();
            times(s) > 0 || SEQUENCE.iter().any(|w| has_word(&lower, w))
        })
        .collect();
    let chosen = if ordered.len() >= 2 { ordered } else { all };
    chosen.into_iter().take(4).collect::<Vec<_>>().join(" … ")
}

/// How many words `text` has.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

/// The sentences of `text`, trimmed, each with its closing mark.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(at, c)) in chars.iter().enumerate() {
        let next = chars.get(i + 1).map(|&(_, n)| n);
        let ends =
            c == '\n' || (matches!(c, '.' | '!' | '?') && next.is_none_or(char::is_whitespace));
        if ends {
            let end = at + c.len_utf8();
            let s = text[start..end].trim();
            if s.chars().any(char::is_alphanumeric) {
                out.push(s);
            }
            start = end;
        }
    }
    let rest = text[start..].trim();
    if rest.chars().any(char::is_alphanumeric) {
        out.push(rest);
    }
    out
}

/// How many clock times ("20:05", "7.30") `text` mentions.
fn times(text: &str) -> usize {
    let bytes = text.as_bytes();
    (1..bytes.len().saturating_sub(2))
        .filter(|&i| {
            (bytes[i] == b':' || bytes[i] == b'.')
                && bytes[i - 1].is_ascii_digit()
                && bytes[i + 1].is_ascii_digit()
                && bytes.get(i + 2).is_some_and(u8::is_ascii_digit)
                && !bytes.get(i + 3).is_some_and(u8::is_ascii_digit)
        })
        .count()
}

/// Whether `word` stands in `lower` as a whole word (or phrase).
fn has_word(lower: &str, word: &str) -> bool {
    lower.match_indices(word).any(|(at, _)| {
        let before = lower[..at].chars().next_back();
        let after = lower[at + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Words that set something right: "not 20:07", «а не», "actually".
const CORRECTING: &[&str] = &[
    "not",
    "actually",
    "correct",
    "correction",
    "rather",
    "instead",
    "wrong",
    "mistake",
    "не",
    "поправ",
    "ошиб",
    "вернее",
    "точнее",
    "на самом деле",
    "неправ",
];

/// Whether an answer reads as a correction of something said earlier.
pub fn corrects(answer: &str) -> bool {
    let lower = answer.to_lowercase();
    CORRECTING
        .iter()
        .any(|w| has_word(&lower, w) || (w.chars().count() > 4 && lower.contains(w)))
}

/// The words two texts share that pin a passage down: numbers and times exactly, and longer
/// words. A correction is placed next to the passage it shares most of them with.
pub fn shared_marks(a: &str, b: &str) -> usize {
    let marks = |t: &str| -> std::collections::BTreeSet<String> {
        t.split(|c: char| !(c.is_alphanumeric() || c == ':'))
            .map(|w| w.trim_matches(':').to_lowercase())
            .filter(|w| w.chars().any(|c| c.is_ascii_digit()) || w.chars().count() >= 6)
            .collect()
    };
    marks(a).intersection(&marks(b)).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const INCIDENT: &str = "It was a night shift last March. First the pressure dropped at 20:05. \
        Then I saw frost on the valve and shut the line. After that we called the supplier, \
        and by 21:30 it was fixed.";

    #[test]
    fn a_vague_or_short_answer_is_thin_and_gives_no_case() {
        for answer in [
            "Hard to say, it's mostly experience",
            "It depends on the job.",
            "Сложно сказать, зависит от ситуации.",
            "Welding pipes.",
        ] {
            let r = read(answer);
            assert!(r.thin && !r.case && !r.walked, "{answer}: {r:?}");
        }
        assert!(vague("It depends.") && !vague("Welding pipes."));
    }

    #[test]
    fn a_told_case_is_a_case_and_a_timed_incident_is_walked() {
        let r = read(INCIDENT);
        assert!(!r.thin && r.case && r.walked, "{r:?}");
        let ru = "Однажды в прошлом году на объекте упало давление. Сначала я проверил манометр \
                  и позвонил мастеру. Потом мы перекрыли линию и нашли трещину у сварного шва.";
        let r = read(ru);
        assert!(r.case && r.walked, "{r:?}");
        let general = "I usually check every weld twice because people who rush always miss \
                       the small cracks that grow over the years into real trouble.";
        let r = read(general);
        assert!(!r.thin && !r.case && !r.walked, "{r:?}");
    }

    #[test]
    fn the_read_back_is_the_experts_own_ordered_sentences() {
        let back = read_back(INCIDENT);
        assert!(
            back.starts_with("First the pressure dropped at 20:05."),
            "{back}"
        );
        assert!(back.contains("Then I saw frost on the valve and shut the line."));
        assert!(!back.contains("night shift"), "{back}");
    }

    #[test]
    fn sentences_split_at_marks_and_lines_but_not_inside_numbers_or_times() {
        assert_eq!(
            sentences("At 20.05 it broke. Then\nwe left"),
            ["At 20.05 it broke.", "Then", "we left"]
        );
        assert_eq!(times("at 20:05, then 7.30 and 2.5 kg"), 2);
    }

    #[test]
    fn a_correction_shares_its_numbers_with_the_passage_it_corrects() {
        let passage = "First the pressure dropped at 20:07.";
        assert_eq!(shared_marks("20:05, not 20:07", passage), 1);
        assert_eq!(shared_marks("the name was Smith", passage), 0);
        assert!(corrects("20:05, not 20:07") && corrects("Рентген был в 15:30, а не в 14:30."));
        assert!(!corrects(
            "Then I look at the colour of the weld before anything else."
        ));
    }
}
