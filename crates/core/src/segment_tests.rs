//! Incremental segment decisions: which rules run for which change, dependency order, transitions.

use super::*;
use crate::ids::{CustomerId, SequentialIds};
use crate::metadata::{Metadata, RawMeta};
use crate::rules::RuleSchema;
use jiff::civil::date;

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

fn compiled(id: &SegmentId, text: &str) -> CompiledSegment {
    CompiledSegment { id: id.clone(), rule: Rule::parse_text(text, &RuleSchema::new(eur())).unwrap() }
}

fn customer(country: &str) -> Customer {
    let mut ids = SequentialIds::starting_at(1);
    let now: Timestamp = "2025-05-01T12:00:00Z".parse().unwrap();
    Customer {
        id: CustomerId::fresh(&mut ids),
        project_id: ProjectId::fresh(&mut ids),
        source_id: None,
        profile: crate::customer::Profile {
            address: crate::customer::Address { country: Some(country.into()), ..Default::default() },
            ..Default::default()
        },
        metadata: Metadata::parse("/m", vec![("vip".into(), RawMeta::Bool(true))]).unwrap(),
        stats: CustomerStats::default(),
        segments: Vec::new(),
        created_at: now,
        updated_at: now,
        erased_at: None,
    }
}

fn env(tz: &TimeZone) -> Environment<'_> {
    Environment { now: "2025-05-01T12:00:00Z".parse().unwrap(), time_zone: tz, currency: eur() }
}

fn segment_id(n: u64) -> SegmentId {
    SegmentId::fresh(&mut SequentialIds::starting_at(n))
}

#[test]
fn a_new_customer_is_evaluated_against_every_segment() {
    let (german, spender) = (segment_id(10), segment_id(11));
    let segments =
        vec![compiled(&german, r#"customer.address.country == "DE""#), compiled(&spender, "spent(lifetime) > 10.00")];
    let tz = TimeZone::UTC;
    let (transitions, membership) = reevaluate(&segments, &customer("DE"), &[], &Changes::everything(), &env(&tz));
    assert_eq!(transitions, vec![Transition { segment: german.clone(), entered: true }]);
    assert_eq!(membership, vec![german]);
}

#[test]
fn only_rules_that_read_what_changed_are_evaluated() {
    let german = segment_id(10);
    let segments = vec![compiled(&german, r#"customer.address.country == "DE""#)];
    let tz = TimeZone::UTC;
    let orders_only = Changes { orders: true, ..Changes::default() };
    let (transitions, membership) = reevaluate(&segments, &customer("DE"), &[], &orders_only, &env(&tz));
    assert!(transitions.is_empty(), "an order does not move a country segment");
    assert!(membership.is_empty(), "…so a stale membership would stay until the profile changes");
    let profile = Changes { profile: true, ..Changes::default() };
    assert_eq!(reevaluate(&segments, &customer("DE"), &[], &profile, &env(&tz)).1, vec![german]);
}

#[test]
fn leaving_a_segment_moves_segments_that_read_it() {
    let (german, german_vip) = (segment_id(10), segment_id(11));
    let segments = dependency_order(vec![
        compiled(&german_vip, &format!(r#"in_segment("{german}") and customer.metadata.vip"#)),
        compiled(&german, r#"customer.address.country == "DE""#),
    ])
    .unwrap();
    assert_eq!(segments[0].id, german, "a segment comes after the segments it reads");
    let mut c = customer("DE");
    c.segments = vec![german.clone(), german_vip.clone()];
    c.segments.sort();
    c.profile.address.country = Some("FR".into());
    let tz = TimeZone::UTC;
    let changes = Changes { profile: true, ..Changes::default() };
    let (transitions, membership) = reevaluate(&segments, &c, &[], &changes, &env(&tz));
    assert_eq!(
        transitions,
        vec![Transition { segment: german, entered: false }, Transition { segment: german_vip, entered: false }]
    );
    assert!(membership.is_empty());
}

#[test]
fn cycles_between_segments_are_refused() {
    let (a, b) = (segment_id(10), segment_id(11));
    let cycle = vec![compiled(&a, &format!(r#"in_segment("{b}")"#)), compiled(&b, &format!(r#"in_segment("{a}")"#))];
    assert!(dependency_order(cycle).is_err());
    assert!(dependency_order(vec![compiled(&a, &format!(r#"in_segment("{a}")"#))]).is_err());
}

#[test]
fn changes_name_what_differs_between_two_versions_of_a_customer() {
    let before = customer("DE");
    let mut after = before.clone();
    after.stats.record_event("review", date(2025, 5, 1), date(2025, 5, 1));
    let changes = Changes::between(Some(&before), &after);
    assert_eq!(changes.events.iter().cloned().collect::<Vec<_>>(), vec!["review".to_owned()]);
    assert!(!changes.orders && !changes.profile && !changes.metadata);
    after.stats.record_paid(100, after.created_at, date(2025, 5, 1), date(2025, 5, 1));
    assert!(Changes::between(Some(&before), &after).orders);
    assert!(Changes::between(None, &after).all);
    assert!(Changes::between(Some(&before), &before).is_empty());
}
