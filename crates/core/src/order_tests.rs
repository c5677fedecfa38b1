//! Scenario tables for order lines and the order lifecycle.

use super::*;
use crate::ids::SequentialIds;
use crate::limits::ORDER_ITEMS_MAX;
use jiff::civil::date;

fn item(price: Option<i64>, quantity: Option<i64>, amount: Option<i64>) -> ItemInput {
    ItemInput { price, quantity, amount, ..Default::default() }
}

fn paths(errors: Vec<crate::rejection::FieldError>) -> Vec<String> {
    errors.into_iter().map(|e| format!("{} {}", e.path, e.key.as_str())).collect()
}

#[test]
fn items_must_add_up_to_the_order_amount() {
    let lines =
        OrderLines::parse(Some(3000), None, vec![item(Some(1000), Some(2), None), item(None, None, Some(1000))]);
    assert_eq!(lines.unwrap().amount.minor_units(), 3000);
    let mismatch = OrderLines::parse(Some(2999), None, vec![item(Some(1000), Some(3), None)]).unwrap_err();
    assert_eq!(paths(mismatch), ["/amount amount_mismatch"]);
}

#[test]
fn every_bad_item_is_reported_with_its_path() {
    let errors = OrderLines::parse(
        None,
        Some(-1),
        vec![
            item(Some(100), Some(0), None),
            item(None, None, None),
            item(Some(100), Some(2), Some(300)),
            item(Some(-5), None, None),
        ],
    )
    .unwrap_err();
    assert_eq!(paths(errors), paths_in_report_order());
}

