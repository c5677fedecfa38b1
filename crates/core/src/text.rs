//! Validated text values: bounded strings, `source_id`s, emails, country codes, time zones.

use crate::rejection::{FieldError, FieldErrorKey};

/// Trims nothing and accepts nothing longer than `max_chars` or empty.
pub fn bounded(path: &str, value: &str, max_chars: usize) -> Result<String, FieldError> {
    if value.trim().is_empty() {
        return Err(FieldError::new(path, FieldErrorKey::Required, "must not be empty or blank"));
    }
    if value.chars().count() > max_chars {
        return Err(FieldError::new(path, FieldErrorKey::TooLong, format!("must be at most {max_chars} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(path, FieldErrorKey::InvalidFormat, "must not contain control characters"));
    }
    Ok(value.to_owned())
}

/// A merchant's own id for a resource: 1–128 printable characters without surrounding spaces, not shaped
/// like a Fidelis id (paths take either, and an id always wins).
pub fn source_id(path: &str, value: &str) -> Result<String, FieldError> {
    let text = bounded(path, value, crate::limits::SOURCE_ID_CHARS_MAX)?;
    if text.trim() != text {
        return Err(FieldError::new(path, FieldErrorKey::InvalidFormat, "must not start or end with spaces"));
    }
    if crate::ids::has_any_id_shape(&text) {
        return Err(FieldError::new(
            path,
            FieldErrorKey::InvalidFormat,
            "must not look like a Fidelis id (a prefix, '_' and 26 characters)",
        ));
    }
    Ok(text)
}

/// A plausible email address (something@domain), lower-cased domain.
pub fn email(path: &str, value: &str) -> Result<String, FieldError> {
    let text = bounded(path, value, crate::limits::SHORT_TEXT_CHARS_MAX)?;
    let valid = match text.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.contains(char::is_whitespace)
        }
        None => false,
    };
    if !valid {
        return Err(FieldError::new(path, FieldErrorKey::InvalidFormat, "must be an email address"));
    }
    Ok(text)
}

/// An ISO 3166-1 alpha-2 country code, upper-cased.
pub fn country(path: &str, value: &str) -> Result<String, FieldError> {
    if value.len() == 2 && value.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(value.to_ascii_uppercase())
    } else {
        Err(FieldError::new(path, FieldErrorKey::InvalidFormat, "must be a two-letter ISO 3166 country code"))
    }
}

/// An IANA time zone name known to the bundled database.
pub fn time_zone(path: &str, value: &str) -> Result<String, FieldError> {
    match jiff::tz::TimeZone::get(value) {
        Ok(_) if value.len() <= crate::limits::TIME_ZONE_CHARS_MAX => Ok(value.to_owned()),
        _ => {
            Err(FieldError::new(path, FieldErrorKey::InvalidFormat, "must be an IANA time zone such as Europe/Berlin"))
        }
    }
}

/// A calendar date `YYYY-MM-DD`.
pub fn date(path: &str, value: &str) -> Result<jiff::civil::Date, FieldError> {
    let parsed = (value.len() == 10).then(|| value.parse::<jiff::civil::Date>().ok()).flatten();
    parsed.ok_or_else(|| FieldError::new(path, FieldErrorKey::InvalidFormat, "must be a date YYYY-MM-DD"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_text_refuses_empty_oversized_and_control_characters() {
        assert!(bounded("/name", "", 5).is_err());
        assert!(bounded("/name", "abcdef", 5).is_err());
        assert!(bounded("/name", "a\u{0}b", 5).is_err());
        assert_eq!(bounded("/name", "Zoë", 5).unwrap(), "Zoë");
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(email("/email", "ann@example.com").is_ok());
        for bad in ["ann", "@example.com", "ann@example", "ann@.com", "a nn@example.com"] {
            assert!(email("/email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn country_codes_are_upper_cased_two_letters() {
        assert_eq!(country("/c", "de").unwrap(), "DE");
        assert!(country("/c", "DEU").is_err());
    }

    #[test]
    fn time_zones_come_from_the_bundled_database() {
        assert!(time_zone("/tz", "Europe/Berlin").is_ok());
        assert!(time_zone("/tz", "Mars/Olympus").is_err());
    }

    #[test]
    fn dates_are_strict_iso_dates() {
        assert!(date("/d", "2024-02-29").is_ok());
        assert!(date("/d", "2023-02-29").is_err());
        assert!(date("/d", "2024-2-1").is_err());
    }
}
