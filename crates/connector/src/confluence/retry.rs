//! The retry policy: which failures are retried, how long to wait, what `Retry-After` means.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use super::ClientError;

/// One failed attempt, classified.
pub(crate) enum Failure {
    /// Worth another attempt. `after` overrides the backoff (a 429 or 503 `Retry-After`).
    Retry {
        error: ClientError,
        after: Option<Duration>,
    },
    /// A 429: every request of the client pauses, for `retry_after` when the server said how
    /// long, else for a backoff that grows with the request's attempts.
    RateLimited {
        error: ClientError,
        retry_after: Option<Duration>,
    },
    /// Final: 400, 401, 403, 404, other statuses, bad URLs.
    Fatal(ClientError),
}

/// The pause after a 429 without a usable `Retry-After`: `base * 2^attempt` capped at `max`,
/// times a jitter factor in `[0.7, 1.3)` (`unit` is uniform in `[0, 1)`), never above `max`.
/// About 1 s, 2 s, 4 s, ... 30 s with the defaults.
pub(crate) fn rate_limit_backoff(
    attempt: u32,
    base: Duration,
    max: Duration,
    unit: f64,
) -> Duration {
    let grown = base
        .checked_mul(2u32.saturating_pow(attempt.min(30)))
        .unwrap_or(max)
        .min(max);
    grown.mul_f64(0.7 + 0.6 * unit.clamp(0.0, 1.0)).min(max)
}

/// What `X-Seraph-LoginReason` says about credentials that were sent: `Some(detail)` when they
/// were refused (`AUTHENTICATED_FAILED`: wrong, expired or revoked; `AUTHENTICATION_DENIED`:
/// refused without checking, e.g. a CAPTCHA is required after failed logins).
pub(crate) fn login_refused(headers: &HeaderMap) -> Option<String> {
    let reasons: Vec<String> = headers
        .get_all("x-seraph-loginreason")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_ascii_uppercase())
        .collect();
    if reasons.iter().any(|r| r == "AUTHENTICATION_DENIED") {
        Some(
            "Confluence denied the login without checking it (X-Seraph-LoginReason: \
             AUTHENTICATION_DENIED; after failed logins it asks for a CAPTCHA: sign in once in a \
             browser as this user) and answered as an anonymous user"
                .to_string(),
        )
    } else if reasons.iter().any(|r| r == "AUTHENTICATED_FAILED") {
        Some(
            "Confluence did not accept the credentials (X-Seraph-LoginReason: \
             AUTHENTICATED_FAILED) and answered as an anonymous user"
                .to_string(),
        )
    } else {
        None
    }
}

/// Full-jitter exponential backoff: uniform in `[0, min(max, base * 2^attempt)]`.
/// `unit` is a random number in `[0, 1)`; `attempt` counts from 0.
pub(crate) fn backoff(attempt: u32, base: Duration, max: Duration, unit: f64) -> Duration {
    let cap = base
        .checked_mul(2u32.saturating_pow(attempt.min(30)))
        .unwrap_or(max)
        .min(max);
    cap.mul_f64(unit.clamp(0.0, 1.0))
}

/// `Retry-After` as seconds or as an HTTP date, clamped to `max`. `None` when absent or unreadable.
pub(crate) fn retry_after(headers: &HeaderMap, max: Duration) -> Option<Duration> {
    let raw = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(max));
    }
    if let Ok(secs) = raw.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(max.as_secs_f64())));
    }
    let when = httpdate::parse_http_date(raw).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .min(max),
    )
}

/// True when the response says the rate limit is close (`X-RateLimit-NearLimit: true`).
pub(crate) fn near_limit(headers: &HeaderMap) -> bool {
    headers
        .get("x-ratelimit-nearlimit")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Confluence's error message from a body: the JSON `message` (or first `errors[].title`),
/// else the start of the text.
pub(crate) fn error_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(m) = v.get("message").and_then(|m| m.as_str()) {
            return shorten(m);
        }
        if let Some(m) = v
            .pointer("/errors/0/title")
            .or_else(|| v.pointer("/errors/0/message"))
            .and_then(|m| m.as_str())
        {
            return shorten(m);
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        "no message".to_string()
    } else {
        shorten(text)
    }
}

