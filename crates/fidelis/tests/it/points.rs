//! Programs, membership and the points ledger: manual changes, expiry, expiring soon, transactions.

use crate::on_both;
use crate::support::TestApp;
use hyper::StatusCode;
use serde_json::json;

async fn enrolment_gives_a_card_and_is_idempotent_by_customer(app: TestApp) {
    let program = app.program(json!({"name": "Club"})).await;
    let path = format!("/v1/programs/{program}/members");
    let first = app.post(&path, json!({"customer": {"source_id": "c-1"}})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["card_code"].as_str().unwrap().len(), 12);
    let again = app.post(&path, json!({"customer": {"source_id": "c-1"}})).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["id"], first.body["id"]);
    let by_card = app.get(&format!("{path}/{}", first.body["card_code"].as_str().unwrap().to_lowercase())).await;
    assert_eq!(by_card.body["id"], first.body["id"]);
    let chosen = app.post(&path, json!({"customer": {"source_id": "c-2"}, "card_code": "VIP-0001"})).await;
    assert_eq!(chosen.body["card_code"], "VIP-0001");
    let taken = app.post(&path, json!({"customer": {"source_id": "c-3"}, "card_code": "vip-0001"})).await;
    assert_eq!(taken.key(), "card_code_taken");
    let list = app.get(&format!("{path}?limit=10")).await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 2);
}
on_both!(enrolment_gives_a_card_and_is_idempotent_by_customer);

async fn manual_changes_name_their_reason_and_never_overdraw(app: TestApp) {
    let program = app.program(json!({"name": "Club"})).await;
    let member =
        app.post(&format!("/v1/programs/{program}/members"), json!({"customer": {"source_id": "c-1"}})).await.body;
    let base = format!("/v1/programs/{program}/members/{}", member["id"].as_str().unwrap());
    let added = app.post(&format!("{base}/points/add"), json!({"points": 100, "reason": "welcome gift"})).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(added.body["member"]["balance"], 100);
    assert_eq!(added.body["transaction"]["cause"]["reason"], "welcome gift");
    assert!(added.body["transaction"]["cause"]["actor"].as_str().unwrap().starts_with("key_"));
    let too_much = app.post(&format!("{base}/points/remove"), json!({"points": 101, "reason": "oops"})).await;
    assert_eq!(too_much.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_much.key(), "insufficient_points");
    assert_eq!(too_much.body["details"], json!({"balance": 100, "requested": 101}));
    let removed = app.post(&format!("{base}/points/remove"), json!({"points": 30, "reason": "support"})).await;
    assert_eq!(removed.body["transaction"]["consumed"][0]["points"], 30);
    let history = app.get(&format!("{base}/transactions")).await;
    let kinds: Vec<_> = history.body["data"].as_array().unwrap().iter().map(|t| t["type"].clone()).collect();
    assert_eq!(kinds, vec![json!("manual_remove"), json!("manual_add")]);
    app.assert_ledger_identities(&program).await;
}
on_both!(manual_changes_name_their_reason_and_never_overdraw);

async fn points_expire_after_their_last_day_once_and_show_as_expiring_before(app: TestApp) {
    let program = app
        .program(
            json!({"name": "Expiring", "earning": {"every": 100, "points": 1}, "join_policy": "auto_on_first_order",
                        "expiry": {"type": "after_months", "months": 1}}),
        )
        .await;
    app.set_time("2025-01-31T10:00:00Z");
    app.post(
        "/v1/orders",
        json!({"source_id": "o-1", "status": "PAID", "amount": 10_000, "customer": {"source_id": "c-1"}}),
    )
    .await;
    let member = app.member(&program, "c-1").await;
    let base = format!("/v1/programs/{program}/members/{}", member["id"].as_str().unwrap());
    let expiring = app.get(&format!("{base}/expiring?days=30")).await;
    assert_eq!(
        expiring.body["dates"],
        json!([{"date": "2025-02-28", "points": 100}]),
        "31 Jan + 1 month clamps to 28 Feb"
    );
    app.post(&format!("{base}/points/remove"), json!({"points": 40, "reason": "reward"})).await;
    app.set_time("2025-02-28T23:59:59Z");
    assert_eq!(app.run_jobs().await.expired_lots, 0, "still usable on its last day");
    app.set_time("2025-03-01T00:00:00Z");
    let report = app.run_jobs().await;
    assert_eq!((report.expired_lots, report.expired_points), (1, 60));
    assert_eq!(app.run_jobs().await.expired_lots, 0, "a second run changes nothing");
    let member = app.get(&base).await.body;
    assert_eq!((member["balance"].clone(), member["totals"]["expired"].clone()), (json!(0), json!(60)));
    let history = app.get(&format!("{base}/transactions")).await;
    assert_eq!(history.body["data"][0]["type"], "expire");
    assert_eq!(history.body["data"][0]["cause"]["type"], "expiry");
    app.assert_ledger_identities(&program).await;
}
on_both!(points_expire_after_their_last_day_once_and_show_as_expiring_before);

