//! Idempotency keys: replays return the stored response; a different body under the same key is refused.

use crate::on_both;
use crate::support::TestApp;
use hyper::StatusCode;
use serde_json::json;

async fn a_retry_returns_the_first_response_and_changes_nothing(app: TestApp) {
    let program = app.program(json!({"name": "Club"})).await;
    let member =
        app.post(&format!("/v1/programs/{program}/members"), json!({"customer": {"source_id": "c-1"}})).await.body;
    let path = format!("/v1/programs/{program}/members/{}/points/add", member["id"].as_str().unwrap());
    let body = json!({"points": 10, "reason": "gift"});
    let first = app.post_keyed(&path, body.clone(), "k-1").await;
    let second = app.post_keyed(&path, body.clone(), "k-1").await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(first.body, second.body);
    assert_eq!(second.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert!(first.headers.get("idempotent-replayed").is_none());
    let member = app.get(&format!("/v1/programs/{program}/members/{}", member["id"].as_str().unwrap())).await;
    assert_eq!(member.body["balance"], 10);
    let reused = app.post_keyed(&path, json!({"points": 11, "reason": "gift"}), "k-1").await;
    assert_eq!((reused.status, reused.key()), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));
    let other_path = app.post_keyed("/v1/customers", json!({"source_id": "x"}), "k-1").await;
    assert_eq!(other_path.key(), "idempotency_key_reused", "the key is bound to method and path too");
}
on_both!(a_retry_returns_the_first_response_and_changes_nothing);

async fn a_stored_rejection_replays_as_the_same_rejection(app: TestApp) {
    let program = app.program(json!({"name": "Club"})).await;
    let member =
        app.post(&format!("/v1/programs/{program}/members"), json!({"customer": {"source_id": "c-1"}})).await.body;
    let base = format!("/v1/programs/{program}/members/{}", member["id"].as_str().unwrap());
    let remove = json!({"points": 5, "reason": "x"});
    let first = app.post_keyed(&format!("{base}/points/remove"), remove.clone(), "r-1").await;
    assert_eq!(first.key(), "insufficient_points");
    app.post(&format!("{base}/points/add"), json!({"points": 50, "reason": "y"})).await;
    let replay = app.post_keyed(&format!("{base}/points/remove"), remove, "r-1").await;
    assert_eq!(replay.body, first.body, "the answer is the first one, even though it would succeed now");
    assert_eq!(app.get(&base).await.body["balance"], 50);
}
on_both!(a_stored_rejection_replays_as_the_same_rejection);

async fn concurrent_duplicates_under_one_key_apply_once(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let program = app.program(json!({"name": "Club"})).await;
    let member =
        app.post(&format!("/v1/programs/{program}/members"), json!({"customer": {"source_id": "c-1"}})).await.body;
    let path = format!("/v1/programs/{program}/members/{}/points/add", member["id"].as_str().unwrap());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (app, path) = (app.clone(), path.clone());
            tokio::spawn(
                async move { app.post_keyed(&path, json!({"points": 7, "reason": "once"}), "same").await.body },
            )
        })
        .collect();
    let bodies: Vec<_> = futures::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect();
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "every caller sees the same response");
    let member = app.get(&format!("/v1/programs/{program}/members/{}", member["id"].as_str().unwrap())).await;
    assert_eq!(member.body["balance"], 7);
}
on_both!(concurrent_duplicates_under_one_key_apply_once);
