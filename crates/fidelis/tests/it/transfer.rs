//! Points transfers between two members of one program (`…/points/transfer`): soonest-expiring points
//! first, expiry kept, all or nothing, exactly once.

use crate::on_both;
use crate::support::TestApp;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

/// A program with two members; the first holds 30 points expiring 2025-02-28, 50 never expiring and 40
/// expiring 2025-06-30. Returns (program, giver, receiver) ids.
async fn two_members(app: &TestApp) -> (String, String, String) {
    let program = app.program(json!({"name": "Club"})).await;
    let enrol = |source: &str| json!({"customer": {"source_id": source}});
    let path = format!("/v1/programs/{program}/members");
    let giver = app.post(&path, enrol("giver")).await.body["id"].as_str().unwrap().to_owned();
    let receiver = app.post(&path, enrol("receiver")).await.body["id"].as_str().unwrap().to_owned();
    for (points, expires_on) in [(30, json!("2025-02-28")), (50, Value::Null), (40, json!("2025-06-30"))] {
        let mut body = json!({"points": points, "reason": "seed"});
        if !expires_on.is_null() {
            body["expires_on"] = expires_on;
        }
        let added = app.post(&format!("{path}/{giver}/points/add"), body).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    }
    (program, giver, receiver)
}

async fn a_transfer_moves_the_soonest_expiring_points_and_they_keep_their_expiry(app: TestApp) {
    let (program, giver, receiver) = two_members(&app).await;
    let path = format!("/v1/programs/{program}/members/{giver}/points/transfer");
    let moved = app.post(&path, json!({"to": receiver, "points": 80, "reason": "birthday gift"})).await;
    assert_eq!(moved.status, StatusCode::CREATED, "{}", moved.body);
    assert_eq!((moved.body["from"]["balance"].clone(), moved.body["to"]["balance"].clone()), (json!(40), json!(80)));
    let kinds: Vec<(Value, Value, Value)> = moved.body["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["type"].clone(), t["points"].clone(), t["expires_on"].clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (json!("transfer_out"), json!(-80), Value::Null),
            (json!("transfer_in"), json!(30), json!("2025-02-28")),
            (json!("transfer_in"), json!(40), json!("2025-06-30")),
            (json!("transfer_in"), json!(10), Value::Null),
        ]
    );
    assert_eq!(moved.body["transactions"][1]["cause"]["counterpart_id"], json!(giver));
    assert_eq!(moved.body["to"]["totals"]["transferred_in"], 80);
    let expiring = app.get(&format!("/v1/programs/{program}/members/{receiver}/expiring?days=365")).await;
    assert_eq!(expiring.body["total"], 70, "the receiver's points expire when the giver's would have");
    let outbox = app.get("/v1/outbox?limit=100").await.body["data"].clone();
    let transfers = outbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["payload"]["kind"].as_str().is_some_and(|k| k.starts_with("transfer_")))
        .count();
    assert_eq!(transfers, 4, "one points event per transaction");
    app.assert_ledger_identities(&program).await;
}
on_both!(a_transfer_moves_the_soonest_expiring_points_and_they_keep_their_expiry);

async fn a_transfer_beyond_the_balance_to_oneself_or_to_nobody_changes_nothing(app: TestApp) {
    let (program, giver, receiver) = two_members(&app).await;
    let path = format!("/v1/programs/{program}/members/{giver}/points/transfer");
    let before = app.get(&format!("/v1/programs/{program}/members?limit=10")).await.body;
    let cases = [
        (json!({"to": receiver, "points": 121, "reason": "x"}), 422, "insufficient_points"),
        (json!({"to": giver, "points": 1, "reason": "x"}), 422, "same_member"),
        (json!({"to": "NO-SUCH-CARD", "points": 1, "reason": "x"}), 404, "not_found"),
        (json!({"to": receiver, "points": 0, "reason": "x"}), 422, "validation_failed"),
        (json!({"to": receiver, "points": 1}), 400, "missing_field"),
    ];
    for (body, status, key) in cases {
        let reply = app.post(&path, body.clone()).await;
        assert_eq!((reply.status.as_u16(), reply.key()), (status, key), "{body}: {}", reply.body);
    }
    let other = app.program(json!({"name": "Other"})).await;
    let stranger = app.post(&format!("/v1/programs/{other}/members"), json!({"customer": {"source_id": "s"}})).await;
    let across = json!({"to": stranger.body["id"], "points": 1, "reason": "x"});
    assert_eq!(app.post(&path, across).await.key(), "not_found", "members of another program are not found");
    assert_eq!(app.get(&format!("/v1/programs/{program}/members?limit=10")).await.body, before);
}
on_both!(a_transfer_beyond_the_balance_to_oneself_or_to_nobody_changes_nothing);

async fn a_transfer_dry_run_answers_like_the_transfer_and_a_retry_replays_it(app: TestApp) {
    let (program, giver, receiver) = two_members(&app).await;
    let path = format!("/v1/programs/{program}/members/{giver}/points/transfer");
    let body = json!({"to": receiver, "points": 35, "reason": "split"}).to_string();
    let dry = app.send(Method::POST, &format!("{path}?dry_run=true"), Some(&body), &[]).await;
    assert_eq!(dry.headers.get("fidelis-dry-run").map(|v| v.to_str().unwrap()), Some("true"));
    let unchanged = app.get(&format!("/v1/programs/{program}/members/{giver}")).await;
    assert_eq!(unchanged.body["balance"], 120, "a dry run commits nothing");
    let real = app.send(Method::POST, &path, Some(&body), &[("idempotency-key", "t-1")]).await;
    assert_eq!(real.status, dry.status);
    assert_eq!(crate::dry_run::normalized(&real.body), crate::dry_run::normalized(&dry.body));
    let again = app.send(Method::POST, &path, Some(&body), &[("idempotency-key", "t-1")]).await;
    assert_eq!(again.body, real.body);
    assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    let after = app.get(&format!("/v1/programs/{program}/members/{giver}")).await;
    assert_eq!(after.body["balance"], 85, "moved once");
}
on_both!(a_transfer_dry_run_answers_like_the_transfer_and_a_retry_replays_it);
