//! Custom events: single and batch, deduplicated by client_event_id.

use crate::on_both;
use crate::support::TestApp;
use hyper::StatusCode;
use serde_json::json;

async fn an_event_with_a_known_client_id_is_a_duplicate(app: TestApp) {
    let body = json!({"event": "review.written", "customer": {"source_id": "c-1"}, "client_event_id": "r-1", "metadata": {"stars": 5}});
    let first = app.post("/v1/events", body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["duplicate"], false);
    let second = app.post("/v1/events", body).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body["duplicate"], true);
    assert_eq!(second.body["id"], first.body["id"]);
    assert_eq!(app.get("/v1/events").await.body["data"].as_array().unwrap().len(), 1);
}
on_both!(an_event_with_a_known_client_id_is_a_duplicate);

async fn a_batch_records_new_events_and_reports_duplicates(app: TestApp) {
    app.post("/v1/events", json!({"event": "login", "customer": {"source_id": "c-1"}, "client_event_id": "e-0"})).await;
    let events: Vec<_> = (0..5)
        .map(|i| json!({"event": "login", "customer": {"source_id": format!("c-{}", i % 2)}, "client_event_id": format!("e-{}", i % 4)}))
        .collect();
    let reply = app.post("/v1/events/batch", json!({"events": events})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!((reply.body["recorded"].clone(), reply.body["duplicates"].clone()), (json!(3), json!(2)));
    assert_eq!(app.get("/v1/events?limit=100").await.body["data"].as_array().unwrap().len(), 4);
}
on_both!(a_batch_records_new_events_and_reports_duplicates);

async fn an_invalid_event_in_a_batch_records_nothing(app: TestApp) {
    let events = json!([{"event": "ok", "customer": {"source_id": "c-1"}}, {"event": "bad name!", "customer": {"source_id": "c-1"}}]);
    let reply = app.post("/v1/events/batch", json!({"events": events})).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["details"]["errors"][0]["path"], "/events/1/event");
    assert_eq!(app.get("/v1/events").await.body["data"], json!([]));
    let too_many: Vec<_> = (0..1001).map(|_| json!({"event": "x", "customer": {"source_id": "c"}})).collect();
    assert_eq!(
        app.post("/v1/events/batch", json!({"events": too_many})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}
on_both!(an_invalid_event_in_a_batch_records_nothing);

async fn events_from_the_future_are_refused(app: TestApp) {
    let reply = app
        .post(
            "/v1/events",
            json!({"event": "x", "customer": {"source_id": "c"}, "occurred_at": "2030-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["details"]["errors"][0]["path"], "/occurred_at");
}
on_both!(events_from_the_future_are_refused);
