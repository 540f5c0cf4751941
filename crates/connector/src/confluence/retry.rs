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

/// `Retry-After` as seconds or as an HTTP date (else `X-RateLimit-Reset`), clamped to `max`.
/// `None` when absent or unreadable.
pub(crate) fn retry_after(headers: &HeaderMap, max: Duration) -> Option<Duration> {
    let Some(raw) = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    else {
        // Cloud's 429s carry the reset time too: the same wait.
        return headers
            .get("x-ratelimit-reset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| reset_in(v.trim()))
            .map(|d| d.min(max));
    };
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

/// How a successful answer's rate-limit headers slow the crawl down, so that it slows before
/// it is refused rather than after.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Pace {
    /// Hold every request this long from now.
    pub pause: Option<Duration>,
    /// Start at most one request per `.0` for the next `.1`.
    pub spacing: Option<(Duration, Duration)>,
}

/// Reads the rate-limit headers Confluence sends on normal responses (`None`: the limit is not
/// close):
///
/// - `X-RateLimit-NearLimit: true` (Cloud, less than 20% left) and `Beta-Retry-After` (a limit
///   Cloud does not enforce yet): pause `near_pause`.
/// - Data Center's token bucket (`X-RateLimit-FillRate` tokens every
///   `X-RateLimit-Interval-Seconds`) less than half full (`X-RateLimit-Remaining` of
///   `X-RateLimit-Limit`): one request per token refill until the bucket could be full again
///   (and a pause for one token when it is empty).
/// - Else `X-RateLimit-Remaining` below 20% of `X-RateLimit-Limit`: with nothing left and an `X-RateLimit-Reset` time, pause until then; else pause
///   `near_pause`.
/// - Cloud's quota headers (`Beta-RateLimit: "..";r=R;t=T` against `q=` of
///   `Beta-RateLimit-Policy` / `RateLimit-Policy`): below 20% of the quota, one request per
///   `T / R` seconds for `T` seconds, so that what is left lasts until the window resets.
///
/// Every duration is at most `max`.
pub(crate) fn pacing(headers: &HeaderMap, near_pause: Duration, max: Duration) -> Option<Pace> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let number = |name: &str| {
        text(name)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite())
    };
    let secs = |s: f64| Duration::from_secs_f64(s.clamp(0.0, max.as_secs_f64()));
    let mut pace = Pace::default();
    let mut pause = |d: Duration| {
        let d = d.min(max);
        pace.pause = Some(pace.pause.map_or(d, |p| p.max(d)));
    };
    let mut spacing: Option<(Duration, Duration)> = None;
    if near_limit(headers) || text("beta-retry-after").is_some() {
        pause(near_pause);
    }
    if let (Some(limit), Some(remaining)) =
        (number("x-ratelimit-limit"), number("x-ratelimit-remaining"))
        && limit > 0.0
    {
        let fill = number("x-ratelimit-fillrate").filter(|f| *f > 0.0);
        let interval = number("x-ratelimit-interval-seconds").filter(|i| *i > 0.0);
        let reset = text("x-ratelimit-reset").and_then(reset_in);
        // A token bucket's refill rate is all a long crawl can sustain anyway: keep to it
        // once half the bucket is spent, and the rest absorbs what is already in flight.
        let share = if fill.is_some() && interval.is_some() {
            BUCKET_SHARE
        } else {
            NEAR_SHARE
        };
        match (fill, interval, reset) {
            _ if remaining >= limit * share => {}
            (Some(fill), Some(interval), _) => {
                let per_token = interval / fill;
                if remaining < 1.0 {
                    pause(secs(per_token));
                }
                let refill = (limit - remaining.max(0.0)) * per_token;
                spacing = Some((secs(per_token), secs(refill)));
            }
            (_, _, Some(reset)) if remaining <= 0.0 => pause(reset),
            _ => pause(near_pause),
        }
    }
    let quota = text("beta-ratelimit-policy")
        .or_else(|| text("ratelimit-policy"))
        .and_then(|p| param(p, "q"));
    if let Some(state) = text("beta-ratelimit").or_else(|| text("ratelimit"))
        && let (Some(left), Some(window)) = (param(state, "r"), param(state, "t"))
        && quota.is_some_and(|q| left < q * NEAR_SHARE)
    {
        let every = secs(window / left.max(1.0));
        spacing = Some(match spacing {
            Some((e, f)) => (e.max(every), f.max(secs(window))),
            None => (every, secs(window)),
        });
    }
    pace.spacing = spacing;
    (pace != Pace::default()).then_some(pace)
}

/// Below this share of a limit the crawl slows down (Cloud's NearLimit threshold).
const NEAR_SHARE: f64 = 0.2;

/// Below this share of a token bucket the crawl keeps to the bucket's refill rate.
const BUCKET_SHARE: f64 = 0.5;

