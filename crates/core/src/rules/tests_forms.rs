//! Tests of the canonical text and JSON forms: what a rule prints as, and that each form reads the other's.

use super::test_support::{json, rule, schema};
use super::{Json, Rule};

/// Parses `input` (text) and compares its canonical text and JSON forms.
fn check(input: &str, text: &str, json_text: Option<&str>) {
    let parsed = rule(input);
    assert_eq!(parsed.to_text(), text, "canonical text of `{input}`");
    if let Some(expected) = json_text {
        assert_eq!(parsed.to_json().to_string(), expected, "canonical JSON of `{input}`");
    }
    assert_eq!(Rule::from_json(&parsed.to_json(), &schema()), Ok(parsed.clone()));
    assert_eq!(rule(text), parsed);
}

#[test]
fn the_documented_example_has_this_json_form() {
    check(
        r#"order.amount >= 50 and customer.address.country in ["DE", "AT"] and spent(last_calendar_year) > 1000.00"#,
        r#"order.amount >= 50.00 and customer.address.country in ["AT", "DE"] and spent(last_calendar_year) > 1000.00"#,
        Some(concat!(
            r#"{"and":[{"op":">=","left":{"field":"order.amount"},"right":{"money":"50.00"}},"#,
            r#"{"op":"in","left":{"field":"customer.address.country"},"right":{"list":[{"string":"AT"},{"string":"DE"}]}},"#,
            r#"{"op":">","left":{"call":"spent","args":[{"window":"last_calendar_year"}]},"right":{"money":"1000.00"}}]}"#
        )),
    );
}

#[test]
fn canonical_text_keeps_grouping_and_normalises_spelling() {
    let cases = [
        ("(hour() == 1 or hour() == 2) and month() == 3", "(hour() == 1 or hour() == 2) and month() == 3"),
        ("hour() == 1 and (month() == 2 and month() == 3)", "hour() == 1 and (month() == 2 and month() == 3)"),
        ("hour() == 1 and month() == 2 or month() == 3", "hour() == 1 and month() == 2 or month() == 3"),
        ("not (hour()==1 and month()==2)", "not (hour() == 1 and month() == 2)"),
        ("((hour() == 1))", "hour() == 1"),
        ("not not true", "not not true"),
        ("spent(previous_calendar_month) >= 1", "spent(last_calendar_month) >= 1.00"),
        ("orders(last_007_days) >= 1", "orders(last_7_days) >= 1"),
        ("customer.metadata.score >= 1.50", "customer.metadata.score >= 1.5"),
        ("customer.metadata.score >= -0", "customer.metadata.score >= 0"),
        (r#"customer.metadata["a.b"] == "x\ty""#, r#"customer.metadata["a.b"] == "x\ty""#),
        (r#"customer.metadata["wär"] == "\u{7}""#, r#"customer.metadata["wär"] == "\u{7}""#),
        ("customer.metadata.x in [3, 1, 2, 1]", "customer.metadata.x in [1, 2, 3]"),
        (r#"day_of_week() in ["sunday", "monday"]"#, r#"day_of_week() in ["monday", "sunday"]"#),
        ("order.total between 1 and 2", "order.total between 1.00 and 2.00"),
        ("3 <= order.items_count", "3 <= order.items_count"),
    ];
    for (input, text) in cases {
        check(input, text, None);
    }
}

#[test]
fn json_and_or_of_one_or_no_conditions_take_their_canonical_form() {
    let cases = [
        (r#"{"and":[{"call":"is_birthday"}]}"#, "is_birthday()"),
        (r#"{"and":[]}"#, "true"),
        (r#"{"or":[]}"#, "false"),
        (r#"{"op":"==","left":{"field":"order.items_count"},"right":{"number":"2"}}"#, "order.items_count == 2"),
        (r#"{"op":">=","left":{"field":"order.amount"},"right":{"money":12.5}}"#, "order.amount >= 12.50"),
        (r#"{"call":"is_birthday_month","args":[]}"#, "is_birthday_month()"),
    ];
    for (input, text) in cases {
        let parsed = Rule::from_json(&json(input), &schema()).unwrap_or_else(|e| panic!("{input}: {e:?}"));
        assert_eq!(parsed.to_text(), text, "{input}");
    }
}

#[test]
fn json_text_escapes_quotes_and_control_characters() {
    let value = Json::object([("string", Json::string("a\"b\\c\n\u{1}"))]);
    assert_eq!(value.to_string(), r#"{"string":"a\"b\\c\n\u0001"}"#);
    assert_eq!(
        Json::Array(vec![Json::Null, Json::Bool(false), Json::Number("1.50".into())]).to_string(),
        "[null,false,1.50]"
    );
}

#[test]
fn json_reads_from_any_serde_format() {
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::Error;
    let number = Json::deserialize(IntoDeserializer::<Error>::into_deserializer(12.5_f64)).expect("a number");
    assert_eq!(number, Json::Number("12.5".into()));
    let text = Json::deserialize(IntoDeserializer::<Error>::into_deserializer("DE")).expect("a string");
    assert_eq!(text, Json::string("DE"));
    let list = Json::deserialize(IntoDeserializer::<Error>::into_deserializer(vec![1_i64, 2])).expect("a list");
    assert_eq!(list, Json::Array(vec![Json::Number("1".into()), Json::Number("2".into())]));
}
