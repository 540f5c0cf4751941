//! Civil-time arithmetic in UTC, without a date crate.
//!
//! Confluence prints timestamps as ISO-8601 with milliseconds (`2025-02-18T04:08:03.579Z`) and
//! CQL takes `yyyy/MM/dd HH:mm` literals and `startOfWeek("-1w")`-style functions; these few
//! functions cover both. All times are milliseconds since the Unix epoch.

use std::time::{SystemTime, UNIX_EPOCH};

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

/// Adds months to a time, clamping the day to the target month's length.
pub(crate) fn add_months(ms: i64, months: i64) -> i64 {
    let days = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    let total = y * 12 + i64::from(m) - 1 + months;
    let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
    let last = days_in_month(ny, nm);
    days_from_civil(ny, nm, d.min(last)) * DAY_MS + rem
}

/// Days in a month.
pub(crate) fn days_in_month(y: i64, m: u32) -> u32 {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    (days_from_civil(ny, nm, 1) - days_from_civil(y, m, 1)) as u32
}

/// Parses one of CQL's four literal date forms: `yyyy/MM/dd HH:mm`, `yyyy-MM-dd HH:mm`,
/// `yyyy/MM/dd`, `yyyy-MM-dd`.
pub(crate) fn parse_cql_date(s: &str) -> Option<i64> {
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
    let y: i64 = parts[0].parse().ok()?;
    let mo: u32 = parts[1].parse().ok()?;
    let d: u32 = parts[2].parse().ok()?;
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
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
    Some(ms_from_civil(y, mo, d, h, mi))
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
        assert_eq!(
            parse_cql_date("2014/09/01"),
            Some(ms_from_civil(2014, 9, 1, 0, 0))
        );
        assert_eq!(
            parse_cql_date("2014-09-01 13:05"),
            Some(ms_from_civil(2014, 9, 1, 13, 5))
        );
        assert_eq!(parse_cql_date("2026-05-12T09:00:00.000Z"), None);
        assert_eq!(parse_cql_date("2014-02-30"), None);
        assert_eq!(
            add_months(ms_from_civil(2024, 1, 31, 0, 0), 1),
            ms_from_civil(2024, 2, 29, 0, 0)
        );
    }
}
