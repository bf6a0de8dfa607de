//! Telegram text: HTML escaping and splitting long replies at natural boundaries.
//!
//! Telegram accepts 1-4096 characters per message, counted after entity parsing in UTF-16 code
//! units. Text is split on its visible form first, then each part is escaped, so an escape
//! sequence is never cut and no part overflows once parsed.

/// The most visible characters in one message.
pub const MESSAGE_LIMIT: usize = 4096;

/// Escapes the three characters HTML parse mode needs escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// The length Telegram counts: UTF-16 code units.
pub fn telegram_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Splits `text` into parts of at most `limit` UTF-16 units, preferring paragraph breaks, then
/// line breaks, then sentence ends, then spaces; a part is cut mid-word only when a single word
/// is longer than the limit. Parts are trimmed; none is empty.
pub fn split(text: &str, limit: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text.trim();
    loop {
        // Whether the rest fits is read off the window, which costs the window's length: the
        // whole rest's length each time would make a long text at a small limit quadratic.
        let window = prefix_within(rest, limit);
        if window.len() == rest.len() {
            break;
        }
        let cut = best_cut(window).unwrap_or(window.len());
        let (head, tail) = rest.split_at(cut);
        let head = head.trim_end();
        if !head.is_empty() {
            parts.push(head.to_owned());
        }
        rest = tail.trim_start();
    }
    if !rest.is_empty() {
        parts.push(rest.to_owned());
    }
    parts
}

/// The longest prefix of `text` (on a char boundary) within `limit` UTF-16 units.
fn prefix_within(text: &str, limit: usize) -> &str {
    let mut units = 0;
    for (i, c) in text.char_indices() {
        units += c.len_utf16();
        if units > limit {
            return &text[..i];
        }
    }
    text
}

/// Where to cut `window`: the byte index just after the best boundary in its second half.
fn best_cut(window: &str) -> Option<usize> {
    let floor = window.len() / 2;
    let after = |pattern: &str| {
        window
            .rmatch_indices(pattern)
            .map(|(i, m)| i + m.len())
            .find(|&i| i > floor && i < window.len() + 1)
    };
    after("\n\n")
        .or_else(|| after("\n"))
        .or_else(|| {
            [". ", "! ", "? ", "… ", ".\n", "。"]
                .iter()
                .filter_map(|p| after(p))
                .max()
        })
        .or_else(|| after(" "))
}

/// One message to send, as HTML and as the plain text to fall back on.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The HTML form (escaped text, our own tags).
    pub html: String,
    /// The same text without markup.
    pub plain: String,
}

/// `body` split into messages, with `header` in bold at the top of the first. The split is
/// made on the plain text, so escaping never pushes a part over the limit.
pub fn parts(header: Option<&str>, body: &str) -> Vec<Part> {
    let header_len = header.map_or(0, |h| telegram_len(h) + 2);
    let mut chunks = split(body, MESSAGE_LIMIT - header_len);
    if chunks.is_empty() {
        chunks.push(String::new());
    }
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| match header.filter(|_| i == 0) {
            Some(h) => Part {
                html: format!("<b>{}</b>\n\n{}", escape(h), escape(&chunk)),
                plain: format!("{h}\n\n{chunk}").trim().to_owned(),
            },
            None => Part {
                html: escape(&chunk),
                plain: chunk,
            },
        })
        .filter(|p| !p.plain.trim().is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_three_special_characters_are_escaped() {
        assert_eq!(
            escape("a < b && c > \"d\" 'e'"),
            "a &lt; b &amp;&amp; c &gt; \"d\" 'e'"
        );
        assert_eq!(escape("<b>bold</b>"), "&lt;b&gt;bold&lt;/b&gt;");
    }

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split("  hello  ", 4096), vec!["hello"]);
        assert!(split("   ", 4096).is_empty());
    }

    #[test]
    fn long_text_is_split_at_paragraphs_first() {
        let para = "word ".repeat(300);
        let text = format!("{para}\n\n{para}\n\n{para}");
        let parts = split(&text, 4096);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| telegram_len(p) <= 4096));
        assert_eq!(parts.join(" ").split_whitespace().count(), 900);
        assert!(parts[0].ends_with("word"));
    }

    #[test]
    fn without_paragraphs_text_is_split_at_sentence_ends() {
        let text = "This is a sentence that goes on. ".repeat(400);
        let parts = split(&text, 4096);
        assert!(parts.len() >= 3);
        for part in &parts[..parts.len() - 1] {
            assert!(part.ends_with('.'), "{:?}", &part[part.len() - 20..]);
            assert!(telegram_len(part) <= 4096);
        }
    }

    #[test]
    fn a_single_huge_word_is_cut_hard_on_a_character_boundary() {
        let text = "я".repeat(10_000);
        let parts = split(&text, 4096);
        assert_eq!(
            parts.iter().map(|p| p.chars().count()).collect::<Vec<_>>(),
            vec![4096, 4096, 1808]
        );
    }

    #[test]
    fn emoji_count_as_two_units() {
        let text = "😀".repeat(3000);
        let parts = split(&text, 4096);
        assert!(parts.iter().all(|p| telegram_len(p) <= 4096));
        assert_eq!(parts[0].chars().count(), 2048);
    }

    #[test]
    fn splitting_keeps_every_word_in_order() {
        let text: String = (0..3000).map(|i| format!("w{i} ")).collect::<String>() + "end.";
        let parts = split(&text, 1000);
        let joined: Vec<_> = parts.iter().flat_map(|p| p.split_whitespace()).collect();
        let original: Vec<_> = text.split_whitespace().collect();
        assert_eq!(joined, original);
    }

    #[test]
    fn model_text_is_escaped_and_the_header_is_bold() {
        let p = parts(Some("Stage 2/9 · Profile"), "Is <b> & </b> markup?");
        assert_eq!(p.len(), 1);
        assert_eq!(
            p[0].html,
            "<b>Stage 2/9 · Profile</b>\n\nIs &lt;b&gt; &amp; &lt;/b&gt; markup?"
        );
        assert_eq!(p[0].plain, "Stage 2/9 · Profile\n\nIs <b> & </b> markup?");
    }

    #[test]
    fn a_long_body_with_a_header_stays_within_the_limit() {
        let body = "Ampersands & angles <> everywhere. ".repeat(400);
        let p = parts(Some("Stage 9/9 · Wrap-up"), &body);
        assert!(p.len() >= 4);
        for part in &p {
            assert!(telegram_len(&part.plain) <= MESSAGE_LIMIT);
        }
        assert!(p[1].html.starts_with("Ampersands &amp;"));
    }
}
