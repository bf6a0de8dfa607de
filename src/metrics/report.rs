//! The `/metrics` chat text for operators, and who may read it.
//!
//! Figures read "today / all time" (today is the current UTC day). Lines that need the
//! operator's attention come last, under a heading of their own. The text is plain (no
//! markup), in the operator's language.

use std::time::Duration;

use super::{
    ErrorKind, FallbackReason, Label, Metrics, TranscriptionFailure, health::POLL_STALE_AFTER,
    ledger::Counters, snapshot::Snapshot,
};
use crate::{
    i18n::{Catalog, Lang, Msg},
    llm::pricing::PriceTable,
    model::UserId,
};

/// Whether `user` may read `/metrics`: operators (`ADMIN_USER_IDS`) only.
pub fn visible_to(admin_user_ids: &[u64], user: UserId) -> bool {
    admin_user_ids.contains(&user.0)
}

/// The reply to `/metrics` from `user`: the report for an operator, `None` for anyone else
/// (who then gets the unknown-command reply, so the command stays unseen).
pub fn reply_for(
    metrics: &Metrics,
    prices: &PriceTable,
    catalog: &Catalog,
    admin_user_ids: &[u64],
    user: UserId,
    lang: Lang,
) -> Option<String> {
    visible_to(admin_user_ids, user).then(|| render(&metrics.snapshot(), prices, catalog, lang))
}

/// The report for `snapshot`, costs at `prices`, in `lang`.
pub fn render(snapshot: &Snapshot, prices: &PriceTable, catalog: &Catalog, lang: Lang) -> String {
    let f = Format { catalog, lang };
    let (today, all) = (&snapshot.today, &snapshot.all_time);
    let mut lines = vec![
        f.text(Msg::MetricsTitle {
            version: snapshot.version.to_owned(),
            uptime: f.duration(snapshot.uptime()),
        }),
        f.text(Msg::MetricsLegend),
        f.text(Msg::MetricsInterviews {
            active: f.int(snapshot.active_interviews),
            started_today: f.int(today.interviews_started),
            started_all: f.int(all.interviews_started),
            completed_today: f.int(today.interviews_completed),
            completed_all: f.int(all.interviews_completed),
            abandoned_today: f.int(today.interviews_abandoned),
            abandoned_all: f.int(all.interviews_abandoned),
            rate: f.percent(all.interviews_completed, all.interviews_started),
        }),
        f.text(Msg::MetricsAnswers {
            text_today: f.int(today.answers(super::AnswerKind::Text)),
            text_all: f.int(all.answers(super::AnswerKind::Text)),
            voice_today: f.int(today.answers(super::AnswerKind::Voice)),
            voice_all: f.int(all.answers(super::AnswerKind::Voice)),
        }),
        f.text(Msg::MetricsClaude {
            calls_today: f.int(calls(today)),
            calls_all: f.int(calls(all)),
            success_today: f.percent(today.claude_successes(), calls(today)),
            success_all: f.percent(all.claude_successes(), calls(all)),
        }),
        match snapshot.latency {
            Some(latency) => f.text(Msg::MetricsLatency {
                calls: f.int(latency.calls as u64),
                p50: f.seconds(latency.p50),
                p95: f.seconds(latency.p95),
            }),
            None => f.text(Msg::MetricsLatencyNone),
        },
        f.text(Msg::MetricsFallbacks {
            upstream_today: f.int(today.fallbacks(FallbackReason::UpstreamDown)),
            upstream_all: f.int(all.fallbacks(FallbackReason::UpstreamDown)),
            unusable_today: f.int(today.fallbacks(FallbackReason::Unusable)),
            unusable_all: f.int(all.fallbacks(FallbackReason::Unusable)),
            configuration_today: f.int(today.fallbacks(FallbackReason::Configuration)),
            configuration_all: f.int(all.fallbacks(FallbackReason::Configuration)),
            refusal_today: f.int(today.fallbacks(FallbackReason::Refusal)),
            refusal_all: f.int(all.fallbacks(FallbackReason::Refusal)),
        }),
    ];
    for (period, counters) in [("today", today), ("all", all)] {
        let tokens = counters.tokens();
        lines.push(f.text(Msg::MetricsTokens {
            period: period.to_owned(),
            input: f.int(tokens.input),
            output: f.int(tokens.output),
            cache_write: f.int(tokens.cache_write),
            cache_read: f.int(tokens.cache_read),
        }));
    }
    lines.push(
        f.text(Msg::MetricsCost {
            today: f.money(today.cost(prices).dollars),
            all: f.money(all.cost(prices).dollars),
            per_interview: all
                .cost_per_completed(prices)
                .map_or_else(|| NONE.to_owned(), |dollars| f.money(dollars)),
        }),
    );
    lines.push(f.text(Msg::MetricsTranscriptions {
        done_today: f.int(today.transcriptions),
        done_all: f.int(all.transcriptions),
        failed_today: f.int(today.transcriptions_failed()),
        failed_all: f.int(all.transcriptions_failed()),
        audio_minutes: f.int(all.transcribed_audio_ms / 60_000),
    }));
    for kind in TranscriptionFailure::ALL {
        if all.transcription_failures(kind) > 0 {
            lines.push(f.text(Msg::MetricsTranscriptionFailure {
                kind: kind.label().to_owned(),
                today: f.int(today.transcription_failures(kind)),
                all: f.int(all.transcription_failures(kind)),
            }));
        }
    }
    let errors: Vec<ErrorKind> = ErrorKind::ALL
        .into_iter()
        .filter(|kind| all.errors(*kind) > 0)
        .collect();
    if errors.is_empty() {
        lines.push(f.text(Msg::MetricsErrorsNone));
    } else {
        lines.push(f.text(Msg::MetricsErrors));
        for kind in errors {
            lines.push(f.text(Msg::MetricsError {
                kind: kind.label().to_owned(),
                today: f.int(today.errors(kind)),
                all: f.int(all.errors(kind)),
            }));
        }
    }
    lines.push(f.text(Msg::MetricsPurged {
        today: f.int(today.files_purged),
        all: f.int(all.files_purged),
    }));
    lines.push(match snapshot.since_last_poll() {
        Some(ago) => f.text(Msg::MetricsPolled {
            ago: f.duration(ago),
        }),
        None => f.text(Msg::MetricsPolledNever),
    });
    lines.push(match snapshot.resident_memory_bytes {
        Some(bytes) => f.text(Msg::MetricsMemory {
            megabytes: f.int(bytes.div_ceil(1024 * 1024)),
        }),
        None => f.text(Msg::MetricsMemoryUnknown),
    });

    let alarms = alarms(snapshot, prices, &f);
    if !alarms.is_empty() {
        lines.push(String::new());
        lines.push(f.text(Msg::MetricsAlarms));
        lines.extend(alarms);
    }
    lines.join("\n")
}