fn shorten(s: &str) -> String {
    const MAX: usize = 500;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    #[test]
    fn backoff_caps_grow_and_jitter_is_full() {
        let b = Duration::from_millis(100);
        let m = Duration::from_secs(2);
        assert_eq!(backoff(0, b, m, 0.0), Duration::ZERO);
        assert_eq!(backoff(0, b, m, 1.0), Duration::from_millis(100));
        assert_eq!(backoff(3, b, m, 1.0), Duration::from_millis(800));
        assert_eq!(backoff(10, b, m, 1.0), m);
        assert_eq!(backoff(u32::MAX, b, m, 0.5), Duration::from_secs(1));
        assert_eq!(backoff(2, b, m, 0.5), Duration::from_millis(200));
    }

    #[test]
    fn rate_limit_backoff_starts_near_a_second_doubles_and_caps() {
        let b = Duration::from_secs(1);
        let m = Duration::from_secs(30);
        // Jitter stays within [0.7, 1.3] of the doubled base.
        assert_eq!(rate_limit_backoff(0, b, m, 0.0), Duration::from_millis(700));
        assert_eq!(rate_limit_backoff(0, b, m, 0.5), Duration::from_secs(1));
        assert_eq!(rate_limit_backoff(1, b, m, 0.5), Duration::from_secs(2));
        assert_eq!(rate_limit_backoff(2, b, m, 0.5), Duration::from_secs(4));
        assert!(rate_limit_backoff(0, b, m, 0.999) < Duration::from_millis(1300));
        // Never above the cap, however many attempts.
        assert_eq!(rate_limit_backoff(5, b, m, 0.5), m);
        assert_eq!(rate_limit_backoff(40, b, m, 1.0), m);
        assert_eq!(
            rate_limit_backoff(u32::MAX, b, m, 0.0),
            Duration::from_secs(21)
        );
    }

    #[test]
    fn seraph_login_reasons() {
        let mut h = HeaderMap::new();
        assert_eq!(login_refused(&h), None);
        h.insert("x-seraph-loginreason", HeaderValue::from_static("OK"));
        assert_eq!(login_refused(&h), None);
        h.insert(
            "x-seraph-loginreason",
            HeaderValue::from_static("AUTHENTICATED_FAILED"),
        );
        assert!(login_refused(&h).unwrap().contains("AUTHENTICATED_FAILED"));
        h.insert(
            "x-seraph-loginreason",
            HeaderValue::from_static("AUTHENTICATION_DENIED"),
        );
        assert!(login_refused(&h).unwrap().contains("CAPTCHA"));
        // Authenticated but not allowed is not a refusal of the credentials.
        h.insert(
            "x-seraph-loginreason",
            HeaderValue::from_static("AUTHORISATION_FAILED"),
        );
        assert_eq!(login_refused(&h), None);
    }

    #[test]
    fn retry_after_forms() {
        let max = Duration::from_secs(300);
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, max), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h, max), Some(Duration::from_secs(7)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("9223372036854775807"));
        assert_eq!(retry_after(&h, max), Some(max));
        let later = SystemTime::now() + Duration::from_secs(60);
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let d = retry_after(&h, max).unwrap();
        assert!(
            d > Duration::from_secs(55) && d <= Duration::from_secs(60),
            "{d:?}"
        );
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h, max), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, max), None);
    }

    #[test]
    fn messages_from_bodies() {
        assert_eq!(
            error_message(br#"{"statusCode":400,"message":"Could not parse cql : x"}"#),
            "Could not parse cql : x"
        );
        assert_eq!(
            error_message(br#"{"errors":[{"status":404,"title":"Not Found"}]}"#),
            "Not Found"
        );
        assert_eq!(error_message(b"  "), "no message");
        assert_eq!(error_message(b"<html>x</html>"), "<html>x</html>");
    }
}
