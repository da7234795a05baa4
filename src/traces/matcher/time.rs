//! Seconds since 1970 from the ISO-8601 UTC text the collectors write
//! (`2019-03-19T23:34:25.1234567Z`), for time-window comparisons only.

/// Seconds since the Unix epoch of `text`, or `None` when it is not ISO-8601.
pub(crate) fn seconds(text: &str) -> Option<i64> {
    let num = |range: std::ops::Range<usize>| -> Option<i64> { text.get(range)?.parse().ok() };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from civil date (proleptic Gregorian), H. Hinnant's algorithm.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn epoch_and_leap_day() {
        assert_eq!(seconds("1970-01-01T00:00:00Z"), Some(0));
        // 2000-03-01 is 11017 days after the epoch (date(1) arithmetic).
        assert_eq!(seconds("2000-03-01T00:00:01.5Z"), Some(11_017 * 86_400 + 1));
        assert_eq!(seconds("not a time"), None);
    }
}