/// What the operator should look into: anything that went wrong today, a model without a
/// price, polling that stopped.
fn alarms(snapshot: &Snapshot, prices: &PriceTable, f: &Format) -> Vec<String> {
    let today = &snapshot.today;
    let mut alarms = Vec::new();
    let mut alarm = |count: u64, msg: fn(String) -> Msg| {
        if count > 0 {
            alarms.push(f.text(msg(f.int(count))));
        }
    };
    alarm(today.fallbacks(FallbackReason::Configuration), |count| {
        Msg::AlarmConfiguration { count }
    });
    alarm(today.fallbacks(FallbackReason::UpstreamDown), |count| {
        Msg::AlarmUpstream { count }
    });
    alarm(today.fallbacks(FallbackReason::Unusable), |count| {
        Msg::AlarmUnusable { count }
    });
    alarm(today.fallbacks(FallbackReason::Refusal), |count| {
        Msg::AlarmRefusal { count }
    });
    alarm(today.errors(ErrorKind::Storage), |count| {
        Msg::AlarmStorage { count }
    });
    alarm(today.errors(ErrorKind::Delivery), |count| {
        Msg::AlarmDelivery { count }
    });
    alarm(today.errors(ErrorKind::Internal), |count| {
        Msg::AlarmInternal { count }
    });
    alarm(today.errors(ErrorKind::Quarantine), |count| {
        Msg::AlarmQuarantine { count }
    });
    let failed = today.transcriptions_failed();
    if failed > 0 {
        alarms.push(f.text(Msg::AlarmTranscription {
            failed: f.int(failed),
            total: f.int(failed + today.transcriptions),
        }));
    }
    let mut unpriced = snapshot.all_time.cost(prices).unpriced;
    unpriced.sort();
    for model in unpriced {
        alarms.push(f.text(Msg::AlarmUnpriced { model }));
    }
    if let Some(ago) = snapshot.since_last_poll()
        && ago > POLL_STALE_AFTER
    {
        alarms.push(f.text(Msg::AlarmPolling {
            ago: f.duration(ago),
        }));
    }
    alarms
}

/// Claude calls of every model and outcome.
fn calls(counters: &Counters) -> u64 {
    counters.claude_successes() + counters.claude_failures()
}

/// Shown where a figure has no value yet (a rate of nothing, a cost per no interview).
const NONE: &str = "–";

/// Numbers written the way the operator's language writes them.
struct Format<'a> {
    catalog: &'a Catalog,
    lang: Lang,
}