/// A program in Berlin whose points last one day, and the path of its member `c-1`.
async fn berlin_member(app: &TestApp) -> (String, String) {
    let program = app
        .program(json!({"name": "Berlin", "time_zone": "Europe/Berlin", "expiry": {"type": "after_days", "days": 1}}))
        .await;
    let member =
        app.post(&format!("/v1/programs/{program}/members"), json!({"customer": {"source_id": "c-1"}})).await.body;
    let base = format!("/v1/programs/{program}/members/{}", member["id"].as_str().unwrap());
    (program, base)
}

async fn expiry_runs_at_midnight_in_the_programs_time_zone(app: TestApp) {
    let (_, base) = berlin_member(&app).await;
    app.set_time("2025-06-01T10:00:00Z");
    let added = app.post(&format!("{base}/points/add"), json!({"points": 10, "reason": "gift"})).await;
    assert_eq!(added.body["transaction"]["expires_on"], "2025-06-02");
    app.set_time("2025-06-02T21:59:00Z");
    assert_eq!(app.run_jobs().await.expired_lots, 0);
    app.set_time("2025-06-02T22:00:00Z");
    assert_eq!(app.run_jobs().await.expired_lots, 1, "midnight in Berlin is 22:00 UTC in summer");
}
on_both!(expiry_runs_at_midnight_in_the_programs_time_zone);

async fn a_manual_expiry_date_overrides_the_programs(app: TestApp) {
    let program = app.program(json!({"name": "Never"})).await;
    let member =
        app.post(&format!("/v1/programs/{program}/members"), json!({"customer": {"source_id": "c-1"}})).await.body;
    let base = format!("/v1/programs/{program}/members/{}", member["id"].as_str().unwrap());
    app.post(&format!("{base}/points/add"), json!({"points": 5, "reason": "a", "expires_on": "2025-01-20"})).await;
    app.post(&format!("{base}/points/add"), json!({"points": 7, "reason": "b"})).await;
    let removed = app.post(&format!("{base}/points/remove"), json!({"points": 6, "reason": "c"})).await.body;
    let consumed = &removed["transaction"]["consumed"];
    assert_eq!(
        (consumed[0]["points"].clone(), consumed[1]["points"].clone()),
        (json!(5), json!(1)),
        "soonest expiry first"
    );
}
on_both!(a_manual_expiry_date_overrides_the_programs);

async fn points_cannot_be_added_with_a_last_day_already_past(app: TestApp) {
    let program = app.program(json!({"name": "Never"})).await;
    let member =
        app.post(&format!("/v1/programs/{program}/members"), json!({"customer": {"source_id": "c-1"}})).await.body;
    let base = format!("/v1/programs/{program}/members/{}", member["id"].as_str().unwrap());
    let past =
        app.post(&format!("{base}/points/add"), json!({"points": 10, "reason": "b", "expires_on": "2024-12-31"})).await;
    assert_eq!(past.body["details"]["errors"][0]["path"], "/expires_on", "{}", past.body);
    assert_eq!(app.get(&base).await.body["balance"], 0);
}
on_both!(points_cannot_be_added_with_a_last_day_already_past);

