//! Durations as operators write them: `90s`, `15m`, `1h`, `3d`.

use crate::DomainError;

/// Parses `90s`, `15m`, `1h`, `3d` (or a sum such as `1h30m`) into seconds.
pub fn parse_duration(field: &'static str, text: &str) -> Result<i64, DomainError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DomainError::field(
            field,
            "empty duration; write e.g. 15m, 1h, 3d, 90s",
        ));
    }
    let mut total: i64 = 0;
    let mut number: Option<i64> = None;
    for ch in text.chars() {
        if let Some(d) = ch.to_digit(10) {
            let n = number.unwrap_or(0);
            number = Some(
                n.checked_mul(10)
                    .and_then(|n| n.checked_add(i64::from(d)))
                    .ok_or_else(|| DomainError::field(field, "duration too large"))?,
            );
            continue;
        }
        let unit = match ch {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => {
                return Err(DomainError::field(
                    field,
                    format!("unknown unit '{ch}' in '{text}'; use s, m, h, d or w"),
                ));
            }
        };
        let n = number.take().ok_or_else(|| {
            DomainError::field(field, format!("'{text}' has a unit without a number"))
        })?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| DomainError::field(field, "duration too large"))?;
    }
    if number.is_some() {
        return Err(DomainError::field(
            field,
            format!("'{text}' ends without a unit; write e.g. 15m"),
        ));
    }
    Ok(total)
}

/// Formats seconds in the largest exact unit: `900` → `15m`.
pub fn format_duration(secs: i64) -> String {
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs != 0 && secs % size == 0 {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_sums() {
        assert_eq!(parse_duration("d", "90s"), Ok(90));
        assert_eq!(parse_duration("d", "15m"), Ok(900));
        assert_eq!(parse_duration("d", "1h"), Ok(3600));
        assert_eq!(parse_duration("d", "3d"), Ok(259_200));
        assert_eq!(parse_duration("d", "1h30m"), Ok(5400));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_duration("d", "").is_err());
        assert!(parse_duration("d", "15").is_err());
        assert!(parse_duration("d", "m").is_err());
        assert!(parse_duration("d", "5y").is_err());
        assert!(parse_duration("d", "99999999999999999999d").is_err());
    }

    #[test]
    fn formats_round_trip() {
        for s in [90, 900, 3600, 259_200] {
            assert_eq!(parse_duration("d", &format_duration(s)), Ok(s));
        }
    }
}