impl Format<'_> {
    fn text(&self, msg: Msg) -> String {
        self.catalog.text(self.lang, &msg)
    }

    /// The decimal separator.
    fn point(&self) -> char {
        match self.lang {
            Lang::En => '.',
            Lang::Ru => ',',
        }
    }

    /// An integer with thousands grouped: `1,234,567` in English, `1 234 567` in Russian.
    fn int(&self, n: u64) -> String {
        let separator = match self.lang {
            Lang::En => ',',
            Lang::Ru => '\u{a0}',
        };
        let digits = n.to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(separator);
            }
            out.push(digit);
        }
        out
    }

    /// `x` with `places` decimals, grouped.
    fn decimal(&self, x: f64, places: usize) -> String {
        let fixed = format!("{:.*}", places, x.max(0.0));
        let (whole, fraction) = fixed.split_once('.').unwrap_or((&fixed, ""));
        let whole = self.int(whole.parse().unwrap_or(0));
        if fraction.is_empty() {
            whole
        } else {
            format!("{whole}{}{fraction}", self.point())
        }
    }

    /// Dollars: cents from ten cents up, four decimals below, so small costs stay visible.
    fn money(&self, dollars: f64) -> String {
        let places = if dollars == 0.0 || dollars >= 0.1 {
            2
        } else {
            4
        };
        let amount = self.decimal(dollars, places);
        match self.lang {
            Lang::En => format!("${amount}"),
            Lang::Ru => format!("{amount}\u{a0}$"),
        }
    }

    /// `part` of `whole` as a whole percentage, or a dash when `whole` is zero.
    fn percent(&self, part: u64, whole: u64) -> String {
        if whole == 0 {
            return NONE.to_owned();
        }
        let percent = (part as f64 * 100.0 / whole as f64).round() as u64;
        match self.lang {
            Lang::En => format!("{percent}%"),
            Lang::Ru => format!("{percent}\u{a0}%"),
        }
    }

    /// Seconds with one decimal.
    fn seconds(&self, d: Duration) -> String {
        self.decimal(d.as_secs_f64(), 1)
    }

    /// A duration in its two largest units: `3 d 4 h`, `5 h 12 min`, `42 s`.
    fn duration(&self, d: Duration) -> String {
        let secs = d.as_secs();
        let (days, hours, minutes) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60);
        let unit = |n: u64, msg: fn(u64) -> Msg| self.text(msg(n));
        let parts = if days > 0 {
            vec![
                unit(days, |n| Msg::UnitDays { n }),
                unit(hours, |n| Msg::UnitHours { n }),
            ]
        } else if hours > 0 {
            vec![
                unit(hours, |n| Msg::UnitHours { n }),
                unit(minutes, |n| Msg::UnitMinutes { n }),
            ]
        } else if minutes > 0 {
            vec![unit(minutes, |n| Msg::UnitMinutes { n })]
        } else {
            vec![unit(secs, |n| Msg::UnitSeconds { n })]
        };
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(lang: Lang) -> (Catalog, Lang) {
        (Catalog::load().unwrap(), lang)
    }

    #[test]
    fn numbers_follow_the_language() {
        let (catalog, _) = format(Lang::En);
        let en = Format {
            catalog: &catalog,
            lang: Lang::En,
        };
        let ru = Format {
            catalog: &catalog,
            lang: Lang::Ru,
        };
        assert_eq!(en.int(0), "0");
        assert_eq!(en.int(999), "999");
        assert_eq!(en.int(1_234_567), "1,234,567");
        assert_eq!(ru.int(1_234_567), "1\u{a0}234\u{a0}567");
        assert_eq!(en.money(12.345), "$12.35");
        assert_eq!(en.money(0.0042), "$0.0042");
        assert_eq!(en.money(0.0), "$0.00");
        assert_eq!(ru.money(1234.5), "1\u{a0}234,50\u{a0}$");
        assert_eq!(en.percent(2, 3), "67%");
        assert_eq!(en.percent(1, 0), NONE);
        assert_eq!(ru.seconds(Duration::from_millis(3250)), "3,2");
    }

    #[test]
    fn durations_show_their_two_largest_units() {
        let (catalog, _) = format(Lang::En);
        let en = Format {
            catalog: &catalog,
            lang: Lang::En,
        };
        let ru = Format {
            catalog: &catalog,
            lang: Lang::Ru,
        };
        assert_eq!(en.duration(Duration::from_secs(42)), "42 s");
        assert_eq!(en.duration(Duration::from_secs(5 * 60 + 7)), "5 min");
        assert_eq!(en.duration(Duration::from_secs(3 * 3600 + 60)), "3 h 1 min");
        assert_eq!(
            en.duration(Duration::from_secs(2 * 86_400 + 4 * 3600 + 59)),
            "2 d 4 h"
        );
        assert_eq!(ru.duration(Duration::from_secs(3 * 3600 + 60)), "3 ч 1 мин");
    }

    #[test]
    fn only_operators_see_the_metrics() {
        assert!(visible_to(&[7, 9], UserId(9)));
        assert!(!visible_to(&[7, 9], UserId(8)));
        assert!(!visible_to(&[], UserId(8)));
    }
}
