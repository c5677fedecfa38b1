//! Customer references from an uploaded CSV file (RFC 4180: quoted fields, embedded commas and line breaks).
//! The header names the reference column (`source_id`, `customer_id` or `id`); other columns are ignored, so
//! a shop's customer export can be uploaded as it is.

use crate::error::ApiError;
use crate::error::ErrorCode;
use fidelis_core::ids::CustomerId;
use fidelis_engine::domains::segments::MemberError;
use fidelis_engine::port::CustomerRef;

/// Characters of a bad value quoted back in the per-row report.
const REPORTED_VALUE_CHARS_MAX: usize = 140;

/// References by line number, and the lines that hold none.
pub type CsvRows = (Vec<(usize, CustomerRef)>, Vec<MemberError>);

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidCsv, message)
}

/// Reads at most `rows_max` data rows; blank rows are skipped.
pub fn customer_references(text: &str, rows_max: usize) -> Result<CsvRows, ApiError> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| invalid(format!("the header line is not CSV: {e}")))?.clone();
    let column = |name: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let (index, by_id) = match (column("source_id"), column("customer_id").or_else(|| column("id"))) {
        (Some(_), Some(_)) => return Err(invalid("name customers by one column: source_id, customer_id or id")),
        (Some(i), None) => (i, false),
        (None, Some(i)) => (i, true),
        (None, None) => {
            return Err(invalid("the first line must be a header with a source_id, customer_id or id column"));
        }
    };
    let (mut references, mut errors) = (Vec::new(), Vec::new());
    // Line numbers are counted from byte offsets: the reader's own count skips blank lines.
    let (mut counted_to, mut line) = (0, 1);
    for record in reader.records() {
        let record = record.map_err(|e| invalid(format!("the file is not CSV: {e}")))?;
        let start = record.position().map_or(counted_to, |p| usize::try_from(p.byte()).unwrap_or(counted_to));
        let mut start = start.clamp(counted_to, text.len());
        // The reader's position can include the blank lines skipped before the record.
        while text.as_bytes().get(start).is_some_and(|b| *b == b'\n' || *b == b'\r') {
            start += 1;
        }
        line += text.as_bytes()[counted_to..start].iter().filter(|b| **b == b'\n').count();
        counted_to = start;
        let value = record.get(index).unwrap_or("").trim();
        if value.is_empty() {
            if record.iter().any(|f| !f.trim().is_empty()) {
                errors.push(MemberError { index: line, reference: String::new(), reason: "no customer reference" });
            }
            continue;
        }
        let reference = if by_id {
            CustomerId::parse(value).map(CustomerRef::Id)
        } else {
            fidelis_core::text::source_id("/source_id", value).ok().map(CustomerRef::Source)
        };
        match reference {
            Some(r) => references.push((line, r)),
            None => errors.push(MemberError {
                index: line,
                reference: value.chars().take(REPORTED_VALUE_CHARS_MAX).collect(),
                reason: "not a customer reference",
            }),
        }
        if references.len() + errors.len() > rows_max {
            return Err(ApiError::new(ErrorCode::TooManyRows, format!("at most {rows_max} rows per import")));
        }
    }
    Ok((references, errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, text) pairs.
    type Lines = Vec<(usize, String)>;

    fn refs(text: &str) -> (Lines, Lines) {
        let (found, errors) = customer_references(text, 10).expect("a valid file");
        let found = found
            .into_iter()
            .map(|(line, r)| match r {
                CustomerRef::Source(s) => (line, s),
                CustomerRef::Id(id) => (line, id.to_string()),
            })
            .collect();
        (found, errors.into_iter().map(|e| (e.index, e.reference)).collect())
    }

    #[test]
    fn other_columns_are_ignored_and_quoted_fields_may_hold_commas_and_line_breaks() {
        let (found, errors) = refs("email,source_id\n\"a@x, inc\",alice\n\"multi\nline\",\"bob\"\n");
        assert_eq!(found, vec![(2, "alice".to_owned()), (3, "bob".to_owned())]);
        assert!(errors.is_empty());
    }

    #[test]
    fn ragged_and_blank_rows_are_reported_or_skipped_by_line() {
        let (found, errors) = refs("\u{feff}email,Customer_ID\nx\n\n,cust_bad\n");
        assert!(found.is_empty());
        assert_eq!(errors, vec![(2, String::new()), (4, "cust_bad".to_owned())]);
    }

    #[test]
    fn a_file_without_a_reference_column_or_with_two_is_refused() {
        for text in ["email\nalice@x\n", "source_id,id\na,b\n", ""] {
            assert_eq!(
                customer_references(text, 10).err().map(|e| e.status),
                Some(axum::http::StatusCode::BAD_REQUEST),
                "{text:?}"
            );
        }
    }

    #[test]
    fn more_rows_than_allowed_are_refused() {
        let text = format!("source_id\n{}", "a\n".repeat(11));
        assert_eq!(
            customer_references(&text, 10).err().map(|e| e.status),
            Some(axum::http::StatusCode::PAYLOAD_TOO_LARGE)
        );
    }
}