async fn unknown_programs_and_members_are_not_found(app: TestApp) {
    let program = app.program(json!({"name": "Club"})).await;
    assert_eq!(app.get("/v1/programs/prog_01JAAAAAAAAAAAAAAAAAAAAAAA").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/v1/programs/nonsense").await.status, StatusCode::NOT_FOUND);
    let add = app
        .post(&format!("/v1/programs/{program}/members/NOCARD/points/add"), json!({"points": 1, "reason": "x"}))
        .await;
    assert_eq!((add.status, add.key()), (StatusCode::NOT_FOUND, "not_found"));
}
on_both!(unknown_programs_and_members_are_not_found);

async fn after_local_midnight_every_reader_sees_only_what_can_be_spent_before_the_expiry_job_runs(app: TestApp) {
    let (program, base) = berlin_member(&app).await;
    app.set_time("2025-06-01T10:00:00Z");
    app.post(&format!("{base}/points/add"), json!({"points": 10, "reason": "gift", "expires_on": "2025-06-02"})).await;
    app.post(&format!("{base}/points/add"), json!({"points": 3, "reason": "later", "expires_on": "2025-06-20"})).await;
    let rich = app.post("/v1/segments", json!({"name": "Rich", "type": "dynamic", "rule": "balance() >= 5"})).await;
    assert_eq!(rich.status, StatusCode::CREATED, "{}", rich.body);
    let rich = rich.body["id"].as_str().unwrap().to_owned();
    let segment_members = || async { app.get(&format!("/v1/segments/{rich}/members")).await.body["data"].clone() };
    for _ in 0..200 {
        if app.get(&format!("/v1/segments/{rich}")).await.body["computed_at"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(segment_members().await.as_array().unwrap().len(), 1, "13 points make the member rich");
    let evaluate = json!({"rule": "balance() >= 5", "customer": {"source_id": "c-1"}});
    assert_eq!(app.get(&base).await.body["balance"], 13);
    assert_eq!(app.post("/v1/rules/evaluate", evaluate.clone()).await.body["result"], true);

    app.set_time("2025-06-02T22:30:00Z"); // 00:30 in Berlin: the 10 points are past their last day
    assert_eq!(app.get(&base).await.body["balance"], 3, "the member's balance");
    let listed = app.get(&format!("/v1/programs/{program}/members?limit=10")).await.body;
    assert_eq!(listed["data"][0]["balance"], 3, "the member list");
    let memberships = app.get("/v1/customers/c-1/memberships").await.body;
    assert_eq!(memberships["data"][0]["balance"], 3, "the customer's memberships: {memberships}");
    let expiring = app.get(&format!("{base}/expiring?days=30")).await.body;
    assert_eq!(expiring["total"], 3, "expiring soon counts no point that can no longer be spent: {expiring}");
    assert_eq!(app.post("/v1/rules/evaluate", evaluate).await.body["result"], false, "rules");
    let preview = app.post("/v1/segments/preview", json!({"rule": "balance() >= 5"})).await.body;
    assert_eq!(preview["count"], 0, "segment preview: {preview}");
    let too_much = app.post(&format!("{base}/points/remove"), json!({"points": 4, "reason": "reward"})).await;
    assert_eq!(too_much.body["details"], json!({"balance": 3, "requested": 4}), "a debit agrees with the balance");
    let recomputed = app.post(&format!("/v1/segments/{rich}/recompute"), json!({})).await;
    assert_eq!(recomputed.body["left"], 1, "a recompute sees the spendable balance: {}", recomputed.body);
    assert_eq!(segment_members().await, json!([]));

    let report = app.run_jobs().await;
    assert_eq!((report.expired_lots, report.expired_points), (1, 10));
    assert_eq!(app.get(&base).await.body["balance"], 3, "the expiry run changes no balance anyone saw");
    app.assert_ledger_identities(&program).await;
}
on_both!(after_local_midnight_every_reader_sees_only_what_can_be_spent_before_the_expiry_job_runs);
