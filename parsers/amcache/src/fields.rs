//! Typed access to the values of one Amcache key. Amcache stores the same kind of
//! fact in different encodings by version (a link date as a DWORD of Unix seconds on
//! Windows 8, as "MM/DD/YYYY HH:MM:SS" text on Windows 10), so conversions live here.

use filetime::Filetime;
use regf::{Key, ValueData};

/// Seconds between 1601-01-01 and 1970-01-01.
const UNIX_EPOCH_SECONDS: u64 = 11_644_473_600;
const TICKS_PER_SECOND: u64 = 10_000_000;

/// The values of one key, decoded once.
pub(crate) struct Fields {
    values: Vec<(String, ValueData)>,
}

impl Fields {
    /// Reads every value of `key`; values that cannot be read are skipped and their
    /// errors appended to `problems`.
    pub(crate) fn read(key: &Key<'_>, problems: &mut Vec<String>) -> regf::Result<Self> {
        let mut values = Vec::new();
        for v in key.values()? {
            match v.data() {
                Ok(data) => values.push((v.name(), data)),
                Err(e) => problems.push(format!("value {:?}: {e}", v.name())),
            }
        }
        Ok(Fields { values })
    }

    fn get(&self, name: &str) -> Option<&ValueData> {
        self.values
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, d)| d)
    }

    /// A non-empty string value.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        match self.get(name)? {
            ValueData::String(s) | ValueData::ExpandString(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }
    }

    /// A number stored as DWORD, QWORD, decimal text or `0x` hex text.
    pub(crate) fn number(&self, name: &str) -> Option<u64> {
        match self.get(name)? {
            ValueData::Dword(n) => Some(u64::from(*n)),
            ValueData::Qword(n) => Some(*n),
            // Some Windows 10 builds write sizes as hex text ("0x3e40").
            ValueData::String(s) => match s.trim().strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => s.trim().parse().ok(),
            },
            _ => None,
        }
    }

    /// A FILETIME stored as QWORD.
    pub(crate) fn filetime(&self, name: &str) -> Option<Filetime> {
        match self.get(name)? {
            ValueData::Qword(n) if *n != 0 => Some(Filetime::from_raw(*n)),
            _ => None,
        }
    }

    /// A time stored as Unix seconds (DWORD/QWORD); 0 means unset.
    pub(crate) fn unix_time(&self, name: &str) -> Option<Filetime> {
        self.number(name).filter(|s| *s != 0).and_then(unix_seconds)
    }

    /// A time stored as "MM/DD/YYYY HH:MM:SS" (UTC) text.
    pub(crate) fn text_time(&self, name: &str) -> Option<Filetime> {
        parse_us_datetime(&self.text(name)?)
    }

    /// A SHA-1 as Amcache stores it: 40 hex digits behind four padding zeros.
    pub(crate) fn sha1(&self, name: &str) -> Option<String> {
        strip_sha1(&self.text(name)?)
    }
}

/// Drops the "0000" Amcache puts before a SHA-1; anything that is not then 40 hex
/// digits is not a hash and is dropped.
pub(crate) fn strip_sha1(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let hex = trimmed
        .strip_prefix("0000")
        .filter(|h| h.len() == 40)
        .unwrap_or(trimmed);
    (hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

fn unix_seconds(secs: u64) -> Option<Filetime> {
    secs.checked_add(UNIX_EPOCH_SECONDS)?
        .checked_mul(TICKS_PER_SECOND)
        .map(Filetime::from_raw)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses "MM/DD/YYYY HH:MM:SS".
pub(crate) fn parse_us_datetime(text: &str) -> Option<Filetime> {
    let (date, time) = text.trim().split_once(' ')?;
    let mut d = date.split('/').map(|p| p.parse::<i64>().ok());
    let (month, day, year) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (t.next()??, t.next()??, t.next()??);
    if d.next().is_some() || t.next().is_some() {
        return None;
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s;
    let since_1601 = secs.checked_add(UNIX_EPOCH_SECONDS as i64)?;
    u64::try_from(since_1601)
        .ok()?
        .checked_mul(TICKS_PER_SECOND)
        .map(Filetime::from_raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        // 2019-02-21T16:00:00Z = Unix 1550764800 (date -u -d @1550764800).
        assert_eq!(
            parse_us_datetime("02/21/2019 16:00:00"),
            unix_seconds(1_550_764_800)
        );
        assert_eq!(parse_us_datetime("13/01/2019 00:00:00"), None);
        assert_eq!(parse_us_datetime(""), None);
    }

    #[test]
    fn sha1_padding() {
        let h = "6c7ea8bbd435163ae3945cbef30ef6b9872a4591";
        assert_eq!(strip_sha1(&format!("0000{h}")).as_deref(), Some(h));
        assert_eq!(strip_sha1(h).as_deref(), Some(h));
        assert_eq!(strip_sha1("0000abc"), None);
    }
}
