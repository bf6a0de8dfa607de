//! Typed settings, loaded once from the environment (and `.env`) and validated at start-up.
//! Each component owns its configuration type ([`ClaudeConfig`], [`VoiceConfig`],
//! [`telegram::Config`], [`LogFormat`]); this module only reads the environment into them, and
//! only the assembly (`app`, the binary) reads it.
//!
//! Every variable has a default except the secrets. A malformed value is a start-up error that
//! names the variable and the form it expects; secret values are held in [`SecretString`] and are
//! never printed, not even in errors.

use std::{
    cell::RefCell, collections::BTreeMap, net::SocketAddr, path::PathBuf, str::FromStr,
    time::Duration,
};

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};

use crate::{
    desk,
    llm::{ApiVersion, ClaudeConfig, DEFAULT_MODEL, Effort, PriceTable},
    model::Lang,
    telegram::{self, consent::ConsentConfig, webhook::WebhookConfig},
    telemetry::LogFormat,
    voice::{
        AssemblyAiConfig, DEFAULT_SPEECH_MODELS_EN, DEFAULT_SPEECH_MODELS_RU, SpeechModels,
        UNIVERSAL_MODEL, VoiceConfig,
    },
};

/// Why the settings could not be loaded: always names the variable at fault.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: expected {expected}, got {got:?}")]
pub struct SettingsError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// The form the variable must take.
    pub expected: String,
    /// What was found (never set for secrets).
    pub got: String,
}

/// The whole configuration of the process.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The Claude client's settings.
    pub claude: ClaudeConfig,
    /// The Telegram front end's settings.
    pub telegram: telegram::Config,
    /// The voice pipeline's settings.
    pub voice: VoiceConfig,
    /// `SESSIONS_DIR`: where session files live.
    pub sessions_dir: PathBuf,
    /// `DATABASE_URL`: the PostgreSQL database that holds the interviews, the per-user
    /// records, the studies and the sign-in links instead of `SESSIONS_DIR`, if set.
    pub database_url: Option<SecretString>,
    /// `PROMPTS_DIR`: a directory whose prompt files replace the built-in ones, file by file;
    /// unset, the prompts compiled into the binary are used.
    pub prompts_dir: Option<PathBuf>,
    /// `TELEGRAM_BOT_USERNAME`: the bot's username for the invite links the command line
    /// prints; unset, the one the bot recorded when it last started.
    pub bot_username: Option<String>,
    /// `SESSION_TIMEOUT_MINUTES`: idle time after which the user chooses to resume or start over.
    pub session_timeout: Duration,
    /// `MAX_CONVERSATION_HISTORY`: the most recent messages sent to Claude verbatim.
    pub max_conversation_history: usize,
    /// `DEFAULT_LANGUAGE`: the language used when a user's own is unknown.
    pub default_language: Lang,
    /// `LOG_LEVEL`: a tracing filter directive such as `info` or `ai_interviewer=debug`;
    /// unset, each front end picks its own default.
    pub log_level: Option<String>,
    /// `LOG_FORMAT`: `text` or `json`.
    pub log_format: LogFormat,
    /// `METRICS_ADDR`: where `/metrics` (Prometheus) and `/healthz` are served, such as
    /// `0.0.0.0:9090`; unset, there is no server.
    pub metrics_addr: Option<SocketAddr>,
    /// `SESSION_RETENTION_DAYS`: completed, archived and quarantined files older than this
    /// many days are purged; 0 keeps everything.
    pub session_retention_days: u32,
    /// The operator's desk (`DESK_*`); `None` unless `DESK_ADDR` is set.
    pub desk: Option<desk::Config>,
    /// Every secret value read, whatever setting it belongs to.
    secrets: Vec<SecretString>,
}

/// Speech models AssemblyAI no longer serves or no longer takes in a list: naming one is a
/// start-up error, not a 400 on the first voice note. `best` was the old tier name the API
/// now refuses.
pub const REMOVED_SPEECH_MODELS: [&str; 2] = ["universal-3-pro", "best"];

impl Settings {
    /// Where the state is kept: `SESSIONS_DIR`, and `DATABASE_URL` when it is set.
    pub fn storage(&self) -> crate::store::StorageConfig {
        crate::store::StorageConfig {
            sessions_dir: self.sessions_dir.clone(),
            database_url: self.database_url.clone(),
        }
    }

