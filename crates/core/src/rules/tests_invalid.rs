//! Table tests of invalid rules: every error of a rule is reported at once, with its JSON pointer (and, for
//! the text form, its character offset).

use super::test_support::{json, schema};
use super::{Json, Rule, RuleErrorKind};

enum Input<'a> {
    Json(&'a str),
    Text(&'a str),
}

/// `(path, offset, message fragment)` of each error, in order.
type Expected<'a> = &'a [(&'a str, Option<usize>, &'a str)];

/// Parses `input` (EUR) and compares the errors, in order, with the expected ones.
fn check(input: Input, expected: Expected<'_>) {
    let (label, result) = match &input {
        Input::Json(text) => (*text, Rule::from_json(&json(text), &schema())),
        Input::Text(text) => (*text, Rule::parse_text(text, &schema())),
    };
    let errors = match result {
        Ok(rule) => panic!("`{label}` should be refused, parsed as `{rule}`"),
        Err(errors) => errors,
    };
    let found: Vec<(&str, Option<usize>, &str)> =
        errors.iter().map(|e| (e.path.as_str(), e.offset, e.message.as_str())).collect();
    let matches = found.len() == expected.len()
        && found.iter().zip(expected).all(|(f, e)| f.0 == e.0 && f.1 == e.1 && f.2.contains(e.2));
    assert!(matches, "`{label}`\n found: {found:#?}\n expected: {expected:#?}");
}

#[test]
fn every_type_error_of_a_json_rule_is_reported_at_once() {
    check(
        Input::Json(
            r#"{"and":[
                {"op":">=","left":{"field":"order.amont"},"right":{"money":"50.001"}},
                {"op":"==","left":{"field":"customer.address.country"},"right":{"number":5}},
                {"op":">","left":{"call":"spent","args":[{"window":"last_900_days"}]},"right":{"money":"1000.00"}},
                {"op":"<","left":{"field":"customer.name"},"right":{"string":"M"}},
                {"op":"==","left":{"field":"customer.birthdate"},"right":{"string":"1990-01-01"}},
                {"op":"==","left":{"field":"order.items_count"},"right":{"money":"5.00"}},
                {"call":"spent","args":[]},
                {"op":">","left":{"call":"events","args":[{"window":"last_7_days"}]},"right":{"number":1}},
                {"op":">","left":{"call":"spent","args":[{"window":"last_fortnight"}]},"right":{"number":1}},
                {"op":">","left":{"field":"item.price"},"right":{"number":5}},
                {"any":{"any":{"op":">","left":{"field":"item.quantity"},"right":{"number":1}}}},
                {"op":">","left":{"field":"customer.metadata.x"},"right":{"money":"1.00"}},
                {"op":"in","left":{"field":"customer.metadata.x"},"right":{"list":[{"string":"a"},{"number":1}]}},
                {"op":"between","left":{"field":"order.amount"},"right":{"list":[{"number":1},{"number":2},{"number":3}]}},
                {"op":"between","left":{"field":"order.amount"},"right":{"list":[{"number":9},{"number":2}]}},
                {"call":"in_segment","args":[{"string":"seg_nope"}]},
                {"field":"order.amount"},
                {"op":"==","left":{"number":1},"right":{"number":1}},
                {"op":"==","left":{"field":"customer.metadata."},"right":{"number":1}},
                {"op":"==","left":{"field":"order.total"},"right":{"date":"2024-02-30"}}
            ]}"#,
        ),
        &[
            ("/and/0/left", None, "unknown field `order.amont`; order fields are order.amount"),
            (
                "/and/0/right",
                None,
                "`50.001` is not an amount in EUR: write a non-negative amount with at most 2 decimals",
            ),
            ("/and/1/right", None, "expected text, found a number"),
            ("/and/2/left/args/0", None, "a window of days is 1 to 730 days long, found 900"),
            ("/and/3", None, "`<` orders numbers, money and dates, not text"),
            ("/and/4/right", None, "expected a date, found text"),
            ("/and/5/right", None, "expected a whole number, found money"),
            ("/and/6", None, "spent() takes 1 argument, found 0"),
            ("/and/6", None, "a condition must be true or false, found money"),
            ("/and/7/left", None, "events() takes 2 arguments, found 1"),
            ("/and/8/left/args/0", None, "unknown window `last_fortnight`"),
            ("/and/9/left", None, "item fields are only available inside any(), every(), none() and count()"),
            ("/and/10/any", None, "do not nest"),
            ("/and/11/right", None, "metadata holds plain numbers"),
            ("/and/12/right/list/1", None, "a list holds one type; found a number after text"),
            ("/and/13/right", None, "between takes two bounds"),
            ("/and/14/right", None, "the lower bound is above the upper bound"),
            ("/and/15/args/0", None, "`seg_nope` is not a segment id"),
            ("/and/16", None, "a condition must be true or false, found money"),
            ("/and/17", None, "one side of a comparison must be a field or a function"),
            ("/and/18/left", None, "metadata keys are 1 to 64 printable characters"),
            ("/and/19/right", None, "expected money, found a date"),
        ],
    );
}

