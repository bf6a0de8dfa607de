//! Sending: replies as HTML with every piece of text escaped, split to Telegram's limit, sent
//! again as plain text if Telegram rejects the markup; every message through the flood gate;
//! every call retried when Telegram answers `RetryAfter`; and the typing indicator.

use std::{future::Future, sync::Arc, time::Duration};

use teloxide::{
    ApiError, RequestError,
    prelude::*,
    types::{ChatAction, InlineKeyboardMarkup, InputFile, MessageId, ParseMode},
};

use super::{
    flood::FloodGate,
    html::{self, MESSAGE_LIMIT},
};

/// The bot as handlers use it: the Bot API client, and the flood limits every message passes.
#[derive(Debug, Clone)]
pub struct TgBot {
    /// The Bot API client.
    pub api: Bot,
    /// Telegram's flood limits.
    pub gate: Arc<FloodGate>,
}

impl TgBot {
    /// A bot over `api` with fresh flood limits.
    pub fn new(api: Bot) -> Self {
        TgBot {
            api,
            gate: Arc::new(FloodGate::default()),
        }
    }
}

/// How often the typing indicator is renewed (it lasts at most 5 s).
pub const TYPING_EVERY: Duration = Duration::from_secs(4);

/// The longest wait honoured on a `RetryAfter`; longer ones fail the call.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

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
    let header_len = header.map_or(0, |h| html::telegram_len(h) + 2);
    let mut chunks = html::split(body, MESSAGE_LIMIT - header_len);
    if chunks.is_empty() {
        chunks.push(String::new());
    }
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| match header.filter(|_| i == 0) {
            Some(h) => Part {
                html: format!("<b>{}</b>\n\n{}", html::escape(h), html::escape(&chunk)),
                plain: format!("{h}\n\n{chunk}"),
            },
            None => Part {
                html: html::escape(&chunk),
                plain: chunk,
            },
        })
        .filter(|p| !p.plain.trim().is_empty())
        .collect()
}

/// Sends `parts` in order, `keyboard` on the last; returns the last message sent.
pub async fn send_parts(
    bot: &TgBot,
    chat: ChatId,
    parts: &[Part],
    keyboard: Option<InlineKeyboardMarkup>,
) -> Result<Option<Message>, RequestError> {
    let mut last = None;
    for (i, part) in parts.iter().enumerate() {
        let markup = keyboard.clone().filter(|_| i + 1 == parts.len());
        let message = |text: &str, html: bool| {
            let mut request = bot.api.send_message(chat, text);
            if html {
                request = request.parse_mode(ParseMode::Html);
            }
            if let Some(markup) = &markup {
                request = request.reply_markup(markup.clone());
            }
            request.send()
        };
        bot.gate.admit(chat).await;
        let sent = match retrying(|| message(&part.html, true)).await {
            Err(RequestError::Api(ApiError::CantParseEntities(reason))) => {
                tracing::warn!(%reason, "Telegram rejected the markup; sending plain text");
                bot.gate.admit(chat).await;
                retrying(|| message(&part.plain, false)).await?
            }
            other => other?,
        };
        last = Some(sent);
    }
    Ok(last)
}

/// Sends plain text (escaped), split if needed.
pub async fn say(bot: &TgBot, chat: ChatId, text: &str) -> Result<Option<Message>, RequestError> {
    send_parts(bot, chat, &parts(None, text), None).await
}

/// Sends plain text (escaped) with buttons; returns the message holding them.
pub async fn ask(
    bot: &TgBot,
    chat: ChatId,
    text: &str,
    keyboard: InlineKeyboardMarkup,
) -> Result<Message, RequestError> {
    let sent = send_parts(bot, chat, &parts(None, text), Some(keyboard)).await?;
    Ok(sent.expect("the text is never empty"))
}

/// Sends a document from memory.
pub async fn document(
    bot: &TgBot,
    chat: ChatId,
    name: &'static str,
    bytes: Vec<u8>,
    caption: Option<String>,
) -> Result<Message, RequestError> {
    bot.gate.admit(chat).await;
    retrying(|| {
        let mut request = bot
            .api
            .send_document(chat, InputFile::memory(bytes.clone()).file_name(name));
        if let Some(caption) = &caption {
            request = request.caption(caption.clone());
        }
        request.send()
    })
    .await
}

/// Replaces a message's text and removes its buttons: shows the choice made on it.
pub async fn settle(bot: &TgBot, chat: ChatId, message: MessageId, text: &str) {
    let result = retrying(|| {
        bot.api
            .edit_message_text(chat, message, html::escape(text))
            .parse_mode(ParseMode::Html)
            .send()
    })
    .await;
    match result {
        Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => {}
        Err(error) => tracing::debug!(%error, "could not settle a keyboard message"),
    }
}

/// Runs a Telegram call, waiting and trying again when Telegram answers `RetryAfter`; used for
/// every method the bot calls.
pub async fn retrying<T, F, Fut>(mut call: F) -> Result<T, RequestError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RequestError>>,
{
    let mut attempts = 0;
    loop {
        match call().await {
            Err(RequestError::RetryAfter(wait))
                if attempts < 3 && wait.duration() <= MAX_RETRY_AFTER =>
            {
                tracing::warn!(wait = ?wait.duration(), "Telegram asked to retry later");
                tokio::time::sleep(wait.duration()).await;
                attempts += 1;
            }
            result => return result,
        }
    }
}

/// Shows "typing…" in a chat until dropped, renewing it every [`TYPING_EVERY`].
#[derive(Debug)]
pub struct Typing(tokio::task::JoinHandle<()>);

impl Typing {
    /// Starts the indicator.
    pub fn start(bot: &TgBot, chat: ChatId) -> Typing {
        let bot = bot.clone();
        Typing(tokio::spawn(async move {
            loop {
                if let Err(error) =
                    retrying(|| bot.api.send_chat_action(chat, ChatAction::Typing).send()).await
                {
                    tracing::debug!(%error, "typing indicator failed");
                }
                tokio::time::sleep(TYPING_EVERY).await;
            }
        }))
    }
}

impl Drop for Typing {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert!(html::telegram_len(&part.plain) <= MESSAGE_LIMIT);
        }
        assert!(p[1].html.starts_with("Ampersands &amp;"));
    }
}
