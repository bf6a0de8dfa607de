//! Downloading what users send: `getFile` through the bot, then the file itself from
//! `<base>/file/bot<token>/<file_path>`, never more than the size limit. The token is part of
//! that URL, so no error and no log line from here carries the URL.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use teloxide::{ApiError, RequestError, prelude::*, types::FileId};

use super::sender::{self, MAX_RETRY_AFTER};

/// Attempts at each step (getFile, download) before giving up on a passing fault.
const ATTEMPTS: u32 = 4;

/// The wait before the second attempt; it doubles after each.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// The limit on one download attempt (20 MB over a slow link).
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// Why a file could not be fetched. The text names no URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownloadError {
    /// The file is over the limit (as Telegram declares it, or as it streams in).
    #[error("the file ({size:?} bytes) is over the limit of {limit} bytes")]
    TooBig {
        /// Its size, when known.
        size: Option<u64>,
        /// The limit.
        limit: u64,
    },
    /// Telegram refuses to hand the file out (a wrong or expired file id...).
    #[error("Telegram refused the file: {0}")]
    Refused(String),
    /// Telegram could not be reached, or kept failing, after every attempt.
    #[error("the file could not be fetched from Telegram: {0}")]
    Unavailable(String),
}

/// Fetches files from Telegram. Cheap to clone.
#[derive(Clone)]
pub struct Files {
    /// The bot, for `getFile`, its token and its base URL.
    bot: Bot,
    /// The HTTP client for downloads.
    http: reqwest::Client,
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Files").finish_non_exhaustive()
    }
}

impl Files {
    /// Downloads through `bot`'s API server, with its token.
    pub fn new(bot: Bot) -> Files {
        Files {
            bot,
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(DOWNLOAD_TIMEOUT)
                .build()
                .expect("the TLS backend initialises"),
        }
    }

    /// The bytes of file `file_id`, refused past `limit` bytes without downloading the rest.
    pub async fn fetch(&self, file_id: &str, limit: u64) -> Result<Bytes, DownloadError> {
        let file = self.get_file(file_id, limit).await?;
        if file.meta.size != u32::MAX && u64::from(file.meta.size) > limit {
            return Err(DownloadError::TooBig {
                size: Some(u64::from(file.meta.size)),
                limit,
            });
        }
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            match self.download(&file.path, limit).await {
                Err(Attempt::Retry(reason)) if attempt < ATTEMPTS => {
                    tracing::debug!(%reason, attempt, "file download failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                    attempt += 1;
                }
                Err(Attempt::Retry(reason)) => return Err(DownloadError::Unavailable(reason)),
                Err(Attempt::Fail(error)) => return Err(error),
                Ok(bytes) => return Ok(bytes),
            }
        }
    }

    /// `getFile`, retried on network faults and rate limits.
    async fn get_file(
        &self,
        file_id: &str,
        limit: u64,
    ) -> Result<teloxide::types::File, DownloadError> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let error = match self.bot.get_file(FileId(file_id.to_owned())).send().await {
                Ok(file) => return Ok(file),
                Err(error) => error,
            };
            let wait = match &error {
                RequestError::Api(ApiError::Unknown(text)) if text.contains("too big") => {
                    return Err(DownloadError::TooBig { size: None, limit });
                }
                RequestError::Api(_) | RequestError::InvalidJson { .. } => {
                    return Err(DownloadError::Refused(sender::describe(&error)));
                }
                RequestError::RetryAfter(wait) => wait.duration().min(MAX_RETRY_AFTER),
                _ => backoff,
            };
            if attempt >= ATTEMPTS {
                return Err(DownloadError::Unavailable(sender::describe(&error)));
            }
            tracing::debug!(error = %sender::describe(&error), attempt, "getFile failed; retrying");
            tokio::time::sleep(wait).await;
            backoff *= 2;
            attempt += 1;
        }
    }

    /// One download attempt, streamed and cut off past `limit`.
    async fn download(&self, path: &str, limit: u64) -> Result<Bytes, Attempt> {
        let url = file_url(self.bot.api_url(), self.bot.token(), path);
        let mut response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| Attempt::Retry(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(Attempt::Retry(format!("HTTP {status}")));
        }
        if !status.is_success() {
            return Err(Attempt::Fail(DownloadError::Refused(format!(
                "HTTP {status}"
            ))));
        }
        let too_big = |size| Attempt::Fail(DownloadError::TooBig { size, limit });
        if let Some(length) = response.content_length()
            && length > limit
        {
            return Err(too_big(Some(length)));
        }
        let mut bytes = BytesMut::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Attempt::Retry(e.without_url().to_string()))?
        {
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(too_big(None));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes.freeze())
    }
}

/// How one download attempt failed.
enum Attempt {
    /// A passing fault: worth another attempt.
    Retry(String),
    /// Final.
    Fail(DownloadError),
}

/// `<base>/file/bot<token>/<file_path>`, each part of the path one segment.
fn file_url(base: reqwest::Url, token: &str, path: &str) -> reqwest::Url {
    let mut url = base;
    if let Ok(mut segments) = url.path_segments_mut() {
        segments
            .pop_if_empty()
            .push("file")
            .push(&format!("bot{token}"));
        segments.extend(path.split('/').filter(|s| !s.is_empty()));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_url_keeps_the_base_path_and_each_part_of_the_file_path() {
        let url = file_url(
            "http://127.0.0.1:8081/tg/".parse().unwrap(),
            "123:ABC",
            "voice/file_7.oga",
        );
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8081/tg/file/bot123:ABC/voice/file_7.oga"
        );
        let plain = file_url(
            "https://api.telegram.org".parse().unwrap(),
            "1:x",
            "music/a b.mp3",
        );
        assert_eq!(
            plain.as_str(),
            "https://api.telegram.org/file/bot1:x/music/a%20b.mp3"
        );
    }
}
