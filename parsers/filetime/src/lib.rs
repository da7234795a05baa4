//! Windows `FILETIME`: a count of 100-nanosecond intervals since 1601-01-01 UTC.
//!
//! Every artifact toolmark reads (NTFS attributes, registry keys, Prefetch, the USN
//! journal, Amcache, ShimCache) stores time this way. Parsers keep the raw value so
//! nothing is lost; conversion to calendar time happens only on output, and a value
//! outside the calendar range `jiff` supports is reported as absent, never as a
//! made-up date.

// Parsers read hostile bytes: a panic would cost the whole scan, so every
// fallible step returns an error (tests may unwrap: clippy.toml).
#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::fmt;

/// 100 ns intervals between 1601-01-01 and 1970-01-01.
const UNIX_EPOCH_AS_FILETIME: u64 = 116_444_736_000_000_000;

/// A raw Windows FILETIME value (UTC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Filetime(pub u64);

impl Filetime {
    /// Wraps a raw 64-bit FILETIME.
    pub const fn from_raw(raw: u64) -> Self {
        Filetime(raw)
    }

    /// Reads a little-endian FILETIME from the first 8 bytes of `bytes`, if there are 8.
    pub fn from_le_slice(bytes: &[u8]) -> Option<Self> {
        let array: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
        Some(Filetime(u64::from_le_bytes(array)))
    }

    /// The raw value.
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// True for 0, which Windows writes for "never" / "not set".
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Nanoseconds since the Unix epoch (negative before 1970).
    pub fn unix_nanos(self) -> i128 {
        (i128::from(self.0) - i128::from(UNIX_EPOCH_AS_FILETIME)) * 100
    }

    /// The instant as a `jiff::Timestamp`, or `None` for zero and for values outside
    /// jiff's range (year -9999..=9999), which only damaged data produces.
    pub fn to_timestamp(self) -> Option<jiff::Timestamp> {
        if self.is_zero() {
            return None;
        }
        jiff::Timestamp::from_nanosecond(self.unix_nanos()).ok()
    }
}

/// ISO-8601 UTC with the full 100 ns precision, e.g. `2024-03-10T21:02:35.1234567Z`;
/// empty for zero or out-of-range values so CSV cells stay blank rather than wrong.
impl fmt::Display for Filetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_timestamp() {
            Some(ts) => write!(f, "{}", ts.strftime("%Y-%m-%dT%H:%M:%S.%7fZ")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_epoch() {
        assert_eq!(Filetime(UNIX_EPOCH_AS_FILETIME).unix_nanos(), 0);
        assert_eq!(
            Filetime(UNIX_EPOCH_AS_FILETIME).to_string(),
            "1970-01-01T00:00:00.0000000Z"
        );
    }

    #[test]
    fn known_value_from_windows() {
        // Python's datetime(1601, 1, 1) + timedelta(microseconds=raw // 10) gives
        // 2017-11-11 01:43:08.729129 for this raw value (last digit 0).
        let ft = Filetime(0x01D3_5A8E_6D2B_5F9A);
        assert_eq!(ft.to_string(), "2017-11-11T01:43:08.7291290Z");
    }

    #[test]
    fn zero_and_absurd_values_are_blank() {
        assert_eq!(Filetime(0).to_string(), "");
        assert!(Filetime(u64::MAX).to_timestamp().is_none());
        assert_eq!(Filetime(u64::MAX).to_string(), "");
    }

    #[test]
    fn short_slices_are_rejected() {
        assert_eq!(Filetime::from_le_slice(&[1, 2, 3]), None);
        assert_eq!(
            Filetime::from_le_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 9]),
            Some(Filetime(1))
        );
    }
}
