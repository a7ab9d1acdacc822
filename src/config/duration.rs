//! Durations as people write them in configuration: a whole number and a unit, `500ms`, `90s`,
//! `10m`, `1h`, `30d`. Printed back in the largest unit that divides them exactly.

use std::fmt;
use std::time::Duration;

/// What the error message says a duration looks like.
pub const DURATION_FORMAT: &str =
    "write a whole number and a unit (ms, s, m, h or d), like 90s, 10m, 1h or 30d";

/// Parses `90s`, `10m`, `1h`, `30d` or `500ms`.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let split = raw
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{raw}` has no unit; {DURATION_FORMAT}"))?;
    let (number, unit) = raw.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{raw}` is not a duration; {DURATION_FORMAT}"))?;
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("`{raw}` is not a duration; {DURATION_FORMAT}")),
    };
    number
        .checked_mul(millis_per_unit)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("`{raw}` is too long"))
}

/// A duration shown the way it would be configured.
pub struct Human(pub Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        for (unit, size) in [
            ("d", 86_400_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1_000),
        ] {
            if ms >= size && ms.is_multiple_of(size) {
                return write!(f, "{}{unit}", ms / size);
            }
        }
        write!(f, "{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        for bad in [
            "",
            "10",
            "s",
            "1.5h",
            "-1s",
            "10 parsecs",
            "1w",
            "99999999999999999999d",
        ] {
            let err = parse_duration(bad).expect_err(bad);
            assert!(!err.is_empty());
        }
        assert!(parse_duration("10").unwrap_err().contains("no unit"));
    }

    proptest::proptest! {
        #[test]
        fn what_parses_prints_back_the_same(n in 0u64..=u64::MAX / 86_400_000, unit in "(ms|s|m|h|d)") {
            let duration = parse_duration(&format!("{n}{unit}")).unwrap();
            let printed = Human(duration).to_string();
            proptest::prop_assert_eq!(parse_duration(&printed), Ok(duration));
        }

        #[test]
        fn any_text_parses_or_says_why(raw in "\\PC{0,24}") {
            if let Err(message) = parse_duration(&raw) {
                proptest::prop_assert!(!message.is_empty());
            }
        }
    }

    #[test]
    fn prints_the_largest_exact_unit() {
        assert_eq!(Human(Duration::from_secs(90)).to_string(), "90s");
        assert_eq!(Human(Duration::from_secs(3600)).to_string(), "1h");
        assert_eq!(Human(Duration::from_millis(1500)).to_string(), "1500ms");
    }
}
