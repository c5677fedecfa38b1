//! Projects are isolated: one project's key never sees or changes another's data.

use crate::on_both;
use crate::support::TestApp;
use hyper::StatusCode;
use serde_json::json;

async fn another_projects_key_sees_none_of_this_projects_data(app: TestApp) {
    let program = app.auto_program().await;
    let order = app
        .post(
            "/v1/orders",
            json!({"source_id": "o-1", "status": "PAID", "amount": 1_000, "customer": {"source_id": "c-1"}}),
        )
        .await;
    let customer_id = order.body["customer_id"].as_str().unwrap().to_owned();
    let order_id = order.body["id"].as_str().unwrap().to_owned();
    let member = app.member(&program, "c-1").await;
    let ports = fidelis::admin::Ports::of_engine(&app.app.engine);
    let other = fidelis::admin::create_project(ports, "other", "USD", "UTC").await.unwrap();
    let (_, other_key) = fidelis::admin::create_key(ports, &other).await.unwrap();
    let mut intruder = app;
    let own_key = std::mem::replace(&mut intruder.key, other_key);
    for path in [
        "/v1/customers/c-1".to_owned(),
        format!("/v1/customers/{customer_id}"),
        "/v1/orders/o-1".to_owned(),
        format!("/v1/orders/{order_id}"),
        format!("/v1/programs/{program}"),
        format!("/v1/programs/{program}/members/{}", member["id"].as_str().unwrap()),
        format!("/v1/programs/{program}/members/{}", member["card_code"].as_str().unwrap()),
    ] {
        assert_eq!(intruder.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    for list in ["/v1/customers", "/v1/orders", "/v1/events", "/v1/programs"] {
        assert_eq!(intruder.get(list).await.body["data"], json!([]), "{list}");
    }
    let add = intruder
        .post(
            &format!("/v1/programs/{program}/members/{}/points/add", member["id"].as_str().unwrap()),
            json!({"points": 5, "reason": "x"}),
        )
        .await;
    assert_eq!(add.status, StatusCode::NOT_FOUND);
    let refund = intruder.post(&format!("/v1/orders/{order_id}/refunds"), json!({"amount": 100})).await;
    assert_eq!(refund.status, StatusCode::NOT_FOUND);
    let same_source = intruder.post("/v1/customers", json!({"source_id": "c-1"})).await;
    assert_eq!(same_source.status, StatusCode::CREATED, "source ids are per project");
    assert_ne!(same_source.body["id"].as_str().unwrap(), customer_id);
    intruder.key = own_key;
    assert_eq!(intruder.member(&program, "c-1").await["balance"], 10);
}
on_both!(another_projects_key_sees_none_of_this_projects_data);