#[test]
fn every_shape_error_of_a_json_rule_is_reported_with_the_type_errors_next_to_it() {
    check(
        Input::Json(
            r#"{"or":[
                {"op":"~","left":{"field":"order.amount"}},
                {"and":{"not":1}},
                {"exists":{"field":"customer.nickname"},"extra":1},
                {"not":{"op":"==","left":{"field":"order.total"},"right":{"money":"1.234"}},"and":[]},
                {"op":"==","op":"!=","left":{"field":"order.total"},"right":{"money":true}},
                {"op":">","left":{"and":[]},"right":{"field":"order.total"}},
                "true",
                {"field":"customer.metadata.vip"}
            ]}"#,
        ),
        &[
            ("/or/0/op", None, "unknown operator `~`"),
            ("/or/0", None, "a comparison needs `right`"),
            ("/or/1/and", None, "expected an array of conditions, found an object"),
            ("/or/2/extra", None, "unknown key `extra` in a `exists` node"),
            ("/or/3", None, "a node has one kind; found both `not` and `and`"),
            ("/or/4/op", None, "duplicate key `op`"),
            ("/or/4/right/money", None, "`money` takes a number, found a boolean"),
            ("/or/5/left", None, "expected an operand, found a `and` condition"),
            ("/or/6", None, "expected a condition object, found a string"),
            ("/or/2/exists", None, "unknown field `customer.nickname`"),
        ],
    );
}

