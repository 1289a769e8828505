//! How the commands show times, durations and sizes to people: dates in UTC with how long ago
//! (jiff), sizes with binary units (bytesize). One place, so every command says them alike.

use std::time::{Duration, SystemTime};

use bytesize::ByteSize;
use jiff::fmt::friendly::{Designator, Spacing, SpanPrinter};
use jiff::{SignedDuration, SpanRound, Timestamp, Unit};

/// `235.6 MiB`, `12 B`.
pub fn size(bytes: u64) -> String {
    ByteSize(bytes).display().iec().to_string()
}

/// A moment given in Unix milliseconds, as a date and how long before `now` it was:
/// `2026-12-01 16:20:13 UTC, 3m 10s ago`.
pub fn moment(unix_ms: u64, now: SystemTime) -> String {
    let Ok(then) = Timestamp::from_millisecond(i64::try_from(unix_ms).unwrap_or(i64::MAX)) else {
        return format!("{unix_ms} ms after 1970 (not a date)");
    };
    let date = then.strftime("%Y-%m-%d %H:%M:%S UTC");
    let now = Timestamp::try_from(now).unwrap_or(then);
    let since = now.duration_since(then);
    if since.is_negative() {
        format!("{date}, in {} (clocks differ?)", span(since.unsigned_abs()))
    } else if since < SignedDuration::from_secs(1) {
        format!("{date}, just now")
    } else {
        format!("{date}, {} ago", span(since.unsigned_abs()))
    }
}

/// A duration for people, to the precision that matters at its length: `5s`, `3m 10s`,
/// `1h 7m`, `4d 15h`.
pub fn span(duration: Duration) -> String {
    let (largest, smallest) = match duration.as_secs() {
        0 => return format!("{} ms", duration.as_millis()),
        1..3600 => (Unit::Minute, Unit::Second),
        3600..86_400 => (Unit::Hour, Unit::Minute),
        _ => (Unit::Day, Unit::Hour),
    };
    let printer = SpanPrinter::new().designator(Designator::HumanTime).spacing(Spacing::BetweenUnits);
    let rounding = SpanRound::new().largest(largest).smallest(smallest).days_are_24_hours();
    match jiff::Span::try_from(duration).and_then(|span| span.round(rounding)) {
        Ok(span) => printer.span_to_string(&span),
        Err(_) => format!("{} s", duration.as_secs()),
    }
}

/// Parses a size for an option: `123` (bytes), `64KiB`, `512MiB`, `1.5GiB` (powers of 1024), `64K`,
/// `1.5G` (powers of 1000), as bytesize reads them.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let size: ByteSize = text.trim().parse().map_err(|_| {
        format!("`{text}` is not a size: write bytes, or a number and a unit such as 64KiB, 512MiB, 1.5G")
    })?;
    // bytesize saturates on overflow; a size that large was not meant.
    match usize::try_from(size.as_u64()) {
        Ok(bytes) if size.as_u64() != u64::MAX => Ok(bytes),
        _ => Err(format!("`{text}` is too large")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_and_written_with_units() {
        for (text, bytes) in [("100", 100), ("64K", 64_000), ("512MiB", 512 << 20), ("1.5G", 1_500_000_000)] {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
        for bad in ["", "x", "-1", "12 parsecs", "99999999999999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad:?} was taken as a size");
        }
        assert_eq!(size(12), "12 B");
        assert_eq!(size(1536), "1.5 KiB");
    }

    #[test]
    fn moments_say_the_date_and_how_long_ago() {
        let then = 1_764_606_013_000; // 2025-12-01 16:20:13 UTC
        let at = |seconds: u64| SystemTime::UNIX_EPOCH + Duration::from_millis(then) + Duration::from_secs(seconds);
        assert_eq!(moment(then, at(0)), "2025-12-01 16:20:13 UTC, just now");
        assert_eq!(moment(then, at(190)), "2025-12-01 16:20:13 UTC, 3m 10s ago");
        assert_eq!(moment(then, at(4000)), "2025-12-01 16:20:13 UTC, 1h 7m ago");
        assert_eq!(moment(then, at(400_000)), "2025-12-01 16:20:13 UTC, 4d 15h ago");
        assert!(moment(then + 60_000, at(0)).contains("in 1m"));
        assert!(moment(u64::MAX, at(0)).contains("not a date"));
    }
}
