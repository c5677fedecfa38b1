//! Tests of explanations (actual vs expected, hints) and of what rules declare they read.

use super::test_support::{PROG_X, SEG_A, SEG_B, World, jpy, rule, world};
use super::{Expected, HintAction, Rule, RuleSchema, Trace, TraceValue};

fn explain(world: &World, text: &str) -> Trace {
    let text = text.replace("PROG_X", PROG_X);
    let schema = RuleSchema::new(world.currency);
    let rule = Rule::parse_text(&text, &schema).unwrap_or_else(|e| panic!("`{text}`: {e:?}"));
    world.with_context(|ctx| rule.explain(ctx))
}

/// Explains each failing threshold and compares the hint's text (or its absence).
fn check_hints(world: &World, cases: &[(&str, Option<&str>)]) {
    let mut failures = Vec::new();
    for (text, expected) in cases {
        let trace = explain(world, text);
        let found = trace.hint.as_ref().map(|h| h.text.as_str());
        if trace.result || found != *expected {
            failures.push(format!("`{text}`: result {}, hint {found:?}, expected {expected:?}", trace.result));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_failed_spending_threshold_shows_actual_expected_and_how_much_is_missing() {
    let trace = explain(&world(), "spent(this_calendar_year) >= 22.00");
    assert!(!trace.result);
    assert_eq!(trace.path, "");
    assert_eq!(trace.condition, "spent(this_calendar_year) >= 22.00");
    assert_eq!(trace.actual, Some(TraceValue::Money(1_000)));
    assert_eq!(trace.expected, Some(Expected { op: ">=", value: Some(TraceValue::Money(2_200)) }));
    let hint = trace.hint.expect("a hint");
    assert_eq!(
        (hint.action, hint.missing, hint.text.as_str()),
        (HintAction::Spend, TraceValue::Money(1_200), "spend 12.00 more")
    );
}

#[test]
fn thresholds_the_customer_can_act_on_get_a_hint_in_words() {
    check_hints(
        &world(),
        &[
            ("order.amount >= 112.00", Some("add 12.00 more")),
            ("order.total > 80.00", Some("add 0.01 more")),
            ("order.total between 92.00 and 100.00", Some("add 12.00 more")),
            ("orders(this_calendar_year) >= 3", Some("place 2 more orders")),
            ("orders(last_30_days) >= 3", Some("place 1 more order")),
            (r#"balance("PROG_X") >= 1500"#, Some("collect 300 more points")),
            (r#"count(item.collections contains "shoes") >= 3"#, Some("add 2 more matching items")),
            ("order.items_quantity >= 4", Some("add 1 more item")),
            (r#"events("review", this_calendar_month) >= 3"#, Some(r#"2 more "review" events"#)),
            ("redemptions(lifetime) >= 2", Some("redeem 1 more time")),
            ("spent(last_calendar_year) >= 2000.00", None),
            ("order.amount <= 10.00", None),
            ("order.amount == 50.00", None),
            ("average_order_value(lifetime) >= 1000.00", None),
        ],
    );
    let mut yen = world();
    yen.currency = jpy();
    check_hints(&yen, &[("spent(this_calendar_year) >= 2200", Some("spend 1200 more"))]);
}

#[test]
fn an_explanation_mirrors_the_rule_with_json_paths_and_collects_the_hints_of_failed_nodes() {
    let text =
        r#"order.amount >= 50.00 and customer.address.country in ["FR", "AT"] and spent(this_calendar_year) > 1000.00"#;
    let trace = explain(&world(), text);
    assert!(!trace.result);
    assert_eq!(trace.actual, None);
    let paths: Vec<(&str, bool)> = trace.children.iter().map(|c| (c.path.as_str(), c.result)).collect();
    assert_eq!(paths, [("/and/0", true), ("/and/1", false), ("/and/2", false)]);
    let country = &trace.children[1];
    assert_eq!(country.condition, r#"customer.address.country in ["AT", "FR"]"#);
    assert_eq!(country.actual, Some(TraceValue::Text("DE".into())));
    let list = TraceValue::List(vec![TraceValue::Text("AT".into()), TraceValue::Text("FR".into())]);
    assert_eq!(country.expected, Some(Expected { op: "in", value: Some(list) }));
    let hints: Vec<&str> = trace.hints().iter().map(|h| h.text.as_str()).collect();
    assert_eq!(hints, ["spend 990.01 more"]);
    assert_eq!(trace.children[0].hint, None, "passed conditions need no hint");
}

#[test]
fn a_missing_customer_is_explained_as_a_missing_value_without_a_hint() {
    let mut nobody = world();
    nobody.customer = None;
    let trace = explain(&nobody, "spent(lifetime) >= 10.00");
    assert_eq!((trace.result, trace.actual, trace.hint), (false, Some(TraceValue::Missing), None));
    assert_eq!(TraceValue::Missing.to_text(nobody.currency), "missing");
}

#[test]
fn a_quantifier_explains_the_count_of_matching_items_and_one_telling_item() {
    let trace = explain(&world(), "any(item.price > 30.00)");
    assert!(!trace.result);
    assert_eq!(trace.actual, Some(TraceValue::Int(0)));
    assert_eq!(trace.expected, Some(Expected { op: ">=", value: Some(TraceValue::Int(1)) }));
    let item = &trace.children[0];
    assert_eq!((item.path.as_str(), item.condition.as_str()), ("/any", "item.price > 30.00"));
    assert_eq!(item.actual, Some(TraceValue::Money(2_500)));

    let every = explain(&world(), r#"every(item.collections contains "shoes")"#);
    assert!(!every.result);
    let failing = &every.children[0];
    let socks = TraceValue::List(vec![TraceValue::Text("socks".into())]);
    assert_eq!((failing.result, failing.actual.clone()), (false, Some(socks)));
}

#[test]
fn not_and_or_explain_every_child() {
    let trace = explain(&world(), "not (hour() == 0 or month() == 2)");
    assert!(!trace.result);
    let or = &trace.children[0];
    assert_eq!(or.path, "/not");
    let children: Vec<(&str, bool)> = or.children.iter().map(|c| (c.path.as_str(), c.result)).collect();
    assert_eq!(children, [("/not/or/0", true), ("/not/or/1", false)]);
}

#[test]
fn a_rule_declares_the_data_and_segments_it_reads() {
    let text = format!(
        r#"spent(last_30_days) > 100.00 and in_segment("{SEG_B}") and in_segment("{SEG_A}") and customer.address.country == "DE""#
    );
    let r = rule(&text);
    let reads = r.reads();
    assert!(reads.order_history && reads.clock && reads.customer_profile && r.is_time_dependent());
    assert!(!reads.current_order && !reads.events && !reads.loyalty && !reads.customer_metadata);
    let segments: Vec<&str> = r.segments_referenced().iter().map(|s| s.as_str()).collect();
    assert_eq!(segments, [SEG_A, SEG_B]);

    let lifetime = rule("spent(lifetime) > 1.00 and orders(lifetime) >= 2");
    assert!(lifetime.reads().order_history && !lifetime.is_time_dependent());

    let events = rule(
        r#"events("review", lifetime) > 0 and events("login", lifetime) > 0 and events("review", this_calendar_month) > 0"#,
    );
    assert_eq!(events.reads().event_names, ["login", "review"]);
    assert!(events.reads().events && events.is_time_dependent());

    let order = rule(r#"order.amount > 1.00 and event.name == "signup" and any(item.quantity > 1)"#);
    assert!(order.reads().current_order && order.reads().current_event && !order.reads().reads_customer());
    assert!(!order.is_time_dependent());

    for (text, clock) in [("is_birthday_month()", true), ("days_since_joined() > 30", true), ("hour() > 17", true)] {
        assert_eq!(rule(text).is_time_dependent(), clock, "{text}");
    }
    assert!(rule("customer.metadata.vip").reads().customer_metadata);
    assert!(rule("balance() > 0").reads().loyalty && rule("balance() > 0").reads().programs.is_empty());
    let programs = rule(&format!(r#"tier("{PROG_X}") == "Gold" or balance("{PROG_X}") > 1"#));
    assert_eq!(programs.reads().programs.iter().map(|p| p.as_str()).collect::<Vec<_>>(), [PROG_X]);
    assert!(rule("redemptions(lifetime) > 0").reads().redemptions);
    assert!(rule("customer.last_order_date < 2024-01-01").reads().order_history);
}
