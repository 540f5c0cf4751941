//! What all requests of one client share: the rate-limit pause, the requests-per-second cap and
//! the counters.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;
use ts_rs::TS;

/// Counters of one client, for progress displays and sync reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ClientStats {
    /// HTTP requests sent (attempts, retries included).
    #[ts(type = "number")]
    pub requests: u64,
    /// Attempts repeated after a retryable failure.
    #[ts(type = "number")]
    pub retries: u64,
    /// 429 answers received.
    #[ts(type = "number")]
    pub rate_limited: u64,
    /// Responses whose rate-limit headers slowed the crawl down before a refusal
    /// (`X-RateLimit-NearLimit`, little left of a bucket or quota).
    #[ts(type = "number")]
    pub near_limit: u64,
    /// Wall-clock time all requests were paused by rate limits, in milliseconds.
    #[ts(type = "number")]
    pub rate_limit_wait_ms: u64,
    /// Time spent sleeping in backoff, summed over requests, in milliseconds.
    #[ts(type = "number")]
    pub backoff_wait_ms: u64,
    /// Attempts that got no answer in time (connect, read or whole-request timeout).
    #[ts(type = "number")]
    pub timeouts: u64,
    /// How much longer every request is paused by a rate limit, at the time of the snapshot,
    /// in milliseconds (0 when not paused): a progress display shows "waiting N s".
    #[ts(type = "number")]
    pub paused_ms: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub rate_limited: AtomicU64,
    pub near_limit: AtomicU64,
    pub rate_limit_wait_ms: AtomicU64,
    pub backoff_wait_ms: AtomicU64,
    pub timeouts: AtomicU64,
}

impl Counters {
    pub fn snapshot(&self) -> ClientStats {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ClientStats {
            requests: get(&self.requests),
            retries: get(&self.retries),
            rate_limited: get(&self.rate_limited),
            near_limit: get(&self.near_limit),
            rate_limit_wait_ms: get(&self.rate_limit_wait_ms),
            backoff_wait_ms: get(&self.backoff_wait_ms),
            timeouts: get(&self.timeouts),
            paused_ms: 0,
        }
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

struct State {
    /// No request may start before this instant (set by 429s and near-limit signals).
    not_before: Option<Instant>,
    /// Requests-per-second cap: the earliest instant the next request may start.
    next_slot: Instant,
    /// Spacing the server's rate-limit headers asked for: at most one request per `.0` until
    /// `.1`.
    spaced: Option<(Duration, Instant)>,
}

/// The pause and pacing shared by every request of a client.
pub(crate) struct Gate {
    state: Mutex<State>,
    interval: Option<Duration>,
}

impl Gate {
    pub fn new(requests_per_second: Option<f64>) -> Self {
        let interval = requests_per_second
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r));
        Gate {
            state: Mutex::new(State {
                not_before: None,
                next_slot: Instant::now(),
                spaced: None,
            }),
            interval,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Pauses every request for `wait` from now (never shortens a pause already set).
    /// Returns how much the pause grew, for the counters.
    pub fn pause_for(&self, wait: Duration) -> Duration {
        let now = Instant::now();
        let until = now + wait;
        let mut st = self.lock();
        let current = st.not_before.filter(|t| *t > now).unwrap_or(now);
        if until > current {
            st.not_before = Some(until);
            until - current
        } else {
            Duration::ZERO
        }
    }

    /// Starts at most one request per `every` for `span` after the current pause (never
    /// loosens spacing already in force).
    pub fn space_for(&self, every: Duration, span: Duration) {
        let now = Instant::now();
        let mut st = self.lock();
        let until = st.not_before.filter(|t| *t > now).unwrap_or(now) + span;
        st.spaced = Some(match st.spaced.filter(|(_, t)| *t > now) {
            Some((e, t)) => (e.max(every), t.max(until)),
            None => (every, until),
        });
    }

    /// How long every request is still paused for.
    pub fn remaining(&self) -> Duration {
        let now = Instant::now();
        self.lock()
            .not_before
            .filter(|t| *t > now)
            .map(|t| t - now)
            .unwrap_or(Duration::ZERO)
    }

    /// Waits until the shared pause is over and a requests-per-second slot is free.
    pub async fn wait(&self) {
        loop {
            let now = Instant::now();
            let sleep_until = {
                let mut st = self.lock();
                let spaced = st.spaced.filter(|(_, until)| *until > now).map(|(e, _)| e);
                let interval = match (self.interval, spaced) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
                match st.not_before {
                    Some(t) if t > now => Some(t),
                    _ => match interval {
                        None => None,
                        Some(interval) => {
                            if st.next_slot <= now {
                                st.next_slot = now + interval;
                                None
                            } else {
                                Some(st.next_slot)
                            }
                        }
                    },
                }
            };
            match sleep_until {
                None => return,
                Some(t) => tokio::time::sleep_until(t).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pause_never_shrinks_and_rps_paces() {
        let gate = Gate::new(Some(20.0));
        assert!(gate.pause_for(Duration::from_millis(100)) > Duration::ZERO);
        assert_eq!(gate.pause_for(Duration::from_millis(10)), Duration::ZERO);
        let start = Instant::now();
        for _ in 0..4 {
            gate.wait().await;
        }
        // 100 ms pause, then 4 slots 50 ms apart: the last starts at >= 250 ms.
        assert!(
            start.elapsed() >= Duration::from_millis(240),
            "{:?}",
            start.elapsed()
        );
    }
}
