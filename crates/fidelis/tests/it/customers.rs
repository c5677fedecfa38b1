//! Customers: upsert by source_id, typed metadata, lists, erasure.

use crate::on_both;
use crate::support::TestApp;
use hyper::StatusCode;
use serde_json::json;

async fn upsert_by_source_id_creates_then_updates_one_customer(app: TestApp) {
    let created =
        app.post("/v1/customers", json!({"source_id": "c-1", "name": "Ann", "email": "ann@example.com"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let updated = app.post("/v1/customers", json!({"source_id": "c-1", "phone": "+49 30 1234", "email": null})).await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(updated.body["id"], created.body["id"]);
    assert_eq!(updated.body["name"], "Ann", "absent fields stay");
    assert_eq!(updated.body["email"], json!(null), "null clears");
    let by_source = app.get("/v1/customers/c-1").await;
    let by_id = app.get(&format!("/v1/customers/{}", created.body["id"].as_str().unwrap())).await;
    assert_eq!(by_source.body, by_id.body);
    assert_eq!(by_source.body["phone"], "+49 30 1234");
}
on_both!(upsert_by_source_id_creates_then_updates_one_customer);

async fn metadata_keeps_its_types_and_merges_by_key(app: TestApp) {
    let first = json!({"source_id": "c-2", "metadata": {"vip": true, "score": 4.5, "joined": "2024-02-29", "code": "A-1", "tags": ["x", "y"]}});
    app.post("/v1/customers", first).await;
    let reply = app.post("/v1/customers", json!({"source_id": "c-2", "metadata": {"code": null, "score": 5}})).await;
    assert_eq!(reply.body["metadata"], json!({"vip": true, "score": 5, "joined": "2024-02-29", "tags": ["x", "y"]}));
    assert_eq!(reply.body["metadata"]["score"].to_string(), "5", "a whole number comes back whole");
    let exact =
        app.post("/v1/customers", json!({"source_id": "c-2", "metadata": {"ext": 9_007_199_254_740_992_i64}})).await;
    assert_eq!(exact.body["metadata"]["ext"], 9_007_199_254_740_992_i64);
    let inexact =
        app.post("/v1/customers", json!({"source_id": "c-2", "metadata": {"ext": 9_007_199_254_740_993_i64}})).await;
    assert_eq!(inexact.body["details"]["errors"][0]["path"], "/metadata/ext", "{}", inexact.body);
}
on_both!(metadata_keeps_its_types_and_merges_by_key);

async fn lists_are_newest_first_and_follow_the_cursor(app: TestApp) {
    for i in 0..5 {
        app.post("/v1/customers", json!({"source_id": format!("l-{i}")})).await;
    }
    let first = app.get("/v1/customers?limit=2").await;
    assert_eq!(first.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(first.body["has_more"], true);
    assert_eq!(first.body["data"][0]["source_id"], "l-4");
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let rest = app.get(&format!("/v1/customers?limit=10&cursor={cursor}")).await;
    let sources: Vec<_> = rest.body["data"].as_array().unwrap().iter().map(|c| c["source_id"].clone()).collect();
    assert_eq!(sources, vec![json!("l-2"), json!("l-1"), json!("l-0")]);
    assert_eq!(rest.body["has_more"], false);
    assert_eq!(rest.body["next_cursor"], json!(null));
}
on_both!(lists_are_newest_first_and_follow_the_cursor);

async fn erasure_removes_personal_data_but_keeps_the_ledger(app: TestApp) {
    let program = app.auto_program().await;
    let order = json!({"source_id": "o-1", "status": "PAID", "metadata": {"gift_note": "for Ann"},
                       "items": [{"product_id": "p", "price": 5000, "metadata": {"gift_message": "Love, Ann"}}],
                       "customer": {"source_id": "c-3", "name": "Ann", "email": "ann@example.com"}});
    assert_eq!(app.post("/v1/orders", order).await.status, StatusCode::CREATED);
    app.post(
        "/v1/events",
        json!({"event": "review.written", "customer": {"source_id": "c-3"}, "metadata": {"text": "great"}}),
    )
    .await;
    let erased = app.delete("/v1/customers/c-3").await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.body);
    assert_eq!(erased.body["name"], json!(null));
    assert_eq!(erased.body["source_id"], json!(null));
    assert!(erased.body["erased_at"].is_string());
    assert_eq!(erased.body["summary"]["total_spent"], 5000, "aggregates stay");
    assert_eq!(
        app.get("/v1/customers/c-3").await.status,
        StatusCode::NOT_FOUND,
        "the source_id no longer names anyone"
    );
    let id = erased.body["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/v1/orders?customer={id}")).await.body["data"][0]["metadata"], json!({}));
    assert_eq!(app.get(&format!("/v1/events?customer={id}")).await.body["data"][0]["metadata"], json!({}));
    let member = app.get(&format!("/v1/customers/{id}/memberships")).await;
    assert_eq!(member.body["data"][0]["balance"], 50, "points stay");
    app.assert_ledger_identities(&program).await;
    assert_eq!(app.delete(&format!("/v1/customers/{id}")).await.key(), "customer_erased");
    let again = app
        .post("/v1/orders", json!({"source_id": "o-2", "status": "PAID", "amount": 100, "customer": {"id": id}}))
        .await;
    assert_eq!(again.key(), "customer_erased");
    let id_of = |o: &serde_json::Value| o["id"].as_str().unwrap().to_owned();
    let readd = app.post("/v1/orders", json!({"source_id": "o-1", "metadata": {"note": "for Ann again"}})).await;
    assert_eq!(readd.key(), "customer_erased", "personal data cannot come back through the order");
    let refund = app.post("/v1/orders/o-1/refunds", json!({"amount": 1000})).await;
    assert_eq!(refund.status, StatusCode::OK, "refunds of an erased customer's order still work: {}", refund.body);
    let order = app.get(&format!("/v1/orders?customer={id}")).await.body["data"][0].clone();
    assert_eq!(order["items"][0]["metadata"], json!({}), "item metadata is erased too: {order}");
    assert_eq!(app.get(&format!("/v1/orders/{}", id_of(&order))).await.body["items"][0]["metadata"], json!({}));
    let vip = app.post("/v1/segments", json!({"name": "VIP", "type": "static"})).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let join = app.post(&format!("/v1/segments/{vip}/members"), json!({"add": [{"id": id}]})).await;
    assert_eq!(join.key(), "customer_erased", "an erased customer joins no segment");
    let fresh = app.post("/v1/customers", json!({"source_id": "c-3"})).await;
    assert_eq!(fresh.status, StatusCode::CREATED, "the source_id is free for a new customer");
    assert_ne!(fresh.body["id"], erased.body["id"]);
}
on_both!(erasure_removes_personal_data_but_keeps_the_ledger);

async fn updating_a_missing_customer_by_path_is_not_found(app: TestApp) {
    assert_eq!(app.post("/v1/customers/nobody", json!({"name": "X"})).await.status, StatusCode::NOT_FOUND);
    let by_id = app.post("/v1/customers", json!({"id": "cust_01JAAAAAAAAAAAAAAAAAAAAAAA", "name": "X"})).await;
    assert_eq!(by_id.status, StatusCode::NOT_FOUND);
}
on_both!(updating_a_missing_customer_by_path_is_not_found);
