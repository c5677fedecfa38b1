//! Orders: lifecycle, earning once on PAID, clawback on cancel and (partial) refunds, aggregates.

use crate::on_both;
use crate::support::TestApp;
use hyper::StatusCode;
use serde_json::{Value, json};

fn paid(source: &str, customer: &str, amount: i64) -> Value {
    json!({"source_id": source, "status": "PAID", "amount": amount, "customer": {"source_id": customer}})
}

async fn a_paid_order_earns_once_even_when_sent_again(app: TestApp) {
    let program = app.auto_program().await;
    let first = app.post("/v1/orders", paid("o-1", "c-1", 12_345)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["earnings"][0]["points"], 123);
    assert_eq!(first.body["transactions"][0]["type"], "earn");
    let again = app.post("/v1/orders", paid("o-1", "c-1", 12_345)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["transactions"], json!([]), "nothing earned the second time");
    let fulfilled = app.post("/v1/orders", json!({"source_id": "o-1", "status": "FULFILLED"})).await;
    assert_eq!(fulfilled.body["status"], "FULFILLED");
    assert_eq!(app.member(&program, "c-1").await["balance"], 123);
    app.assert_ledger_identities(&program).await;
}
on_both!(a_paid_order_earns_once_even_when_sent_again);

async fn items_price_the_order_and_must_add_up(app: TestApp) {
    let order = json!({"source_id": "o-2", "customer": {"source_id": "c-1"},
        "items": [{"product_id": "mug", "quantity": 2, "price": 1200, "collections": ["kitchen"]}, {"sku_id": "bean-1kg", "amount": 1490}]});
    let reply = app.post("/v1/orders", order).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["amount"], 3890);
    assert_eq!(reply.body["status"], "CREATED");
    assert_eq!(reply.body["items"][0]["amount"], 2400);
    let wrong = app.post("/v1/orders", json!({"source_id": "o-3", "amount": 100, "items": [{"amount": 99}]})).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.body["details"]["errors"][0]["key"], "amount_mismatch");
    assert_eq!(wrong.body["details"]["errors"][0]["path"], "/amount");
}
on_both!(items_price_the_order_and_must_add_up);

async fn points_follow_the_amount_after_discounts(app: TestApp) {
    let program = app.auto_program().await;
    let reply = app
        .post("/v1/orders", json!({"source_id": "o-4", "status": "PAID", "amount": 10_000, "discount_amount": 2_550, "customer": {"source_id": "c-1"}}))
        .await;
    assert_eq!(reply.body["total_amount"], 7_450);
    assert_eq!(app.member(&program, "c-1").await["balance"], 74);
}
on_both!(points_follow_the_amount_after_discounts);

async fn an_update_keeps_the_parts_of_the_lines_it_does_not_mention(app: TestApp) {
    let program = app.auto_program().await;
    let created =
        json!({"source_id": "o-5", "amount": 1_000, "discount_amount": 300, "customer": {"source_id": "c-1"}});
    assert_eq!(app.post("/v1/orders", created).await.status, StatusCode::CREATED);
    let discount_only = app.post("/v1/orders", json!({"source_id": "o-5", "discount_amount": 200})).await;
    assert_eq!(discount_only.body["total_amount"], 800, "{}", discount_only.body);
    let paid = app.post("/v1/orders", json!({"source_id": "o-5", "status": "PAID", "amount": 1_000})).await;
    assert_eq!((paid.body["discount_amount"].clone(), paid.body["total_amount"].clone()), (json!(200), json!(800)));
    assert_eq!(app.member(&program, "c-1").await["balance"], 8, "earned on what was paid");
}
on_both!(an_update_keeps_the_parts_of_the_lines_it_does_not_mention);

