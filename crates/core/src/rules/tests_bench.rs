//! Measures evaluation of a 20-node rule against a loaded context (not asserted: run
//! `cargo test --release -p fidelis-core evaluation_speed -- --nocapture` to read the numbers).

use super::test_support::{SEG_A, World, item, meta, world};
use crate::ids::SegmentId;
use crate::metadata::MetaValue;
use crate::stats::{DayActivity, EventDay};
use std::hint::black_box;
use std::time::Instant;

/// The standard world with a customer that has 300 days of orders, 10 event names × 30 days, 40 metadata
/// keys and 50 segments, and an order of 20 items.
fn loaded_world() -> World {
    let mut w = world();
    let today = jiff::civil::date(2025, 1, 1);
    if let Some(c) = w.customer.as_mut() {
        c.stats.days = (0..300)
            .filter_map(|i| crate::calendar::add_days(today, -(i * 8 / 3)))
            .rev()
            .map(|day| DayActivity { day, spent: 4_200, orders: 1 })
            .collect();
        c.stats.days.dedup_by_key(|d| d.day);
        let mut events: Vec<EventDay> = (0..10)
            .flat_map(|n| (0..30).map(move |d| (n, d)))
            .filter_map(|(n, d)| {
                let day = crate::calendar::add_days(today, -d * 7)?;
                Some(EventDay { name: format!("event-{n}"), day, count: 1 })
            })
            .collect();
        events.sort_by(|a, b| (a.name.as_str(), a.day).cmp(&(b.name.as_str(), b.day)));
        c.stats.event_days = events;
        for k in 0..40 {
            c.metadata.0.insert(format!("key_{k:02}"), MetaValue::Num(f64::from(k)));
        }
    }
    let mut segments: Vec<SegmentId> =
        (0..49).filter_map(|i| SegmentId::parse(&format!("seg_01J{i:02}AAAAAAAAAAAAAAAAAAAAA"))).collect();
    segments.extend(SegmentId::parse(SEG_A));
    segments.sort();
    w.segments = segments;
    if let Some(o) = w.order.as_mut() {
        for i in 0..18 {
            let mut extra = item(Some("sku-x"), &["misc", "sale"], 1, Some(100), 100);
            extra.metadata = meta(&[("i", MetaValue::Num(f64::from(i)))]);
            o.lines.items.push(extra);
        }
    }
    w
}

/// Median nanoseconds per evaluation of `text` in `world` over 51 batches of 1,000 (and the spread).
fn measure(world: &World, text: &str) -> (usize, f64, f64, f64) {
    let rule = super::test_support::rule(text);
    let mut per_evaluation_ns: Vec<f64> = world.with_context(|ctx| {
        (0..51)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..1_000 {
                    black_box(black_box(&rule).evaluate(black_box(ctx)));
                }
                start.elapsed().as_nanos() as f64 / 1_000.0
            })
            .collect()
    });
    per_evaluation_ns.sort_by(f64::total_cmp);
    (rule.node_count(), per_evaluation_ns[25], per_evaluation_ns[0], per_evaluation_ns[50])
}

#[test]
fn evaluation_speed_of_a_twenty_node_rule_on_a_loaded_context() {
    let world = loaded_world();
    let rules = [
        format!(
            r#"order.amount >= 50.00 and customer.address.country in ["AT", "DE"] and spent(last_calendar_year) > 1000.00 and in_segment("{SEG_A}") and any(item.collections contains "shoes") and hour() < 22"#
        ),
        r#"events("event-3", last_90_days) >= 1 and orders(last_365_days) > 3 and average_order_value(this_calendar_year) > 1.00 and days_since_joined() > 10 and day_of_week() != "sunday" and customer.metadata.key_39 >= 39"#.to_owned(),
    ];
    for text in &rules {
        assert!(world.evaluate(&super::test_support::rule(text)), "{text}");
        let (nodes, median, min, max) = measure(&world, text);
        println!("{nodes}-node rule: median {median:.0} ns per evaluation (min {min:.0}, max {max:.0}): {text}");
    }
    let rule = super::test_support::rule(&rules[0]);
    let start = Instant::now();
    let trace = world.with_context(|ctx| rule.explain(ctx));
    println!("one explanation of the first rule: {} ns", start.elapsed().as_nanos());
    assert!(trace.result);
}