/// A numeric parameter of a structured rate-limit header: `"global-app-quota";q=65000;w=3600`.
fn param(header: &str, name: &str) -> Option<f64> {
    header.split([';', ',']).find_map(|part| {
        let (key, value) = part.trim().split_once('=')?;
        (key.trim() == name)
            .then(|| value.trim().trim_matches('"').parse::<f64>().ok())
            .flatten()
            .filter(|v| v.is_finite() && *v >= 0.0)
    })
}

/// Time until `X-RateLimit-Reset` (`2026-12-02T10:15Z` or full RFC 3339).
fn reset_in(raw: &str) -> Option<Duration> {
    let when = chrono::DateTime::parse_from_rfc3339(raw).ok().or_else(|| {
        chrono::NaiveDateTime::parse_from_str(raw.trim_end_matches('Z'), "%Y-%m-%dT%H:%M")
            .ok()
            .map(|n| n.and_utc().fixed_offset())
    })?;
    (when.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
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

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn pacing_slows_down_before_the_limit_from_every_header_confluence_sends() {
        let near = Duration::from_millis(250);
        let max = Duration::from_secs(300);
        let pace = |pairs: &[(&'static str, &str)]| pacing(&headers(pairs), near, max);
        let pause = |d: Duration| {
            Some(Pace {
                pause: Some(d),
                spacing: None,
            })
        };
        let ms = Duration::from_millis;
        // Plenty left, or nothing said: no pause.
        assert_eq!(pace(&[]), None);
        assert_eq!(
            pace(&[
                ("x-ratelimit-limit", "100"),
                ("x-ratelimit-remaining", "60")
            ]),
            None
        );
        assert_eq!(pace(&[("x-ratelimit-nearlimit", "false")]), None);
        // Cloud's signals.
        assert_eq!(pace(&[("x-ratelimit-nearlimit", "true")]), pause(near));
        assert_eq!(pace(&[("beta-retry-after", "12")]), pause(near));
        // Data Center's token bucket: 5 of 100 left, 10 tokens a second: one request per
        // 100 ms until the bucket could be full (9.5 s); empty: also wait for one token.
        let mut dc = vec![
            ("x-ratelimit-limit", "100"),
            ("x-ratelimit-remaining", "5"),
            ("x-ratelimit-fillrate", "10"),
            ("x-ratelimit-interval-seconds", "1"),
        ];
        assert_eq!(
            pace(&dc),
            Some(Pace {
                pause: None,
                spacing: Some((ms(100), ms(9500)))
            })
        );
        dc[1] = ("x-ratelimit-remaining", "0");
        assert_eq!(
            pace(&dc),
            Some(Pace {
                pause: Some(ms(100)),
                spacing: Some((ms(100), ms(10_000)))
            })
        );
        // Nothing left and a reset time: until then (give or take the clock).
        let reset = (chrono::Utc::now() + chrono::Duration::seconds(90))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let until = pace(&[
            ("x-ratelimit-limit", "100"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &reset),
        ])
        .unwrap()
        .pause
        .unwrap();
        assert!(
            until > Duration::from_secs(80) && until <= Duration::from_secs(90),
            "{until:?}"
        );
        // Low, without a refill rate or reset: the near-limit pause.
        assert_eq!(
            pace(&[("x-ratelimit-limit", "100"), ("x-ratelimit-remaining", "3")]),
            pause(near)
        );
        // Cloud's quota: 1,000 of 65,000 left for 500 s: one request every 0.5 s for 500 s.
        let quota = [
            (
                "beta-ratelimit-policy",
                "\"global-app-quota\";q=65000;w=3600",
            ),
            ("beta-ratelimit", "\"global-app-quota\";r=1000;t=500"),
        ];
        assert_eq!(
            pace(&quota),
            Some(Pace {
                pause: None,
                spacing: Some((ms(500), Duration::from_secs(300)))
            })
        );
        let plenty = [
            ("ratelimit-policy", "\"global-app-quota\";q=65000;w=3600"),
            ("ratelimit", "\"global-app-quota\";r=60000;t=500"),
        ];
        assert_eq!(pace(&plenty), None);
        // Absurd values are clamped.
        let absurd = [
            ("x-ratelimit-limit", "10"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-fillrate", "0.000001"),
            ("x-ratelimit-interval-seconds", "1"),
        ];
        assert_eq!(
            pace(&absurd),
            Some(Pace {
                pause: Some(max),
                spacing: Some((max, max))
            })
        );
    }

    #[test]
    fn a_429_without_retry_after_waits_until_the_reset_time() {
        let reset = (chrono::Utc::now() + chrono::Duration::seconds(30))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let wait = retry_after(
            &headers(&[("x-ratelimit-reset", &reset)]),
            Duration::from_secs(300),
        )
        .unwrap();
        assert!(
            wait > Duration::from_secs(20) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert_eq!(retry_after(&headers(&[]), Duration::from_secs(300)), None);
    }

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