    /// Loads `.env` if there is one, then reads the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        // A missing .env is normal; variables already set in the environment win.
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply variables without touching the
    /// process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let env = Env {
            lookup: &lookup,
            secrets: RefCell::default(),
        };
        let claude = ClaudeConfig {
            api_key: env.secret("ANTHROPIC_API_KEY"),
            base_url: env.url("ANTHROPIC_BASE_URL", "https://api.anthropic.com")?,
            api_version: env.parse(
                "ANTHROPIC_VERSION",
                ApiVersion::default(),
                "`2023-06-01` or `2026-10-21`",
            )?,
            model: env.text("CLAUDE_MODEL", DEFAULT_MODEL),
            effort: env.parse(
                "CLAUDE_EFFORT",
                Effort::Low,
                "`low`, `medium`, `high`, `xhigh` or `max`",
            )?,
            max_tokens: env.optional_number("CLAUDE_MAX_TOKENS", 256..=64_000)?,
            temperature: env.optional_number("CLAUDE_TEMPERATURE", 0.0..=1.0)?,
            prices: env.prices("CLAUDE_PRICES")?,
            timeout: Duration::from_secs(env.number("CLAUDE_TIMEOUT_SECONDS", 60, 1..=600)?),
            max_retries: env.number("CLAUDE_MAX_RETRIES", 3, 0..=10)?,
        };
        let mut telegram = telegram::Config {
            bot_token: env.secret("TELEGRAM_BOT_TOKEN"),
            api_url: env.url("TELEGRAM_API_URL", "https://api.telegram.org")?,
            rate_limit_messages: env.number("RATE_LIMIT_MESSAGES", 30, 1..=10_000)?,
            rate_limit_window: Duration::from_secs(env.number(
                "RATE_LIMIT_WINDOW_SECONDS",
                300,
                1..=86_400,
            )?),
            allowed_user_ids: env.id_list("ALLOWED_USER_IDS")?,
            admin_user_ids: env.id_list("ADMIN_USER_IDS")?,
            shutdown_grace: Duration::from_secs(env.number(
                "SHUTDOWN_GRACE_SECONDS",
                10,
                1..=600,
            )?),
            consent: ConsentConfig::default(),
            drafts: env.flag("DRAFTS", true)?,
            webhook: webhook_config(&env)?,
        };
        let voice = voice_config(&env)?;
        let session_retention_days = env.number("SESSION_RETENTION_DAYS", 30, 0..=36_500)?;
        telegram.consent = ConsentConfig {
            texts: consent_texts(&env)?,
            retention_days: session_retention_days,
            voice_transcribed: voice.enabled && voice.assemblyai.api_key.is_some(),
        };
        let desk = desk_config(&env)?;
        Ok(Settings {
            claude,
            telegram,
            voice,
            sessions_dir: PathBuf::from(env.text("SESSIONS_DIR", "./sessions")),
            database_url: env.secret("DATABASE_URL"),
            prompts_dir: env.get("PROMPTS_DIR").map(PathBuf::from),
            bot_username: env
                .get("TELEGRAM_BOT_USERNAME")
                .map(|u| u.trim_start_matches('@').to_owned()),
            session_timeout: Duration::from_secs(
                60 * env.number::<u64>("SESSION_TIMEOUT_MINUTES", 180, 1..=525_600)?,
            ),
            max_conversation_history: env.number("MAX_CONVERSATION_HISTORY", 100, 20..=1000)?,
            default_language: env.parse("DEFAULT_LANGUAGE", Lang::En, "`en` or `ru`")?,
            log_level: env.filter("LOG_LEVEL")?,
            log_format: env.parse("LOG_FORMAT", LogFormat::Text, "`text` or `json`")?,
            metrics_addr: env.optional(
                "METRICS_ADDR",
                "an address and port to listen on, such as 0.0.0.0:9090",
            )?,
            session_retention_days,
            desk,
            secrets: env.secrets.take(),
        })
    }

    /// Every secret value present (API keys, the bot token): what the logs must never show.
    /// A secret read through the loader's secret accessor is included without further ado.
    pub fn secrets(&self) -> Vec<String> {
        self.secrets
            .iter()
            .map(|s| s.expose_secret().to_owned())
            .collect()
    }
}

/// The operator's own consent notices (`CONSENT_EN_FILE`, `CONSENT_RU_FILE`): each a UTF-8
/// text file, read once at start, short enough to go under the briefing in one message.
fn consent_texts(env: &Env<'_>) -> Result<BTreeMap<Lang, String>, SettingsError> {
    const LIMIT: usize = 1500;
    let mut texts = BTreeMap::new();
    for (lang, variable) in [(Lang::En, "CONSENT_EN_FILE"), (Lang::Ru, "CONSENT_RU_FILE")] {
        let Some(path) = env.get(variable) else {
            continue;
        };
        let text = std::fs::read_to_string(&path)
            .ok()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty() && t.chars().count() <= LIMIT)
            .ok_or_else(|| SettingsError {
                variable,
                expected: format!("a readable UTF-8 text file of 1 to {LIMIT} characters"),
                got: path.clone(),
            })?;
        texts.insert(lang, text);
    }
    Ok(texts)
}