fn paths_in_report_order() -> Vec<String> {
    [
        "/items/0/quantity out_of_range",
        "/items/1/amount required",
        "/items/2/amount amount_mismatch",
        "/items/3/price out_of_range",
        "/discount_amount out_of_range",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn an_order_without_items_needs_an_amount_and_a_discount_within_it() {
    assert_eq!(paths(OrderLines::parse(None, None, vec![]).unwrap_err()), ["/amount required"]);
    assert_eq!(paths(OrderLines::parse(Some(100), Some(101), vec![]).unwrap_err()), ["/discount_amount out_of_range"]);
    assert_eq!(OrderLines::parse(Some(100), Some(40), vec![]).unwrap().total().minor_units(), 60);
}

#[test]
fn too_many_items_are_refused_before_looking_at_them() {
    let items = vec![item(Some(1), None, None); ORDER_ITEMS_MAX + 1];
    assert_eq!(paths(OrderLines::parse(None, None, items).unwrap_err()), ["/items too_many"]);
}

#[test]
fn the_lifecycle_allows_exactly_these_transitions() {
    use OrderStatus::*;
    let allowed = [
        (Created, Paid),
        (Created, Fulfilled),
        (Created, Canceled),
        (Paid, Fulfilled),
        (Paid, Canceled),
        (Paid, Refunded),
        (Fulfilled, Refunded),
    ];
    for from in OrderStatus::ALL {
        for to in OrderStatus::ALL {
            let expected = from == to || allowed.contains(&(from, to));
            assert_eq!(from.can_become(to), expected, "{} → {}", from.as_str(), to.as_str());
        }
    }
}

struct Scenario {
    ids: SequentialIds,
    order: Option<Order>,
    day: i8,
}

impl Scenario {
    fn new() -> Scenario {
        Scenario { ids: SequentialIds::starting_at(10), order: None, day: 1 }
    }

    fn send(&mut self, status: Option<OrderStatus>, refunded: Option<i64>) -> Result<OrderChange, Rejection> {
        let draft = OrderDraft {
            status,
            lines: Some(OrderLines::parse(Some(10_000), None, vec![]).unwrap().into()),
            refunded_amount: refunded.and_then(Money::new),
            ..Default::default()
        };
        self.day += 1;
        let today = date(2025, 1, self.day);
        let now = today.to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp();
        let project = ProjectId::fresh(&mut SequentialIds::starting_at(1));
        let change = decide_upsert(&project, self.order.as_ref(), None, &draft, (now, today), &mut self.ids)?;
        self.order = Some(change.order.clone());
        Ok(change)
    }
}

#[test]
fn paying_once_counts_the_order_and_repeating_paid_changes_nothing() {
    let mut s = Scenario::new();
    let paid = s.send(Some(OrderStatus::Paid), None).unwrap();
    assert!(paid.became_paid && paid.created);
    assert_eq!(paid.counted_delta, (1, 10_000));
    let again = s.send(Some(OrderStatus::Paid), None).unwrap();
    assert!(!again.became_paid && !again.changed);
    assert_eq!(again.counted_delta, (0, 0));
}

#[test]
fn partial_then_full_refund_uncounts_the_order_and_claws_back_in_proportion() {
    let mut s = Scenario::new();
    s.send(Some(OrderStatus::Paid), None).unwrap();
    let partial = s.send(None, Some(2_500)).unwrap();
    assert_eq!(partial.order.status, OrderStatus::Paid);
    assert_eq!(partial.counted_delta, (0, -2_500));
    assert_eq!(partial.order.clawback_target(100), 25);
    let full = s.send(Some(OrderStatus::Refunded), None).unwrap();
    assert_eq!(full.order.refunded_amount.minor_units(), 10_000);
    assert_eq!(full.counted_delta, (-1, -7_500));
    assert_eq!(full.order.clawback_target(100), 100);
}

#[test]
fn refunding_everything_by_amount_makes_the_order_refunded() {
    let mut s = Scenario::new();
    s.send(Some(OrderStatus::Fulfilled), None).unwrap();
    assert_eq!(s.send(None, Some(10_000)).unwrap().order.status, OrderStatus::Refunded);
}

#[test]
fn illegal_moves_are_rejected_and_leave_the_order_as_it_was() {
    let mut s = Scenario::new();
    s.send(Some(OrderStatus::Paid), None).unwrap();
    s.send(Some(OrderStatus::Canceled), None).unwrap();
    let kept = s.order.clone();
    assert_eq!(
        s.send(Some(OrderStatus::Paid), None).unwrap_err(),
        Rejection::Order(crate::rejection::OrderRejection::IllegalTransition {
            from: OrderStatus::Canceled,
            to: OrderStatus::Paid
        })
    );
    assert_eq!(s.order, kept);
}

#[test]
fn refunds_cannot_exceed_the_total_shrink_or_apply_to_unpaid_orders() {
    let mut s = Scenario::new();
    assert!(matches!(
        s.send(None, Some(100)),
        Err(Rejection::Order(crate::rejection::OrderRejection::RefundExceedsPaid { refundable: 0, .. }))
    ));
    let mut s = Scenario::new();
    s.send(Some(OrderStatus::Paid), Some(4_000)).unwrap();
    assert!(matches!(s.send(None, Some(3_000)), Err(Rejection::Invalid(_))));
    assert_eq!(
        s.send(None, Some(10_001)).unwrap_err(),
        Rejection::Order(crate::rejection::OrderRejection::RefundExceedsPaid { refundable: 6_000, requested: 6_001 })
    );
    assert!(matches!(s.send(Some(OrderStatus::Refunded), Some(5_000)), Err(Rejection::Invalid(_))));
}

#[test]
fn a_new_order_cannot_start_refunded() {
    let mut s = Scenario::new();
    assert!(matches!(
        s.send(Some(OrderStatus::Refunded), None),
        Err(Rejection::Order(crate::rejection::OrderRejection::IllegalTransition { .. }))
    ));
}

#[test]
fn a_paid_order_keeps_its_amount() {
    let mut s = Scenario::new();
    s.send(Some(OrderStatus::Paid), None).unwrap();
    let order = s.order.clone().unwrap();
    let draft =
        OrderDraft { lines: Some(OrderLines::parse(Some(9_000), None, vec![]).unwrap().into()), ..Default::default() };
    let today = date(2025, 2, 1);
    let now = today.to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp();
    let result = decide_upsert(&order.project_id, Some(&order), None, &draft, (now, today), &mut s.ids);
    assert_eq!(result.unwrap_err(), Rejection::Order(crate::rejection::OrderRejection::Locked { field: "amount" }));
}

fn patch(amount: Option<i64>, discount: Option<i64>, items: Option<Vec<ItemInput>>) -> LinesPatch {
    LinesPatch::parse(amount, discount, items).unwrap()
}

#[test]
fn parts_an_update_leaves_out_keep_their_values() {
    let current = OrderLines::parse(Some(1_000), Some(300), vec![]).unwrap();
    let new_amount = patch(Some(1_200), None, None).apply(Some(&current)).unwrap();
    assert_eq!((new_amount.amount.minor_units(), new_amount.discount_amount.minor_units()), (1_200, 300));
    let new_discount = patch(None, Some(100), None).apply(Some(&current)).unwrap();
    assert_eq!((new_discount.amount.minor_units(), new_discount.discount_amount.minor_units()), (1_000, 100));
    let new_items = patch(None, None, Some(vec![item(Some(600), None, None)])).apply(Some(&current)).unwrap();
    assert_eq!((new_items.amount.minor_units(), new_items.discount_amount.minor_units()), (600, 300));
}

#[test]
fn an_update_must_still_add_up_with_the_parts_it_keeps() {
    let with_items = OrderLines::parse(None, None, vec![item(Some(500), Some(2), None)]).unwrap();
    let amount_only = patch(Some(900), None, None).apply(Some(&with_items)).unwrap_err();
    assert_eq!(paths(amount_only), ["/amount amount_mismatch"]);
    let small = OrderLines::parse(Some(1_000), Some(300), vec![]).unwrap();
    let below_discount = patch(Some(200), None, None).apply(Some(&small)).unwrap_err();
    assert_eq!(paths(below_discount), ["/discount_amount out_of_range"]);
    assert_eq!(paths(patch(None, Some(5), None).apply(None).unwrap_err()), ["/amount required"]);
}