async fn an_order_too_large_for_one_posting_earns_the_cap(app: TestApp) {
    let program = app
        .program(json!({"name": "Lavish", "earning": {"every": 1, "points": 1_000_000_000}, "join_policy": "auto_on_first_order"}))
        .await;
    app.post("/v1/orders", paid("o-6", "c-1", 9_223_372_037)).await;
    assert_eq!(app.member(&program, "c-1").await["balance"], 1_000_000_000_000_i64);
}
on_both!(an_order_too_large_for_one_posting_earns_the_cap);

async fn partial_and_full_refunds_claw_back_in_proportion(app: TestApp) {
    let program = app.auto_program().await;
    app.post("/v1/orders", paid("o-5", "c-1", 10_000)).await;
    let partial = app.post("/v1/orders/o-5/refunds", json!({"amount": 2_500})).await;
    assert_eq!(partial.status, StatusCode::OK, "{}", partial.body);
    assert_eq!(partial.body["status"], "PAID");
    assert_eq!(partial.body["transactions"][0]["points"], -25);
    let customer = app.get("/v1/customers/c-1").await;
    assert_eq!(customer.body["summary"]["total_spent"], 7_500);
    assert_eq!(customer.body["summary"]["orders_count"], 1);
    let rest = app.post("/v1/orders/o-5/refunds", json!({"amount": 7_500})).await;
    assert_eq!(rest.body["status"], "REFUNDED");
    assert_eq!(rest.body["transactions"][0]["points"], -75);
    assert_eq!(app.member(&program, "c-1").await["balance"], 0);
    let customer = app.get("/v1/customers/c-1").await;
    assert_eq!(
        (customer.body["summary"]["orders_count"].clone(), customer.body["summary"]["total_spent"].clone()),
        (json!(0), json!(0))
    );
    let too_much = app.post("/v1/orders/o-5/refunds", json!({"amount": 1})).await;
    assert_eq!(too_much.key(), "refund_exceeds_paid");
    app.assert_ledger_identities(&program).await;
}
on_both!(partial_and_full_refunds_claw_back_in_proportion);

async fn canceling_spent_points_records_what_could_not_be_recovered(app: TestApp) {
    let program = app.auto_program().await;
    app.post("/v1/orders", paid("o-6", "c-1", 10_000)).await;
    let member = app.member(&program, "c-1").await;
    let path = format!("/v1/programs/{program}/members/{}/points/remove", member["id"].as_str().unwrap());
    assert_eq!(app.post(&path, json!({"points": 80, "reason": "reward"})).await.status, StatusCode::CREATED);
    let canceled = app.post("/v1/orders", json!({"source_id": "o-6", "status": "CANCELED"})).await;
    assert_eq!(canceled.status, StatusCode::OK, "{}", canceled.body);
    let t = &canceled.body["transactions"][0];
    assert_eq!((t["points"].clone(), t["unrecovered"].clone()), (json!(-20), json!(80)));
    assert_eq!(app.member(&program, "c-1").await["balance"], 0);
    app.assert_ledger_identities(&program).await;
}
on_both!(canceling_spent_points_records_what_could_not_be_recovered);

async fn programs_that_allow_debt_take_the_balance_below_zero_and_repay_it(app: TestApp) {
    let program = app
        .program(json!({"name": "Debt", "earning": {"every": 100, "points": 1}, "join_policy": "auto_on_first_order", "allow_negative_balance": true}))
        .await;
    app.post("/v1/orders", paid("o-7", "c-1", 10_000)).await;
    let member = app.member(&program, "c-1").await;
    let path = format!("/v1/programs/{program}/members/{}/points/remove", member["id"].as_str().unwrap());
    app.post(&path, json!({"points": 100, "reason": "reward"})).await;
    app.post("/v1/orders", json!({"source_id": "o-7", "status": "REFUNDED"})).await;
    let member = app.member(&program, "c-1").await;
    assert_eq!((member["balance"].clone(), member["debt"].clone()), (json!(-100), json!(100)));
    app.post("/v1/orders", paid("o-8", "c-1", 15_000)).await;
    let member = app.member(&program, "c-1").await;
    assert_eq!((member["balance"].clone(), member["debt"].clone()), (json!(50), json!(0)));
    app.assert_ledger_identities(&program).await;
}
on_both!(programs_that_allow_debt_take_the_balance_below_zero_and_repay_it);

