//! Civil-time arithmetic.
//!
//! Confluence prints timestamps as ISO-8601 with milliseconds in UTC
//! (`2025-02-18T04:08:03.579Z`), done here without a date crate. CQL takes
//! `yyyy/MM/dd HH:mm` literals and `startOfWeek("-1w")`-style functions, which Confluence
//! reads in the calling user's time zone: those go through `chrono-tz` (IANA zones, DST).
//! All instants are milliseconds since the Unix epoch.

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{LocalResult, Months, NaiveDate, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;

/// Milliseconds in one day.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// The current time in milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day number.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Milliseconds of a civil date and time.
pub(crate) fn ms_from_civil(y: i64, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    days_from_civil(y, mo, d) * DAY_MS + i64::from(h) * 3_600_000 + i64::from(mi) * 60_000
}

/// ISO-8601 with milliseconds and `Z`, as Confluence prints it.
pub(crate) fn iso(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        (rem / 60_000) % 60,
        (rem / 1000) % 60,
        rem % 1000,
    );
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

/// `Mar 01, 2024`, the `friendlyLastModified` form.
pub(crate) fn friendly(ms: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    format!("{} {d:02}, {y}", MONTHS[(m - 1) as usize])
}

/// `yyyy-MM-ddTHH:mmZ`, the `X-RateLimit-Reset` form.
pub(crate) fn iso_minutes(ms: i64) -> String {
    let s = iso(ms);
    format!("{}Z", &s[..16])
}

/// Days in a month.
pub(crate) fn days_in_month(y: i64, m: u32) -> u32 {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    (days_from_civil(ny, nm, 1) - days_from_civil(y, m, 1)) as u32
}

/// A CQL date literal: a local wall time, and whether a time of day was given (minute
/// precision) or only a date (the whole day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CqlDate {
    pub local: NaiveDateTime,
    pub with_time: bool,
}

/// Parses one of CQL's four literal date forms: `yyyy/MM/dd HH:mm`, `yyyy-MM-dd HH:mm`,
/// `yyyy/MM/dd`, `yyyy-MM-dd`. The result is a wall time, without a zone: the caller's time
/// zone gives it an instant ([`from_local`]).
pub(crate) fn parse_cql_date(s: &str) -> Option<CqlDate> {
    let s = s.trim();
    let (date, time) = match s.split_once(' ') {
        Some((d, t)) => (d, Some(t.trim())),
        None => (s, None),
    };
    let sep = if date.contains('/') { '/' } else { '-' };
    let parts: Vec<&str> = date.split(sep).collect();
    if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() > 2 || parts[2].len() > 2 {
        return None;
    }
    let y: i32 = parts[0].parse().ok()?;
    let mo: u32 = parts[1].parse().ok()?;
    let d: u32 = parts[2].parse().ok()?;
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(i64::from(y), mo) {
        return None;
    }
    let (h, mi) = match time {
        None => (0, 0),
        Some(t) => {
            let (h, mi) = t.split_once(':')?;
            if h.len() > 2 || mi.len() != 2 {
                return None;
            }
            let (h, mi): (u32, u32) = (h.parse().ok()?, mi.parse().ok()?);
            if h > 23 || mi > 59 {
                return None;
            }
            (h, mi)
        }
    };
    Some(CqlDate {
        local: NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_opt(h, mi, 0)?,
        with_time: time.is_some(),
    })
}

/// The instant (ms) of a wall time in a zone, resolved as `java.time` does: a wall time in a
/// spring-forward gap moves forward by the gap (02:30 becomes 03:30 when clocks jump from
/// 02:00 to 03:00), and an ambiguous one in a fall-back overlap takes the earlier instant
/// (the offset before the transition).
pub(crate) fn from_local(tz: Tz, local: NaiveDateTime) -> i64 {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.timestamp_millis(),
        LocalResult::Ambiguous(a, b) => a.timestamp_millis().min(b.timestamp_millis()),
        LocalResult::None => {
            // The offset in force a day earlier is the one before the gap.
            let before = local - chrono::Duration::days(1);
            let offset = tz.offset_from_utc_datetime(&before).fix().local_minus_utc();
            local.and_utc().timestamp_millis() - i64::from(offset) * 1000
        }
    }
}

