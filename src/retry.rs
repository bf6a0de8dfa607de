//! When to retry a failed call to an upstream API, and how long to wait first: exponential
//! backoff with jitter, the server's `Retry-After` honoured. Shared by the Claude and
//! AssemblyAI clients.

use std::time::Duration;

use rand::Rng;

/// What to do with a `Retry-After` longer than the policy's `max_retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongWait {
    /// Stop retrying: the caller falls back (an interview turn goes to the offline bank).
    GiveUp,
    /// Wait `max_retry_after` and try again (a voice note is worth the wait).
    Shorten,
}

/// Exponential backoff with jitter, honouring the server's `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The wait before the first retry.
    pub base_delay: Duration,
    /// The longest backoff wait.
    pub max_delay: Duration,
    /// The longest `Retry-After` waited for as asked.
    pub max_retry_after: Duration,
    /// What a longer `Retry-After` does.
    pub long_wait: LongWait,
}

impl RetryPolicy {
    /// 0.5 s doubling to 8 s; server waits up to 60 s honoured, longer ones end the retries.
    pub fn new(max_retries: u32) -> Self {
        RetryPolicy {
            max_retries,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            long_wait: LongWait::GiveUp,
        }
    }

    /// The wait before retry number `retry` (from 0), or `None` when it is not worth waiting.
    /// The server's `Retry-After` wins over the backoff.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if retry >= self.max_retries {
            return None;
        }
        if let Some(wait) = retry_after {
            return match self.long_wait {
                _ if wait <= self.max_retry_after => Some(wait),
                LongWait::GiveUp => None,
                LongWait::Shorten => Some(self.max_retry_after),
            };
        }
        let exp = self
            .base_delay
            .saturating_mul(1 << retry.min(16))
            .min(self.max_delay);
        // Up to a quarter less, so that clients failing together do not retry together.
        let jitter = rand::rng().random_range(0.75..=1.0);
        Some(exp.mul_f64(jitter))
    }
}

/// Whether an HTTP status is worth retrying: timeouts, conflicts, rate limits, server errors
/// and overload; never a malformed request, bad key, forbidden or unknown model.
pub fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || status >= 500
}

/// Reads the wait the server asked for from `retry-after-ms` or `retry-after` (seconds, whole
/// or fractional; an HTTP date or anything else counts as absent). A value too large for a
/// `Duration` reads as the largest one; nothing a server sends can make this panic.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok();
    let seconds = |s: f64| Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX);
    if let Some(ms) = header("retry-after-ms").filter(|ms| ms.is_finite() && *ms >= 0.0) {
        return Some(seconds(ms / 1000.0));
    }
    header("retry-after")
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stops_after_the_last_retry() {
        let policy = RetryPolicy::new(3);
        for (retry, full) in [(0, 500), (1, 1000), (2, 2000)] {
            let d = policy.delay(retry, None).unwrap();
            let full = Duration::from_millis(full);
            assert!(d <= full && d >= full.mul_f64(0.75), "{retry}: {d:?}");
        }
        assert_eq!(policy.delay(3, None), None);
    }

    #[test]
    fn backoff_is_capped() {
        let policy = RetryPolicy::new(20);
        assert!(policy.delay(12, None).unwrap() <= Duration::from_secs(8));
    }

    #[test]
    fn the_servers_retry_after_wins_unless_it_is_too_long() {
        let policy = RetryPolicy::new(3);
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(3))),
            Some(Duration::from_secs(3))
        );
        assert_eq!(policy.delay(0, Some(Duration::from_secs(600))), None);
    }

    #[test]
    fn only_transient_statuses_are_retried() {
        for status in [408, 409, 429, 500, 502, 503, 529] {
            assert!(retryable_status(status), "{status}");
        }
        for status in [400, 401, 403, 404, 413] {
            assert!(!retryable_status(status), "{status}");
        }
    }

    #[test]
    fn retry_after_is_read_in_milliseconds_or_seconds() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert("retry-after-ms", "1500".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(1500)));
        headers.clear();
        headers.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn a_huge_retry_after_is_not_a_panic_and_is_not_waited_for() {
        let mut headers = reqwest::header::HeaderMap::new();
        for huge in ["1e300", "123456789012345678901234567890"] {
            headers.insert("retry-after", huge.parse().unwrap());
            let wait = retry_after(&headers).unwrap();
            assert_eq!(wait, Duration::MAX);
            assert_eq!(RetryPolicy::new(3).delay(0, Some(wait)), None);
        }
        headers.insert("retry-after-ms", "1e300".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::MAX));
        headers.clear();
        for junk in ["-1", "NaN", "inf", "soon", ""] {
            headers.insert("retry-after", junk.parse().unwrap());
            assert_eq!(retry_after(&headers), None, "{junk}");
        }
    }

    #[test]
    fn a_policy_that_shortens_long_waits_retries_after_its_cap() {
        let policy = RetryPolicy {
            long_wait: LongWait::Shorten,
            ..RetryPolicy::new(3)
        };
        assert_eq!(
            policy.delay(0, Some(Duration::MAX)),
            Some(Duration::from_secs(60))
        );
        assert_eq!(policy.delay(3, Some(Duration::MAX)), None);
    }
}
