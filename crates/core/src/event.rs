//! Custom events (C4): something a customer did, with typed metadata, deduplicated by a client id.

use crate::ids::{CustomerId, EventId, ProjectId};
use crate::limits::EVENT_NAME_CHARS_MAX;
use crate::metadata::Metadata;
use crate::rejection::{FieldError, FieldErrorKey};
use jiff::Timestamp;

#[derive(Clone, Debug, PartialEq)]
pub struct CustomEvent {
    pub id: EventId,
    pub project_id: ProjectId,
    pub customer_id: CustomerId,
    pub name: String,
    /// The client's own id of the event; a second event with the same one is a duplicate.
    pub client_event_id: Option<String>,
    pub metadata: Metadata,
    pub occurred_at: Timestamp,
    pub created_at: Timestamp,
}

/// Event names: 1–64 characters of letters, digits, `_`, `.`, `:` and `-`.
pub fn event_name(path: &str, raw: &str) -> Result<String, FieldError> {
    let valid_chars = raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'));
    if raw.is_empty() || raw.len() > EVENT_NAME_CHARS_MAX || !valid_chars {
        return Err(FieldError::new(
            path,
            FieldErrorKey::InvalidFormat,
            format!("event names are 1 to {EVENT_NAME_CHARS_MAX} letters, digits, '_', '.', ':' or '-'"),
        ));
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_are_short_identifiers() {
        assert!(event_name("/event", "review.written").is_ok());
        assert!(event_name("/event", "").is_err());
        assert!(event_name("/event", "has space").is_err());
        assert!(event_name("/event", &"x".repeat(EVENT_NAME_CHARS_MAX + 1)).is_err());
    }
}