/// The wall time of an instant (ms) in a zone.
pub(crate) fn to_local(tz: Tz, ms: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&tz)
        .naive_local()
}

/// Adds a calendar increment to a wall time: years, months (day clamped to the month's
/// length), weeks or days.
pub(crate) fn add_calendar(t: NaiveDateTime, n: i64, unit: char) -> NaiveDateTime {
    let months = |t: NaiveDateTime, m: i64| {
        let k = Months::new(m.unsigned_abs().min(u64::from(u32::MAX)) as u32);
        if m >= 0 {
            t.checked_add_months(k)
        } else {
            t.checked_sub_months(k)
        }
        .unwrap_or(t)
    };
    match unit {
        'y' => months(t, n.saturating_mul(12)),
        'M' => months(t, n),
        'w' => t
            .checked_add_signed(chrono::Duration::days(n.saturating_mul(7)))
            .unwrap_or(t),
        'd' => t.checked_add_signed(chrono::Duration::days(n)).unwrap_or(t),
        _ => t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_civil_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        for z in [-1000, 0, 59, 60, 10_957, 20_000, 30_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(1_715_246_041_818), "2024-05-09T09:14:01.818Z");
        assert_eq!(friendly(1_709_285_400_000), "Mar 01, 2024");
    }

    #[test]
    fn parses_cql_dates() {
        let at = |s: &str| parse_cql_date(s).map(|d| from_local(Tz::UTC, d.local));
        assert_eq!(at("2014/09/01"), Some(ms_from_civil(2014, 9, 1, 0, 0)));
        assert_eq!(
            at("2014-09-01 13:05"),
            Some(ms_from_civil(2014, 9, 1, 13, 5))
        );
        assert_eq!(
            parse_cql_date("2014-09-01").map(|d| d.with_time),
            Some(false)
        );
        assert_eq!(
            parse_cql_date("2014-09-01 00:00").map(|d| d.with_time),
            Some(true)
        );
        assert_eq!(parse_cql_date("2026-05-12T09:00:00.000Z"), None);
        assert_eq!(parse_cql_date("2014-02-30"), None);
        assert_eq!(parse_cql_date("2014-02-10 24:00"), None);
        let jan31 = parse_cql_date("2024-01-31").map(|d| d.local);
        assert_eq!(
            jan31.map(|t| add_calendar(t, 1, 'M')),
            parse_cql_date("2024-02-29").map(|d| d.local)
        );
        assert_eq!(
            jan31.map(|t| add_calendar(t, -1, 'y')),
            parse_cql_date("2023-01-31").map(|d| d.local)
        );
    }

    #[test]
    fn wall_times_resolve_in_their_zone_with_dst() {
        let local = |s: &str| parse_cql_date(s).map(|d| d.local).unwrap_or_default();
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap_or(Tz::UTC);
        assert_eq!(
            from_local(kolkata, local("2026-12-02 10:05")),
            ms_from_civil(2026, 12, 2, 4, 35)
        );
        let ny: Tz = "America/New_York".parse().unwrap_or(Tz::UTC);
        // Winter: UTC-5; summer: UTC-4.
        assert_eq!(
            from_local(ny, local("2026-01-15 09:00")),
            ms_from_civil(2026, 1, 15, 14, 0)
        );
        assert_eq!(
            from_local(ny, local("2026-07-15 09:00")),
            ms_from_civil(2026, 7, 15, 13, 0)
        );
        // 2026-03-08 02:30 does not exist in New York: it is read as 03:30 EDT (07:30Z).
        assert_eq!(
            from_local(ny, local("2026-03-08 02:30")),
            ms_from_civil(2026, 3, 8, 7, 30)
        );
        // 2026-11-01 01:30 happens twice: the earlier one (EDT, 05:30Z) is taken.
        assert_eq!(
            from_local(ny, local("2026-11-01 01:30")),
            ms_from_civil(2026, 11, 1, 5, 30)
        );
        assert_eq!(
            to_local(ny, ms_from_civil(2026, 7, 15, 13, 0)),
            local("2026-07-15 09:00")
        );
    }
}
