//! Text the bot is handed: button data, replies to split for Telegram, `.env` values, what
//! experts type.

use ai_interviewer::{
    interview::offline,
    llm::PriceTable,
    model::{InviteCode, StudyId},
    settings::Settings,
    telegram::{
        callback::Callback,
        command::Command,
        html::{self, MESSAGE_LIMIT, telegram_len},
    },
};
use teloxide::utils::command::BotCommands;

/// Button data comes back from the client: what decodes encodes to data that decodes to the
/// same button, within Telegram's 64 bytes.
pub fn callback(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(button) = Callback::decode(text) {
        let encoded = button.encode();
        assert!(encoded.len() <= 64, "{encoded:?} is over Telegram's limit");
        assert_eq!(Callback::decode(&encoded), Some(button));
    }
}

/// `&lt;`, `&gt;` and `&amp;` back to their characters; `None` if an `&` starts anything else
/// (a cut or foreign escape).
fn unescape(html: &str) -> Option<String> {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let (c, len) = [("&lt;", '<'), ("&gt;", '>'), ("&amp;", '&')]
            .iter()
            .find(|(e, _)| rest.starts_with(e))
            .map(|(e, c)| (*c, e.len()))?;
        out.push(c);
        rest = &rest[len..];
    }
    out.push_str(rest);
    Some(out)
}

/// The splitter's contract, for any text and any limit of at least 2 UTF-16 units (one
/// character of any kind fits): every part is non-empty, trimmed and within the limit, and the
/// parts are the trimmed text in order, cut only where whitespace was (which is all that is
/// lost). The escaper's: the escaped text has no `<` or `>`, every `&` starts an escape, and
/// unescaped it is the text. A message's parts (`html::parts`, the header ours): each plain
/// form within Telegram's limit, each HTML form exactly its plain form escaped, around our
/// own bold header on the first.
pub fn html_split(data: &[u8]) {
    let Some((&[high, low], rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let limit = 2 + usize::from(u16::from_be_bytes([high, low])) % (MESSAGE_LIMIT - 1);
    let parts = html::split(text, limit);
    let mut cursor = text;
    for part in &parts {
        assert!(!part.is_empty(), "an empty part");
        assert_eq!(part.as_str(), part.trim(), "a part is not trimmed");
        assert!(
            telegram_len(part) <= limit,
            "a part over the limit of {limit}"
        );
        cursor = cursor.trim_start();
        assert!(
            cursor.starts_with(part.as_str()),
            "a part that is not the next of the text"
        );
        cursor = &cursor[part.len()..];
        // A cut is made where whitespace was, or inside a word longer than the limit.
    }
    assert!(
        cursor.trim().is_empty(),
        "text after the last part was lost"
    );

    let escaped = html::escape(text);
    assert!(!escaped.contains(['<', '>']));
    assert_eq!(
        unescape(&escaped).as_deref(),
        Some(text),
        "escaping lost text"
    );

    for (i, part) in html::parts(Some("Stage 2/9 · Profile"), text)
        .iter()
        .enumerate()
    {
        assert!(telegram_len(&part.plain) <= MESSAGE_LIMIT);
        let body = if i == 0 {
            part.html
                .strip_prefix("<b>Stage 2/9 · Profile</b>\n\n")
                .expect("the first part opens with the header")
        } else {
            &part.html
        };
        let plain = unescape(body).expect("a part's HTML holds whole escapes only");
        assert!(!body.contains(['<', '>']), "markup in a part's body");
        if i == 0 {
            assert!(part.plain.ends_with(plain.as_str()));
        } else {
            assert_eq!(part.plain, plain);
        }
    }
}

/// The settings from any environment: each line `NAME=VALUE`. They are read or refused with
/// the variable named, never a panic. The consent files' variables name files to read, which is
/// no parsing, so they are left out.
pub fn settings(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let vars: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .filter(|(name, _)| !name.starts_with("CONSENT_"))
        .collect();
    let lookup = |name: &str| {
        vars.iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    };
    if let Ok(settings) = Settings::from_lookup(lookup) {
        let _ = settings.storage();
        let _ = settings.secrets();
    }
    let _ = PriceTable::parse_overrides(text);
}

/// What experts type: the offline interviewer's reading of an answer, commands, and the
/// invitation payloads of `/start`.
pub fn user_text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = offline::read(text);
    let _ = offline::read_back(text);
    let _ = offline::vague(text);
    let _ = offline::corrects(text);
    let _ = offline::word_count(text);
    for sentence in offline::sentences(text) {
        assert!(text.contains(sentence), "a sentence that is not the text's");
    }
    let (a, b) = text.split_at(text.floor_char_boundary(text.len() / 2));
    let _ = offline::shared_marks(a, b);
    let _ = Command::parse(text, "interviewer_bot");
    if let Some(id) = StudyId::parse(text) {
        assert_eq!(StudyId::parse(id.as_str()), Some(id));
    }
    if let Some(code) = InviteCode::parse(text) {
        assert_eq!(InviteCode::parse(code.as_str()), Some(code));
    }
}
