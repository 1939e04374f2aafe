//! RFC 3339 timestamps as PostgREST reads and writes them, to and from milliseconds since the
//! Unix epoch. The change feed needs exactly two things, "changes since this time" in a query
//! and "when was this change" in an answer; a date crate would cost Wasm bytes for both.

/// Days from 1970-01-01 to the proleptic Gregorian date `y-m-d` (Howard Hinnant's algorithm).
#[inline]
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(y, m, d)` of a day count from 1970-01-01 (the inverse of [`days_from_civil`]).
#[inline]
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `ms` as `YYYY-MM-DDTHH:MM:SS.mmmZ`, which PostgREST accepts as a `timestamptz` filter value.
#[inline]
pub fn format_ms(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60,
        ms % 1000
    )
}

/// Milliseconds since the epoch of an RFC 3339 timestamp with a `Z` or `±HH[:MM]` offset
/// (`2026-11-24T23:03:46.123456+00:00`, as PostgREST writes `timestamptz`); a space may stand
/// for the `T`. Fractions below a millisecond are cut. `None` for anything else, or before 1970.
#[inline]
pub fn parse_ms(input: &str) -> Option<u64> {
    let b = input.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = input.get(range)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &input[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &fraction[..digits.min(3)]);
        millis = padded.parse::<i64>().ok()?;
        rest = &fraction[digits..];
    }
    let offset_s = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hm = rest[1..].replace(':', "");
            if hm.len() != 2 && hm.len() != 4 || !hm.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let hours: i64 = hm[..2].parse().ok()?;
            let minutes: i64 = hm
                .get(2..)
                .filter(|m| !m.is_empty())
                .map_or(Ok(0), str::parse)
                .ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset_s;
    u64::try_from(secs * 1000 + millis).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_postgrest_reads_it() {
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_ms(1_795_894_426_123), "2026-11-28T19:33:46.123Z");
        assert_eq!(format_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn parses_what_postgrest_writes() {
        assert_eq!(
            parse_ms("2026-11-28T19:33:46.123456+00:00"),
            Some(1_795_894_426_123)
        );
        assert_eq!(
            parse_ms("2026-11-28T19:33:46+00:00"),
            Some(1_795_894_426_000)
        );
        assert_eq!(parse_ms("2026-11-28T19:33:46.1Z"), Some(1_795_894_426_100));
        assert_eq!(
            parse_ms("2026-11-28 20:33:46.123+01"),
            Some(1_795_894_426_123)
        );
        assert_eq!(
            parse_ms("2026-11-28T14:03:46.123-05:30"),
            Some(1_795_894_426_123)
        );
        assert_eq!(parse_ms("2000-02-29T00:00:00Z"), Some(951_782_400_000));
    }

    #[test]
    fn round_trips() {
        for ms in [
            0,
            1,
            999,
            86_399_999,
            951_782_400_000,
            1_795_894_426_123,
            4_102_444_800_000,
        ] {
            assert_eq!(parse_ms(&format_ms(ms)), Some(ms), "{ms}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_timestamp() {
        for bad in [
            "",
            "2026-11-28",
            "2026-11-28T19:33:46",
            "2026-13-28T19:33:46Z",
            "2026-11-28T24:33:46Z",
            "2026-11-28T19:33:46.Z",
            "2026-11-28T19:33:46+5",
            "2026-11-28T19:33:46 +00:00",
            "1969-12-31T23:59:59Z",
            "２026-11-28T19:33:46Z",
            "2026-11-28T19:33:46ZZ",
        ] {
            assert_eq!(parse_ms(bad), None, "{bad}");
        }
    }
}