/// The voice pipeline's settings (`VOICE_*`, `FFMPEG_*`, `ASSEMBLYAI_*`).
fn voice_config(env: &Env<'_>) -> Result<VoiceConfig, SettingsError> {
    let assemblyai = AssemblyAiConfig {
        api_key: env.secret("ASSEMBLYAI_API_KEY"),
        base_url: env.url("ASSEMBLYAI_BASE_URL", "https://api.assemblyai.com")?,
        speech_models: speech_models(env)?,
        timeout: Duration::from_secs(env.number("ASSEMBLYAI_TIMEOUT_SECONDS", 60, 1..=600)?),
        transcript_timeout: Duration::from_secs(env.number(
            "ASSEMBLYAI_TRANSCRIPT_TIMEOUT_SECONDS",
            600,
            10..=7200,
        )?),
        max_retries: env.number("ASSEMBLYAI_MAX_RETRIES", 3, 0..=10)?,
    };
    Ok(VoiceConfig {
        enabled: env.flag("VOICE_PROCESSING_ENABLED", true)?,
        max_duration: Duration::from_secs(env.number(
            "VOICE_MAX_DURATION_SECONDS",
            600,
            1..=14_400,
        )?),
        max_file_size: env
            .number::<u64>("VOICE_MAX_FILE_SIZE_MB", 20, 1..=2000)?
            .saturating_mul(1024 * 1024),
        quality_threshold: env.number("VOICE_QUALITY_THRESHOLD", 0.6, 0.0..=1.0)?,
        concurrent_requests: env.number("VOICE_CONCURRENT_REQUESTS", 3, 1..=64)?,
        auto_language_detection: env.flag("VOICE_AUTO_LANGUAGE_DETECTION", false)?,
        ffmpeg_path: PathBuf::from(env.text("FFMPEG_PATH", "ffmpeg")),
        ffmpeg_timeout: Duration::from_secs(env.number("FFMPEG_TIMEOUT_SECONDS", 120, 1..=3600)?),
        temp_dir: env.get("VOICE_TEMP_DIR").map(PathBuf::from),
        assemblyai,
    })
}

/// Each language's speech models (`ASSEMBLYAI_SPEECH_MODELS_EN`, `_RU`). The single list of
/// earlier releases (`ASSEMBLYAI_SPEECH_MODELS`) is refused with the names of the two that
/// replace it, rather than ignored: an operator who set it meant something by it.
fn speech_models(env: &Env<'_>) -> Result<SpeechModels, SettingsError> {
    if let Some(raw) = env.get("ASSEMBLYAI_SPEECH_MODELS") {
        return Err(SettingsError {
            variable: "ASSEMBLYAI_SPEECH_MODELS",
            expected: "nothing: it was replaced by one list per language, \
                       ASSEMBLYAI_SPEECH_MODELS_EN and ASSEMBLYAI_SPEECH_MODELS_RU"
                .to_owned(),
            got: raw,
        });
    }
    Ok(SpeechModels {
        en: env.speech_models("ASSEMBLYAI_SPEECH_MODELS_EN", &DEFAULT_SPEECH_MODELS_EN)?,
        ru: env.speech_models("ASSEMBLYAI_SPEECH_MODELS_RU", &DEFAULT_SPEECH_MODELS_RU)?,
    })
}

/// The desk's settings (`DESK_*`): off unless `DESK_ADDR` is set.
fn desk_config(env: &Env<'_>) -> Result<Option<desk::Config>, SettingsError> {
    // The token is read (and so redacted from the logs) even while the desk is off.
    let api_token = env.secret("DESK_API_TOKEN");
    let addr: Option<SocketAddr> = env.optional(
        "DESK_ADDR",
        "an address and port to listen on, such as 0.0.0.0:8080",
    )?;
    let Some(addr) = addr else {
        return Ok(None);
    };
    // Listening on every address (a container), the links default to the loopback address:
    // what an SSH tunnel reaches. Anything else is DESK_PUBLIC_URL's to say.
    let ip = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    let default_url = format!("http://{}", SocketAddr::new(ip, addr.port()));
    let public_url = env.url("DESK_PUBLIC_URL", &default_url)?;
    let hours: u64 = env.number("DESK_SESSION_HOURS", 12, 1..=720)?;
    Ok(Some(desk::Config {
        addr,
        public_url,
        session_lifetime: Duration::from_secs(hours * 3600),
        api_token,
    }))
}