#[test]
fn every_type_error_of_a_text_rule_carries_its_offset_and_json_path() {
    check(
        Input::Text(
            r#"order.amount >= 50.001 and customer.address.country in ["DE", 5] and spent(last_999_days) > 1000"#,
        ),
        &[
            ("/and/0/right", Some(16), "`50.001` is not an amount in EUR"),
            ("/and/1/right/list/1", Some(62), "expected text, found a number"),
            ("/and/2/left/args/0", Some(75), "a window of days is 1 to 730 days long"),
        ],
    );
    check(
        Input::Text(r#"not (hour() == "noon" or day_of_week() == "funday") and count(item.quantity > 1)"#),
        &[
            ("/and/0/not/or/0/right", Some(15), "expected a whole number, found text"),
            ("/and/0/not/or/1/right", Some(42), "unknown day `funday`"),
            ("/and/1", Some(56), "a condition must be true or false, found a whole number"),
        ],
    );
    check(
        Input::Text(r#"item.sku_id == "x" or any(count(item.quantity > 1) > 1) or customer.email in ["x", 1]"#),
        &[
            ("/or/0/left", Some(0), "item fields are only available inside"),
            ("/or/1/any/left", Some(26), "do not nest"),
            ("/or/2/right/list/1", Some(83), "expected text, found a number"),
        ],
    );
}

#[test]
fn an_operand_with_errors_keeps_its_type_so_the_other_side_is_checked_too() {
    let cases: [(Input, Expected<'_>); 8] = [
        (
            Input::Text(r#"spent(last_9999_days) >= "x""#),
            &[
                ("/left/args/0", Some(6), "a window of days is 1 to 730 days long, found 9999"),
                ("/right", Some(25), "expected money, found text"),
            ],
        ),
        (
            Input::Text(r#""x" <= orders(last_0_days)"#),
            &[
                ("/right/args/0", Some(14), "a window of days is 1 to 730 days long, found 0"),
                ("/left", Some(0), "expected a whole number, found text"),
            ],
        ),
        (
            Input::Text(r#"events("x", last_7_days, 1) in ["a", 2]"#),
            &[
                ("/left", Some(0), "events() takes 2 arguments, found 3"),
                ("/right/list/0", Some(32), "expected a whole number, found text"),
            ],
        ),
        (
            Input::Text(r#"item.price > "cheap""#),
            &[
                ("/left", Some(0), "item fields are only available inside"),
                ("/right", Some(13), "expected money, found text"),
            ],
        ),
        (
            Input::Text(r#"tier("prog_nope") == 5"#),
            &[
                ("/left/args/0", Some(5), "`prog_nope` is not a program id"),
                ("/right", Some(21), "expected text, found a number"),
            ],
        ),
        (
            Input::Text(r#"spent(last_9999_days) between 1.00 and "x""#),
            &[
                ("/left/args/0", Some(6), "a window of days is 1 to 730 days long"),
                ("/right/list/1", Some(39), "expected money, found text"),
            ],
        ),
        (
            Input::Text(r#"spent(last_9999_days) == customer.name"#),
            &[
                ("/left/args/0", Some(6), "a window of days is 1 to 730 days long"),
                ("", Some(0), "cannot compare money with text"),
            ],
        ),
        (
            Input::Json(r#"{"op":"<","left":{"call":"spent","args":[]},"right":{"string":"x"}}"#),
            &[("/left", None, "spent() takes 1 argument, found 0"), ("/right", None, "expected money, found text")],
        ),
    ];
    for (input, expected) in cases {
        check(input, expected);
    }
}

#[test]
fn a_syntax_error_stops_the_text_parser_at_its_offset() {
    let cases: [(&str, usize, &str); 9] = [
        ("order.amount >= ", 16, "expected an operand, found the end of the rule"),
        ("order.amount = 5", 13, "use `==` to compare"),
        (r#"customer.name == "Ann"#, 17, "this string is not closed"),
        ("(order.amount > 5", 17, "expected `)`, found the end of the rule"),
        ("order.amount between 1 2", 23, "expected `and` in `between`"),
        ("order.amount > 5 order.total > 1", 17, "expected `and`, `or` or the end"),
        ("order.amount > 1e5", 16, "unexpected `e` after a number"),
        ("order.amount > 5 and", 20, "expected an operand"),
        (r#"customer.name == "\q""#, 18, "unknown escape"),
    ];
    for (text, offset, message) in cases {
        check(Input::Text(text), &[("", Some(offset), message)]);
    }
}

#[test]
fn limits_on_depth_size_and_lists_are_checked_when_parsing() {
    let deep = format!("{}true{}", "not (".repeat(40), ")".repeat(40));
    let errors = Rule::parse_text(&deep, &schema()).expect_err("too deep");
    assert_eq!(errors.iter().map(|e| e.kind).collect::<Vec<_>>(), [RuleErrorKind::TooDeep]);
    assert_eq!(errors[0].path, format!("/not{}", "/not".repeat(31)));

    let hostile = "(".repeat(100_000);
    let errors = Rule::parse_text(&hostile, &schema()).expect_err("too long");
    assert_eq!(errors[0].kind, RuleErrorKind::TooLong);
    let parens = "(".repeat(5_000);
    assert_eq!(Rule::parse_text(&parens, &schema()).expect_err("too deep")[0].kind, RuleErrorKind::TooDeep);

    let mut nested = Json::object([("bool", Json::Bool(true))]);
    for _ in 0..200 {
        nested = Json::object([("not", nested)]);
    }
    let errors = Rule::from_json(&nested, &schema()).expect_err("too deep");
    assert_eq!(errors.iter().map(|e| e.kind).collect::<Vec<_>>(), [RuleErrorKind::TooDeep]);

    let values: Vec<String> = (0..=super::RULE_LIST_ITEMS_MAX).map(|i| format!("\"c{i}\"")).collect();
    let long_list = format!("customer.address.city in [{}]", values.join(", "));
    let errors = Rule::parse_text(&long_list, &schema()).expect_err("too many values");
    assert_eq!((errors[0].kind, errors[0].path.as_str()), (RuleErrorKind::TooManyItems, "/right"));

    let conditions: Vec<String> = (0..600).map(|i| format!("hour() == {}", i % 24)).collect();
    let errors = Rule::parse_text(&conditions.join(" or "), &schema()).expect_err("too many nodes");
    assert_eq!(errors.iter().map(|e| e.kind).collect::<Vec<_>>(), [RuleErrorKind::TooManyNodes]);
}

#[test]
fn the_error_list_is_bounded_for_hostile_input() {
    let conditions: Vec<String> = (0..300).map(|i| format!("customer.field_{i} == 1")).collect();
    let errors = Rule::parse_text(&conditions.join(" and "), &schema()).expect_err("unknown fields");
    assert_eq!(errors.len(), super::RULE_ERRORS_MAX);
}