async fn illegal_transitions_are_refused_and_change_nothing(app: TestApp) {
    let program = app.auto_program().await;
    app.post("/v1/orders", paid("o-9", "c-1", 1_000)).await;
    app.post("/v1/orders", json!({"source_id": "o-9", "status": "CANCELED"})).await;
    let before = app.get("/v1/orders/o-9").await.body;
    for status in ["PAID", "CREATED", "FULFILLED", "REFUNDED"] {
        let reply = app.post("/v1/orders", json!({"source_id": "o-9", "status": status})).await;
        assert_eq!(reply.status, StatusCode::CONFLICT, "{status}");
        assert_eq!(reply.key(), "illegal_transition");
    }
    assert_eq!(app.get("/v1/orders/o-9").await.body, before);
    assert_eq!(app.member(&program, "c-1").await["balance"], 0);
    app.post("/v1/orders", paid("o-10", "c-1", 1_000)).await;
    let locked = app.post("/v1/orders", json!({"source_id": "o-10", "amount": 2_000})).await;
    assert_eq!(locked.key(), "order_locked");
}
on_both!(illegal_transitions_are_refused_and_change_nothing);

async fn explicit_programs_earn_only_for_enrolled_customers(app: TestApp) {
    let program = app.program(json!({"name": "Club", "earning": {"every": 100, "points": 2}})).await;
    app.post("/v1/orders", paid("o-11", "c-1", 1_000)).await;
    assert_eq!(app.member(&program, "c-1").await, json!(null));
    let enrolled =
        app.post(&format!("/v1/programs/{program}/members"), json!({"customer": {"source_id": "c-1"}})).await;
    assert_eq!(enrolled.status, StatusCode::CREATED);
    app.post("/v1/orders", paid("o-12", "c-1", 1_000)).await;
    assert_eq!(app.member(&program, "c-1").await["balance"], 20);
}
on_both!(explicit_programs_earn_only_for_enrolled_customers);

async fn a_paused_program_earns_nothing_until_resumed(app: TestApp) {
    let program = app.auto_program().await;
    app.post("/v1/orders", paid("o-13", "c-1", 1_000)).await;
    let paused = app.post(&format!("/v1/programs/{program}"), json!({"paused": true})).await;
    assert_eq!(paused.body["paused"], true);
    app.post("/v1/orders", paid("o-14", "c-1", 1_000)).await;
    assert_eq!(app.member(&program, "c-1").await["balance"], 10);
    app.post(&format!("/v1/programs/{program}"), json!({"paused": false})).await;
    app.post("/v1/orders", paid("o-15", "c-1", 1_000)).await;
    assert_eq!(app.member(&program, "c-1").await["balance"], 20);
}
on_both!(a_paused_program_earns_nothing_until_resumed);

async fn customer_aggregates_follow_paid_orders(app: TestApp) {
    app.post("/v1/orders", paid("o-16", "c-9", 3_000)).await;
    app.post("/v1/orders", paid("o-17", "c-9", 5_000)).await;
    app.post("/v1/orders", json!({"source_id": "o-18", "amount": 9_999, "customer": {"source_id": "c-9"}})).await;
    let c = app.get("/v1/customers/c-9").await.body;
    assert_eq!(c["summary"]["orders_count"], 2);
    assert_eq!(c["summary"]["total_spent"], 8_000);
    assert_eq!(c["summary"]["average_order_value"], 4_000);
    assert_eq!(c["summary"]["last_order_at"], "2025-01-15T12:00:00Z");
}
on_both!(customer_aggregates_follow_paid_orders);