/// The webhook, when `WEBHOOK_URL` is set: its secret is required (Telegram sends it back with
/// every update, and a request without it is refused), 1-256 characters of `A-Z a-z 0-9 _ -`.
fn webhook_config(env: &Env<'_>) -> Result<Option<WebhookConfig>, SettingsError> {
    let secret = env.secret("WEBHOOK_SECRET");
    if env.get("WEBHOOK_URL").is_none() {
        return Ok(None);
    }
    let url = env.url("WEBHOOK_URL", "")?;
    let secret = secret.ok_or(SettingsError {
        variable: "WEBHOOK_SECRET",
        expected: "a secret of 1-256 letters, digits, `_` or `-` (required with WEBHOOK_URL)"
            .to_owned(),
        got: String::new(),
    })?;
    let valid = {
        let raw = secret.expose_secret();
        raw.len() <= 256
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if !valid {
        return Err(SettingsError {
            variable: "WEBHOOK_SECRET",
            expected: "1-256 letters, digits, `_` or `-`".to_owned(),
            got: "(a value not shown)".to_owned(),
        });
    }
    let addr = env.parse(
        "WEBHOOK_ADDR",
        SocketAddr::from(([0, 0, 0, 0], 8443)),
        "an address and port to listen on, such as 0.0.0.0:8443",
    )?;
    Ok(Some(WebhookConfig { url, secret, addr }))
}

/// A view of the environment that treats an empty value as unset, and keeps every secret it
/// hands out.
struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    secrets: RefCell<Vec<SecretString>>,
}

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn text(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_owned())
    }

    fn secret(&self, name: &str) -> Option<SecretString> {
        let secret = self.get(name).map(SecretString::from)?;
        self.secrets.borrow_mut().push(secret.clone());
        Some(secret)
    }

    fn optional<T: FromStr>(
        &self,
        name: &'static str,
        expected: &str,
    ) -> Result<Option<T>, SettingsError> {
        self.get(name)
            .map(|raw| {
                raw.parse().map_err(|_| SettingsError {
                    variable: name,
                    expected: expected.to_owned(),
                    got: raw,
                })
            })
            .transpose()
    }

    fn parse<T: FromStr>(
        &self,
        name: &'static str,
        default: T,
        expected: &str,
    ) -> Result<T, SettingsError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw.parse().map_err(|_| SettingsError {
                variable: name,
                expected: expected.to_owned(),
                got: raw,
            }),
        }
    }

    fn number<T>(
        &self,
        name: &'static str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, SettingsError>
    where
        T: FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let expected = format!("a number from {} to {}", range.start(), range.end());
        let value = self.parse(name, default, &expected)?;
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(SettingsError {
                variable: name,
                expected,
                got: value.to_string(),
            })
        }
    }

    fn optional_number<T>(
        &self,
        name: &'static str,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<Option<T>, SettingsError>
    where
        T: FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        match self.get(name) {
            None => Ok(None),
            Some(_) => self.number(name, *range.start(), range).map(Some),
        }
    }

    fn prices(&self, name: &'static str) -> Result<PriceTable, SettingsError> {
        let table = PriceTable::published();
        let Some(raw) = self.get(name) else {
            return Ok(table);
        };
        let overrides = PriceTable::parse_overrides(&raw).map_err(|e| SettingsError {
            variable: name,
            expected: format!(
                "model=input/output/cache_write/cache_read dollars per million tokens, \
                 separated by `;` ({e})"
            ),
            got: raw.clone(),
        })?;
        Ok(overrides.into_iter().fold(table, |table, (model, price)| {
            table.with_override(&model, price)
        }))
    }

    fn url(&self, name: &'static str, default: &str) -> Result<Url, SettingsError> {
        let raw = self.text(name, default);
        Url::parse(&raw)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
            .ok_or(SettingsError {
                variable: name,
                expected: "an http(s) URL such as https://example.org".to_owned(),
                got: raw,
            })
    }

    fn filter(&self, name: &'static str) -> Result<Option<String>, SettingsError> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        // A filter is ASCII; the filter's own parser panics on some other text (it slices at
        // byte offsets that can fall inside a character), so anything else is refused first.
        match raw
            .is_ascii()
            .then(|| tracing_subscriber::EnvFilter::try_new(&raw))
        {
            Some(Ok(_)) => Ok(Some(raw)),
            Some(Err(_)) | None => Err(SettingsError {
                variable: name,
                expected: "a level (error, warn, info, debug, trace) or a tracing filter"
                    .to_owned(),
                got: raw,
            }),
        }
    }

    fn flag(&self, name: &'static str, default: bool) -> Result<bool, SettingsError> {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(SettingsError {
                variable: name,
                expected: "`true` or `false`".to_owned(),
                got: raw,
            }),
        }
    }

    /// A speech model priority list, such as `assemblyai-stt-3-7,universal-2`. It must end
    /// with [`UNIVERSAL_MODEL`]: AssemblyAI no longer falls back to another model by itself,
    /// so a list without the model that takes every interview language fails each voice note
    /// of a language its models lack, with the expert waiting. Refusing such a list at start
    /// (rather than warning) catches it before anyone records a note; a model after
    /// `universal-2` would never be used for English or Russian, which it takes, so the list
    /// must end there.
    fn speech_models(
        &self,
        name: &'static str,
        default: &[&str],
    ) -> Result<Vec<String>, SettingsError> {
        let Some(raw) = self.get(name) else {
            return Ok(default.iter().map(|m| (*m).to_owned()).collect());
        };
        let example = default.join(",");
        let error = |expected: String| SettingsError {
            variable: name,
            expected,
            got: raw.clone(),
        };
        let models: Vec<String> = raw
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|part| !part.is_empty())
            .map(str::to_owned)
            .collect();
        let well_formed = |m: &String| {
            m.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
            })
        };
        if models.is_empty() || !models.iter().all(well_formed) {
            return Err(error(format!(
                "a comma-separated priority list of speech model ids such as {example}"
            )));
        }
        if let Some(removed) = models
            .iter()
            .find(|m| REMOVED_SPEECH_MODELS.contains(&m.as_str()))
        {
            return Err(error(format!(
                "speech models AssemblyAI still takes ({removed} is refused), such as {example}"
            )));
        }
        if models.last().map(String::as_str) != Some(UNIVERSAL_MODEL) {
            return Err(error(format!(
                "a list ending with {UNIVERSAL_MODEL}, which takes every interview language \
                 (AssemblyAI no longer falls back to it by itself), such as {example}"
            )));
        }
        Ok(models)
    }

    fn id_list(&self, name: &'static str) -> Result<Vec<u64>, SettingsError> {
        let Some(raw) = self.get(name) else {
            return Ok(Vec::new());
        };
        raw.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|part| !part.is_empty())
            .map(|part| part.parse::<u64>())
            .collect::<Result<_, _>>()
            .map_err(|_| SettingsError {
                variable: name,
                expected: "comma-separated numeric Telegram user ids".to_owned(),
                got: raw,
            })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let settings = load(&[]).unwrap();
        assert!(settings.claude.api_key.is_none());
        assert_eq!(
            settings.claude.base_url.as_str(),
            "https://api.anthropic.com/"
        );
        assert_eq!(settings.claude.model, "claude-sonnet-5-5");
        assert_eq!(settings.claude.effort, Effort::Low);
        assert_eq!(settings.claude.max_tokens, None);
        assert_eq!(settings.claude.turn_max_tokens(), 4096);
        assert_eq!(
            settings.claude.temperature, None,
            "no sampling parameter by default"
        );
        assert!(
            settings.prompts_dir.is_none(),
            "the built-in prompts by default"
        );
        assert_eq!(settings.claude.timeout, Duration::from_secs(60));
        assert_eq!(settings.claude.max_retries, 3);
        assert_eq!(settings.session_timeout, Duration::from_secs(180 * 60));
        assert_eq!(settings.max_conversation_history, 100);
        assert_eq!(settings.default_language, Lang::En);
        assert_eq!(settings.log_format, LogFormat::Text);
        assert_eq!(settings.telegram.rate_limit_messages, 30);
        assert_eq!(
            settings.telegram.rate_limit_window,
            Duration::from_secs(300)
        );
        assert!(settings.telegram.allowed_user_ids.is_empty());
    }

    #[test]
    fn a_malformed_number_names_the_variable_and_the_expected_form() {
        let err = load(&[("CLAUDE_MAX_TOKENS", "lots")]).unwrap_err();
        assert_eq!(err.variable, "CLAUDE_MAX_TOKENS");
        let line = err.to_string();
        assert!(
            line.contains("CLAUDE_MAX_TOKENS") && line.contains("a number from"),
            "{line}"
        );
    }

    #[test]
    fn an_out_of_range_temperature_is_rejected() {
        let err = load(&[("CLAUDE_TEMPERATURE", "1.5")]).unwrap_err();
        assert_eq!(err.variable, "CLAUDE_TEMPERATURE");
    }

    #[test]
    fn effort_budget_and_temperature_are_read_and_validated() {
        let s = load(&[("CLAUDE_EFFORT", "High"), ("CLAUDE_TEMPERATURE", "0.3")]).unwrap();
        assert_eq!(s.claude.effort, Effort::High);
        assert_eq!(s.claude.turn_max_tokens(), 16_384);
        assert_eq!(s.claude.temperature, Some(0.3));
        let s = load(&[("CLAUDE_MAX_TOKENS", "3000")]).unwrap();
        assert_eq!(s.claude.turn_max_tokens(), 3000);
        let err = load(&[("CLAUDE_EFFORT", "extreme")]).unwrap_err();
        assert_eq!(err.variable, "CLAUDE_EFFORT");
        assert!(err.to_string().contains("xhigh"), "{err}");
    }

    #[test]
    fn the_api_version_is_one_the_client_speaks() {
        assert_eq!(
            load(&[]).unwrap().claude.api_version,
            ApiVersion::V2023_06_01
        );
        let s = load(&[("ANTHROPIC_VERSION", "2026-10-21")]).unwrap();
        assert_eq!(s.claude.api_version, ApiVersion::V2026_10_21);
        let err = load(&[("ANTHROPIC_VERSION", "2025-01-01")]).unwrap_err();
        assert_eq!(err.variable, "ANTHROPIC_VERSION");
        assert!(err.to_string().contains("2026-10-21"), "{err}");
    }

    #[test]
    fn prices_can_be_overridden_and_a_malformed_override_names_the_variable() {
        let s = load(&[(
            "CLAUDE_PRICES",
            "claude-sonnet-5-5=1/5/1.25/0.05;my-proxy-model=3/15/3.75/0.3",
        )])
        .unwrap();
        assert_eq!(
            s.claude.prices.price("claude-sonnet-5-5").unwrap().input,
            1.0
        );
        assert_eq!(
            s.claude.prices.price("my-proxy-model").unwrap().output,
            15.0
        );
        assert_eq!(
            s.claude.prices.price("claude-sonnet-4-6").unwrap().input,
            3.0
        );
        let err = load(&[("CLAUDE_PRICES", "claude-sonnet-5-5=cheap")]).unwrap_err();
        assert_eq!(err.variable, "CLAUDE_PRICES");
        assert!(err.to_string().contains("CLAUDE_PRICES"), "{err}");
    }

    #[test]
    fn an_unknown_language_or_log_format_is_rejected() {
        assert_eq!(
            load(&[("DEFAULT_LANGUAGE", "de")]).unwrap_err().variable,
            "DEFAULT_LANGUAGE"
        );
        assert_eq!(
            load(&[("LOG_FORMAT", "xml")]).unwrap_err().variable,
            "LOG_FORMAT"
        );
        assert_eq!(
            load(&[("LOG_LEVEL", "loud=[")]).unwrap_err().variable,
            "LOG_LEVEL"
        );
        // Found by fuzzing: the filter's parser panicked on a character it cut in two.
        assert_eq!(
            load(&[("LOG_LEVEL", "_bn_,,\r\rë=ӝotvER_")])
                .unwrap_err()
                .variable,
            "LOG_LEVEL"
        );
    }

    #[test]
    fn base_urls_must_be_http() {
        let err = load(&[("ANTHROPIC_BASE_URL", "ftp://x")]).unwrap_err();
        assert_eq!(err.variable, "ANTHROPIC_BASE_URL");
        let ok = load(&[("TELEGRAM_API_URL", "http://127.0.0.1:8081")]).unwrap();
        assert_eq!(ok.telegram.api_url.as_str(), "http://127.0.0.1:8081/");
    }

    #[test]
    fn user_id_lists_accept_commas_and_spaces() {
        let s = load(&[("ALLOWED_USER_IDS", "1, 22 ,333"), ("ADMIN_USER_IDS", "9")]).unwrap();
        assert_eq!(s.telegram.allowed_user_ids, vec![1, 22, 333]);
        assert_eq!(s.telegram.admin_user_ids, vec![9]);
        assert!(load(&[("ALLOWED_USER_IDS", "1,@bob")]).is_err());
    }

    #[test]
    fn a_webhook_needs_its_secret_and_a_bad_secret_is_not_echoed() {
        assert!(
            load(&[]).unwrap().telegram.webhook.is_none(),
            "polling by default"
        );
        let url = ("WEBHOOK_URL", "https://bot.example.org/telegram");
        assert_eq!(load(&[url]).unwrap_err().variable, "WEBHOOK_SECRET");
        let err = load(&[url, ("WEBHOOK_SECRET", "has spaces and ü")]).unwrap_err();
        assert_eq!(err.variable, "WEBHOOK_SECRET");
        assert!(!err.to_string().contains("spaces"), "{err}");
        let hook = load(&[url, ("WEBHOOK_SECRET", "a_B-9")])
            .unwrap()
            .telegram
            .webhook
            .unwrap();
        assert_eq!(hook.url.path(), "/telegram");
        assert_eq!(hook.addr.port(), 8443);
        assert_eq!(
            load(&[("WEBHOOK_URL", "not a url"), ("WEBHOOK_SECRET", "x")])
                .unwrap_err()
                .variable,
            "WEBHOOK_URL"
        );
    }

    #[test]
    fn a_consent_notice_file_is_read_at_start_and_an_unreadable_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("en.txt");
        std::fs::write(&file, "  The training team reads this.\n").unwrap();
        let path = file.display().to_string();
        let s = load(&[("CONSENT_EN_FILE", path.as_str())]).unwrap();
        assert_eq!(
            s.telegram.consent.texts.get(&Lang::En).map(String::as_str),
            Some("The training team reads this.")
        );
        let missing = dir.path().join("none.txt").display().to_string();
        let err = load(&[("CONSENT_RU_FILE", missing.as_str())]).unwrap_err();
        assert_eq!(err.variable, "CONSENT_RU_FILE");
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let s = load(&[
            ("ANTHROPIC_API_KEY", "sk-ant-very-secret"),
            ("TELEGRAM_BOT_TOKEN", "123:ABC"),
        ])
        .unwrap();
        let printed = format!("{s:?}");
        assert!(!printed.contains("sk-ant-very-secret"), "{printed}");
        assert!(!printed.contains("123:ABC"), "{printed}");
        assert_eq!(
            s.claude.api_key.unwrap().expose_secret(),
            "sk-ant-very-secret"
        );
    }

    #[test]
    fn every_secret_present_is_listed_for_redaction() {
        let s = load(&[
            ("ANTHROPIC_API_KEY", "sk-ant-very-secret"),
            ("TELEGRAM_BOT_TOKEN", "123:ABC"),
        ])
        .unwrap();
        let mut secrets = s.secrets();
        secrets.sort();
        assert_eq!(secrets, vec!["123:ABC", "sk-ant-very-secret"]);
        assert!(load(&[]).unwrap().secrets().is_empty());
    }

    #[test]
    fn the_metrics_server_is_off_unless_an_address_is_given() {
        assert_eq!(load(&[]).unwrap().metrics_addr, None);
        let s = load(&[("METRICS_ADDR", "0.0.0.0:9090")]).unwrap();
        assert_eq!(s.metrics_addr, Some("0.0.0.0:9090".parse().unwrap()));
        let err = load(&[("METRICS_ADDR", "9090")]).unwrap_err();
        assert_eq!(err.variable, "METRICS_ADDR");
    }

    #[test]
    fn the_desk_is_off_unless_an_address_is_given_and_its_token_is_a_secret() {
        assert!(
            load(&[("DESK_API_TOKEN", "desk-secret")])
                .unwrap()
                .desk
                .is_none()
        );
        let s = load(&[
            ("DESK_ADDR", "127.0.0.1:8080"),
            ("DESK_API_TOKEN", "desk-secret"),
        ])
        .unwrap();
        let desk = s.desk.clone().unwrap();
        assert_eq!(desk.public_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(desk.session_lifetime, Duration::from_secs(12 * 3600));
        assert_eq!(desk.secure(), desk::auth::Secure::Http);
        assert!(!format!("{s:?}").contains("desk-secret"));
        assert_eq!(s.secrets(), vec!["desk-secret"]);
        let s = load(&[
            ("DESK_ADDR", "0.0.0.0:8080"),
            ("DESK_PUBLIC_URL", "https://desk.example.org"),
            ("DESK_SESSION_HOURS", "2"),
        ])
        .unwrap();
        let desk = s.desk.unwrap();
        assert_eq!(desk.public_url.as_str(), "https://desk.example.org/");
        assert_eq!(desk.secure(), desk::auth::Secure::Https);
        let everywhere = load(&[("DESK_ADDR", "0.0.0.0:8080")])
            .unwrap()
            .desk
            .unwrap();
        assert_eq!(everywhere.public_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(desk.session_lifetime, Duration::from_secs(7200));
        for (name, value) in [
            ("DESK_ADDR", "8080"),
            ("DESK_PUBLIC_URL", "desk.example.org"),
            ("DESK_SESSION_HOURS", "0"),
        ] {
            let mut vars = vec![("DESK_ADDR", "127.0.0.1:8080")];
            vars.retain(|(n, _)| *n != name);
            vars.push((name, value));
            assert_eq!(load(&vars).unwrap_err().variable, name);
        }
    }

    #[test]
    fn retention_defaults_to_thirty_days_and_zero_keeps_everything() {
        assert_eq!(load(&[]).unwrap().session_retention_days, 30);
        let s = load(&[("SESSION_RETENTION_DAYS", "0")]).unwrap();
        assert_eq!(s.session_retention_days, 0);
        assert!(load(&[("SESSION_RETENTION_DAYS", "-1")]).is_err());
    }

    #[test]
    fn empty_values_count_as_unset() {
        let s = load(&[("ANTHROPIC_API_KEY", "  "), ("CLAUDE_MODEL", "")]).unwrap();
        assert!(s.claude.api_key.is_none());
        assert_eq!(s.claude.model, DEFAULT_MODEL);
    }

    #[test]
    fn voice_defaults_transcribe_english_and_russian_within_telegrams_limits() {
        let voice = load(&[]).unwrap().voice;
        assert!(voice.enabled);
        assert!(!voice.auto_language_detection);
        assert_eq!(voice.max_duration, Duration::from_secs(600));
        assert_eq!(voice.max_file_size, 20 * 1024 * 1024);
        assert_eq!(voice.quality_threshold, 0.6);
        assert_eq!(voice.concurrent_requests, 3);
        assert_eq!(voice.ffmpeg_path, PathBuf::from("ffmpeg"));
        assert!(voice.assemblyai.api_key.is_none());
        assert_eq!(
            voice.assemblyai.base_url.as_str(),
            "https://api.assemblyai.com/"
        );
        let models = &voice.assemblyai.speech_models;
        assert_eq!(models.en, vec!["assemblyai-stt-3-7", "universal-2"]);
        assert_eq!(
            models.ru,
            vec!["universal-2"],
            "stt-3-7's Russian is unconfirmed"
        );
    }

    #[test]
    fn voice_flags_accept_the_usual_spellings_and_name_the_variable_otherwise() {
        let off = load(&[
            ("VOICE_PROCESSING_ENABLED", "off"),
            ("VOICE_AUTO_LANGUAGE_DETECTION", "1"),
        ])
        .unwrap();
        assert!(!off.voice.enabled);
        assert!(off.voice.auto_language_detection);
        let err = load(&[("VOICE_PROCESSING_ENABLED", "maybe")]).unwrap_err();
        assert_eq!(err.variable, "VOICE_PROCESSING_ENABLED");
        assert!(err.to_string().contains("`true` or `false`"), "{err}");
    }

    #[test]
    fn voice_limits_out_of_range_are_rejected() {
        for (name, value) in [
            ("VOICE_MAX_DURATION_SECONDS", "0"),
            ("VOICE_MAX_FILE_SIZE_MB", "0"),
            ("VOICE_QUALITY_THRESHOLD", "1.2"),
            ("VOICE_CONCURRENT_REQUESTS", "0"),
            ("ASSEMBLYAI_TIMEOUT_SECONDS", "0"),
            ("FFMPEG_TIMEOUT_SECONDS", "none"),
            ("ASSEMBLYAI_BASE_URL", "api.assemblyai.com"),
        ] {
            assert_eq!(load(&[(name, value)]).unwrap_err().variable, name);
        }
    }

    #[test]
    fn speech_models_are_a_priority_list_per_language_ending_with_universal_2() {
        let s = load(&[
            (
                "ASSEMBLYAI_SPEECH_MODELS_EN",
                " universal-3-5-pro , universal-2 ",
            ),
            (
                "ASSEMBLYAI_SPEECH_MODELS_RU",
                "assemblyai-stt-3-7,universal-2",
            ),
        ])
        .unwrap();
        let models = &s.voice.assemblyai.speech_models;
        assert_eq!(models.en, vec!["universal-3-5-pro", "universal-2"]);
        assert_eq!(models.ru, vec!["assemblyai-stt-3-7", "universal-2"]);
        for lang in Lang::ALL {
            let name = SpeechModels::setting(lang);
            let s = load(&[(name, "universal-3-5-pro,universal-2")]).unwrap();
            assert_eq!(
                s.voice.assemblyai.speech_models.for_lang(lang),
                ["universal-3-5-pro", "universal-2"],
                "{name} is the setting the client names for {lang:?}"
            );
        }
        for (list, says) in [
            ("universal-3-pro,universal-2", "universal-3-pro is refused"),
            ("best,universal-2", "best is refused"),
            ("assemblyai-stt-3-7", "ending with universal-2"),
            ("universal-2,assemblyai-stt-3-7", "ending with universal-2"),
            ("Universal 2!", "priority list"),
            (" , ", "priority list"),
        ] {
            let err = load(&[("ASSEMBLYAI_SPEECH_MODELS_RU", list)]).unwrap_err();
            assert_eq!(err.variable, "ASSEMBLYAI_SPEECH_MODELS_RU", "{list}");
            assert!(err.to_string().contains(says), "{list}: {err}");
        }
    }

    #[test]
    fn the_single_speech_model_list_of_earlier_releases_names_its_replacements() {
        let err =
            load(&[("ASSEMBLYAI_SPEECH_MODELS", "universal-3-5-pro,universal-2")]).unwrap_err();
        assert_eq!(err.variable, "ASSEMBLYAI_SPEECH_MODELS");
        let line = err.to_string();
        assert!(
            line.contains("ASSEMBLYAI_SPEECH_MODELS_EN")
                && line.contains("ASSEMBLYAI_SPEECH_MODELS_RU"),
            "{line}"
        );
    }

    #[test]
    fn the_assemblyai_key_never_appears_in_debug_output() {
        let s = load(&[("ASSEMBLYAI_API_KEY", "aai-very-secret")]).unwrap();
        let printed = format!("{s:?}");
        assert!(!printed.contains("aai-very-secret"), "{printed}");
        assert_eq!(
            s.voice.assemblyai.api_key.unwrap().expose_secret(),
            "aai-very-secret"
        );
    }
}
