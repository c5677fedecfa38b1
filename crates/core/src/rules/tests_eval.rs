//! Table tests of evaluation: every operand kind, windows near midnight in Berlin, money in EUR and JPY,
//! item quantifiers, metadata of each type, and missing customer, order and event.

use super::test_support::{PROG_X, PROG_Y, SEG_A, SEG_B, World, at, customer, jpy, order, world};
use super::{Rule, RuleSchema};
use crate::metadata::MetaValue;
use crate::stats::CustomerStats;
use jiff::civil::date;
use jiff::tz::TimeZone;

/// Evaluates each rule in `world` (through the text form, the JSON form and the explanation) and compares with
/// the expected result; reports every mismatch at once.
fn check(world: &World, cases: &[(&str, bool)]) {
    let schema = RuleSchema::new(world.currency);
    let mut failures = Vec::new();
    for (text, expected) in cases {
        let text =
            text.replace("SEG_A", SEG_A).replace("SEG_B", SEG_B).replace("PROG_X", PROG_X).replace("PROG_Y", PROG_Y);
        let rule = match Rule::parse_text(&text, &schema) {
            Ok(rule) => rule,
            Err(errors) => {
                failures.push(format!("`{text}` does not parse: {errors:?}"));
                continue;
            }
        };
        let via_json = Rule::from_json(&rule.to_json(), &schema);
        let explained = world.with_context(|ctx| rule.explain(ctx).result);
        let evaluated = world.evaluate(&rule);
        if evaluated != *expected || explained != *expected || via_json.as_ref() != Ok(&rule) {
            failures.push(format!("`{text}`: evaluated {evaluated}, explained {explained}, expected {expected}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn customer_profile_fields_compare_as_text_and_dates() {
    check(
        &world(),
        &[
            (r#"customer.name == "Ann""#, true),
            (r#"customer.name != "Bob""#, true),
            (r#"customer.email starts_with "ann@""#, true),
            (r#"customer.email contains "@example.""#, true),
            (r#"customer.source_id == "crm-42""#, true),
            (r#"customer.timezone == "Europe/Berlin""#, true),
            (r#"customer.address.country in ["AT", "DE"]"#, true),
            (r#"customer.address.country in ["FR"]"#, false),
            (r#"customer.address.city == "Berlin""#, true),
            (r#"customer.address.line_1 == "Main St 1""#, false),
            ("customer.birthdate < 2000-01-01", true),
            ("customer.birthdate between 1990-01-01 and 1990-12-31", true),
            ("customer.created_at == 2023-06-15", true),
            ("customer.last_order_date == 2025-01-01", true),
        ],
    );
}

#[test]
fn an_unset_field_is_missing_so_every_comparison_with_it_is_false() {
    check(
        &world(),
        &[
            (r#"customer.phone == "123""#, false),
            (r#"customer.phone != "123""#, false),
            (r#"not customer.phone == "123""#, true),
            ("exists(customer.phone)", false),
            ("exists(customer.email)", true),
            ("customer.metadata.missing == 1", false),
            ("exists(customer.metadata.missing)", false),
        ],
    );
}

#[test]
fn metadata_of_each_type_compares_with_literals_of_that_type() {
    check(
        &world(),
        &[
            ("customer.metadata.vip == true", true),
            ("customer.metadata.vip", true),
            ("not customer.metadata.level", true),
            (r#"customer.metadata.level == "gold""#, true),
            (r#"customer.metadata.level in ["gold", "silver"]"#, true),
            ("customer.metadata.score > 7", true),
            ("customer.metadata.score == 7.5", true),
            ("customer.metadata.score between 7 and 8", true),
            ("customer.metadata.score in [1, 7.5]", true),
            ("customer.metadata.joined < 2021-01-01", true),
            (r#"customer.metadata.tags contains "a""#, true),
            (r#"customer.metadata.tags contains "z""#, false),
            (r#"customer.metadata.level contains "ol""#, true),
            ("customer.metadata.level > 3", false),
            ("customer.metadata.level != 3", false),
            (r#"customer.metadata["favourite colour"] == "red""#, true),
            (r#"order.metadata.channel == "web""#, true),
            ("event.metadata.stars >= 4", true),
        ],
    );
}

#[test]
fn history_windows_are_calendar_periods_in_the_project_time_zone() {
    // 2025-01-01 00:30 in Berlin: this year holds one day, last year is the whole of 2024.
    check(
        &world(),
        &[
            ("spent(lifetime) == 1160.00", true),
            ("spent(last_calendar_year) == 1100.00", true),
            ("spent(previous_calendar_year) == 1100.00", true),
            ("spent(this_calendar_year) == 10.00", true),
            ("spent(last_1_days) == 10.00", true),
            ("spent(last_2_days) == 510.00", true),
            ("spent(last_365_days) == 1110.00", true),
            ("spent(last_calendar_month) == 500.00", true),
            ("spent(last_calendar_quarter) == 500.00", true),
            ("spent(last_calendar_half_year) == 500.00", true),
            ("spent(this_calendar_quarter) == 10.00", true),
            ("spent(last_calendar_year) > 1000.00", true),
            ("orders(last_calendar_year) == 3", true),
            ("orders(lifetime) == 5", true),
            ("average_order_value(last_calendar_year) == 366.66", true),
            ("average_order_value(last_7_days) == 255.00", true),
            (r#"events("review", last_calendar_year) == 1"#, true),
            (r#"events("review", lifetime) == 2"#, true),
            (r#"events("login", last_7_days) == 2"#, true),
            (r#"events("signup", lifetime) == 0"#, true),
            ("redemptions(last_calendar_month) == 1", true),
            ("redemptions(this_calendar_month) == 0", true),
            ("days_since_last_order() == 0", true),
            ("days_since_joined() == 566", true),
        ],
    );
}

#[test]
fn the_same_instant_in_utc_is_still_the_last_day_of_the_previous_year() {
    let mut utc = world();
    utc.time_zone = TimeZone::UTC;
    check(
        &utc,
        &[
            ("today() == 2024-12-31", true),
            ("hour() == 23", true),
            ("spent(this_calendar_year) == 1100.00", true),
            ("spent(last_calendar_year) == 0.00", true),
            ("is_birthday_month()", false),
            ("customer.last_order_date == 2024-12-31", true),
        ],
    );
}

#[test]
fn average_order_value_without_orders_in_the_window_is_missing() {
    let mut empty = world();
    if let Some(c) = empty.customer.as_mut() {
        c.stats = CustomerStats::default();
    }
    check(
        &empty,
        &[
            ("average_order_value(lifetime) >= 0.00", false),
            ("exists(average_order_value(last_30_days))", false),
            ("spent(last_30_days) == 0.00", true),
            ("exists(customer.last_order_date)", false),
            ("days_since_last_order() > 90", false),
        ],
    );
}

#[test]
fn loyalty_balance_tier_and_segments_come_from_the_context() {
    check(
        &world(),
        &[
            ("balance() == 1500", true),
            (r#"balance("PROG_X") >= 1000"#, true),
            (r#"balance("PROG_Y") < 500"#, true),
            (r#"balance("prog_01JZZZZZZZZZZZZZZZZZZZZZZZ") >= 0"#, false),
            (r#"tier("PROG_X") == "Gold""#, true),
            (r#"exists(tier("PROG_Y"))"#, false),
            (r#"in_segment("SEG_A")"#, true),
            (r#"in_segment("SEG_B")"#, false),
            (r#"not in_segment("SEG_B")"#, true),
        ],
    );
}

#[test]
fn order_fields_and_item_quantifiers_look_at_the_current_order() {
    check(
        &world(),
        &[
            ("order.amount >= 100.00", true),
            ("order.amount > 100.00", false),
            ("order.discount_amount == 20.00", true),
            ("order.total == 80.00", true),
            ("order.items_count == 2", true),
            ("order.items_quantity == 3", true),
            (r#"any(item.collections contains "shoes")"#, true),
            ("every(item.amount == 50.00)", true),
            (r#"none(item.sku_id == "s1")"#, false),
            (r#"none(item.sku_id == "s9")"#, true),
            ("any(item.price > 20.00)", true),
            ("every(exists(item.price))", false),
            ("count(item.quantity >= 1) == 2", true),
            (r#"count(item.collections contains "sale") >= 1"#, true),
            (r#"any(item.metadata.color == "red" and item.quantity == 2)"#, true),
            (r#"any(item.product_id starts_with "prod-")"#, true),
            (r#"any(item.amount == 50.00 and customer.name == "Ann")"#, true),
            (r#"any(item.sku_id in ["s1", "s2"]) and order.total between 50.00 and 100.00"#, true),
        ],
    );
}

#[test]
fn quantifiers_over_an_order_without_items_follow_logic() {
    let mut empty = world();
    empty.order = Some(order(1_000, 0, Vec::new(), at("2024-12-31T23:20:00Z")));
    check(
        &empty,
        &[
            ("any(item.quantity > 0)", false),
            ("every(item.quantity > 0)", true),
            ("none(item.quantity > 0)", true),
            ("count(item.quantity > 0) == 0", true),
        ],
    );
}

#[test]
fn the_event_and_the_calendar_are_operands_too() {
    check(
        &world(),
        &[
            (r#"event.name == "review""#, true),
            ("today() == 2025-01-01", true),
            (r#"day_of_week() == "wednesday""#, true),
            (r#"day_of_week() in ["saturday", "sunday"]"#, false),
            ("hour() == 0", true),
            ("hour() between 0 and 6", true),
            ("month() == 1", true),
            ("is_birthday_month()", true),
            ("is_birthday()", false),
            ("true", true),
            ("false or true and not false", true),
        ],
    );
}

#[test]
fn a_leap_day_birthday_is_celebrated_on_the_28th_in_common_years() {
    let mut leap = world();
    leap.now = at("2025-02-28T12:00:00Z");
    if let Some(c) = leap.customer.as_mut() {
        c.profile.birthdate = Some(date(2000, 2, 29));
    }
    check(&leap, &[("is_birthday()", true), ("is_birthday_month()", true)]);
    leap.now = at("2024-02-28T12:00:00Z");
    check(&leap, &[("is_birthday()", false)]);
}

#[test]
fn a_missing_customer_order_or_event_makes_their_operands_missing() {
    let mut nobody = world();
    nobody.customer = None;
    nobody.order = None;
    nobody.event = None;
    check(
        &nobody,
        &[
            (r#"customer.name == "Ann""#, false),
            (r#"not customer.name == "Ann""#, true),
            ("spent(lifetime) >= 0.00", false),
            ("balance() >= 0", false),
            (r#"in_segment("SEG_A")"#, false),
            ("exists(customer.email)", false),
            ("order.amount > 0.00", false),
            ("any(item.quantity > 0)", false),
            ("every(item.quantity > 0)", false),
            ("none(item.quantity > 0)", false),
            ("count(item.quantity > 0) >= 0", false),
            (r#"event.name == "review""#, false),
            ("is_birthday_month()", false),
            ("hour() == 0", true),
        ],
    );
}

#[test]
fn money_literals_follow_the_project_currency() {
    let mut yen = world();
    yen.currency = jpy();
    check(
        &yen,
        &[("order.amount >= 10000", true), ("order.amount > 10000", false), ("spent(lifetime) == 116000", true)],
    );
    assert!(Rule::parse_text("order.amount >= 100.50", &RuleSchema::new(jpy())).is_err());
    let dinar = RuleSchema::new(crate::money::Currency::parse("KWD").expect("KWD"));
    let rule = Rule::parse_text("order.amount >= 1.5", &dinar).expect("KWD has three decimals");
    assert_eq!(rule.to_text(), "order.amount >= 1.500");
}

#[test]
fn a_customer_created_late_in_the_evening_utc_joined_the_next_day_in_berlin() {
    let mut late = world();
    late.customer = Some(customer(at("2024-06-30T22:30:00Z"), CustomerStats::default()));
    check(&late, &[("customer.created_at == 2024-07-01", true), ("customer.metadata.vip", false)]);
    if let Some(c) = late.customer.as_mut() {
        c.metadata = super::test_support::meta(&[("vip", MetaValue::Str("yes".into()))]);
    }
    check(&late, &[("customer.metadata.vip", false), (r#"customer.metadata.vip == "yes""#, true)]);
}
