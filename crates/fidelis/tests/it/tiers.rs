//! Tiers (L6) through the API: qualification by points earned in the calendar year and by balance, upgrades
//! at once with the tier's multiplier, the review after a status ends (one level at a time), tier events in
//! the outbox, progress on the member, `tier()` in conditions, and bad configurations refused.

use crate::on_both;
use crate::support::TestApp;
use hyper::StatusCode;
use serde_json::{Value, json};

fn yearly(one_level: bool) -> Value {
    json!({"basis": "earned", "window": "year", "downgrade_one_level": one_level, "levels": [
        {"name": "Silver", "threshold": 100, "multiplier": 1.5},
        {"name": "Gold", "threshold": 500, "multiplier": 2, "expiry": {"type": "after_days", "days": 400}}
    ]})
}

async fn pay(app: &TestApp, source: &str, amount: i64) -> Value {
    let body = json!({"source_id": source, "status": "PAID", "amount": amount, "customer": {"source_id": "c-1"}});
    let reply = app.post("/v1/orders", body).await;
    assert!(reply.status.is_success(), "{}", reply.body);
    reply.body
}

async fn tier_topics(app: &TestApp) -> Vec<(String, Value)> {
    let page = app.get("/v1/outbox?limit=100").await.body["data"].as_array().cloned().unwrap_or_default();
    let mut tiers: Vec<(String, Value)> = page
        .into_iter()
        .filter(|e| e["topic"].as_str().is_some_and(|t| t.starts_with("tier.")))
        .map(|e| (e["topic"].as_str().unwrap().to_owned(), e["payload"]["to"].clone()))
        .collect();
    tiers.reverse();
    tiers
}

async fn members_climb_at_once_earn_by_their_tier_and_step_down_after_their_status_ends(app: TestApp) {
    app.set_time("2026-03-01T10:00:00Z");
    let program = app
        .program(json!({"name": "Club", "earning": {"every": 100, "points": 1}, "join_policy": "auto_on_first_order",
                        "tiers": yearly(true)}))
        .await;
    let gold_bonus = json!({"name": "Gold bonus", "trigger": {"type": "order_paid"}, "amount": {"type": "fixed", "points": 10},
                            "condition": format!("tier(\"{program}\") == \"Gold\"")});
    let reply = app.post(&format!("/v1/programs/{program}/earning-rules"), gold_bonus).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    pay(&app, "o-1", 12_000).await;
    let member = app.member(&program, "c-1").await;
    assert_eq!((member["tier"].clone(), member["tier_until"].clone()), (json!("Silver"), json!("2027-12-31")));
    let second = pay(&app, "o-2", 10_000).await;
    assert_eq!(second["transactions"][0]["points"], 150, "Silver multiplies by 1.5");
    let third = pay(&app, "o-3", 20_000).await;
    assert_eq!(third["transactions"].as_array().unwrap().len(), 1, "not Gold yet when the order was decided");
    assert_eq!(app.member(&program, "c-1").await["tier"], "Gold", "570 earned this year");
    let fourth = pay(&app, "o-4", 1_000).await;
    let points: Vec<i64> =
        fourth["transactions"].as_array().unwrap().iter().map(|t| t["points"].as_i64().unwrap()).collect();
    assert_eq!(points, vec![20, 20], "Gold doubles the rate and its bonus rule fires (×2 too)");
    assert_eq!(fourth["transactions"][0]["expires_on"], "2027-04-05", "Gold's own expiry");
    let base = format!("/v1/programs/{program}/members/{}", app.member(&program, "c-1").await["id"].as_str().unwrap());
    let progress = app.get(&base).await.body["tier_progress"].clone();
    assert_eq!((progress["value"].clone(), progress["next_level"].clone()), (json!(610), Value::Null));
    app.set_time("2027-12-31T12:00:00Z");
    assert_eq!(app.run_jobs().await.tiers_reviewed, 0, "guaranteed through the end of next year");
    app.set_time("2028-01-01T00:00:00Z");
    let report = app.run_jobs().await;
    assert_eq!((report.tiers_reviewed, report.tiers_downgraded), (1, 1));
    let member = app.get(&base).await.body;
    assert_eq!(
        (member["tier"].clone(), member["tier_until"].clone()),
        (json!("Silver"), json!("2028-12-31")),
        "one level down"
    );
    let progress = &member["tier_progress"];
    assert_eq!((progress["next_level"].clone(), progress["missing"].clone()), (json!("Gold"), json!(500)));
    assert_eq!(progress["by"], "2028-12-31");
    assert_eq!(app.run_jobs().await.tiers_reviewed, 0, "a second run changes nothing");
    let history = app.get(&format!("{base}/tier-history")).await.body;
    let moves: Vec<(Value, Value, Value)> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["type"].clone(), m["from"].clone(), m["to"].clone()))
        .collect();
    assert_eq!(
        moves,
        vec![
            (json!("downgraded"), json!("Gold"), json!("Silver")),
            (json!("upgraded"), json!("Silver"), json!("Gold")),
            (json!("joined"), Value::Null, json!("Silver")),
        ],
        "newest first"
    );
    assert_eq!(history["data"][0]["until"], "2028-12-31");
    let page = app.get(&format!("{base}/tier-history?limit=1")).await.body;
    let next = page["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("{base}/tier-history?limit=5&cursor={next}")).await.body;
    assert_eq!(rest["data"].as_array().unwrap().len(), 2, "{rest}");
    assert_eq!(
        tier_topics(&app).await,
        vec![
            ("tier.joined".into(), json!("Silver")),
            ("tier.upgraded".into(), json!("Gold")),
            ("tier.downgraded".into(), json!("Silver"))
        ]
    );
    app.assert_ledger_identities(&program).await;
}
on_both!(members_climb_at_once_earn_by_their_tier_and_step_down_after_their_status_ends);

async fn balance_tiers_follow_the_balance_both_ways(app: TestApp) {
    let tiers = json!({"basis": "balance", "levels": [{"name": "Silver", "threshold": 100}, {"name": "Gold", "threshold": 300}]});
    let program = app.program(json!({"name": "Club", "tiers": tiers})).await;
    let member =
        app.post(&format!("/v1/programs/{program}/members"), json!({"customer": {"source_id": "c-1"}})).await.body;
    let base = format!("/v1/programs/{program}/members/{}", member["id"].as_str().unwrap());
    let add = app.post(&format!("{base}/points/add"), json!({"points": 350, "reason": "gift"})).await;
    assert_eq!(add.body["member"]["tier"], "Gold", "{}", add.body);
    let remove = app.post(&format!("{base}/points/remove"), json!({"points": 300, "reason": "reward"})).await;
    assert_eq!(remove.body["member"]["tier"], Value::Null, "below Silver: left");
    assert_eq!(
        tier_topics(&app).await.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        vec!["tier.joined", "tier.left"]
    );
}
on_both!(balance_tiers_follow_the_balance_both_ways);

async fn tier_configurations_are_checked_and_every_change_is_a_new_version(app: TestApp) {
    let program = app.program(json!({"name": "Club"})).await;
    let path = format!("/v1/programs/{program}");
    let cases = [
        (json!({"basis": "earned", "levels": [{"name": "A", "threshold": 1}]}), "/tiers/window"),
        (json!({"basis": "balance", "window": "year", "levels": [{"name": "A", "threshold": 1}]}), "/tiers/window"),
        (json!({"basis": "loyalty", "levels": [{"name": "A", "threshold": 1}]}), "/tiers/basis"),
        (json!({"basis": "balance", "levels": []}), "/tiers/levels"),
        (
            json!({"basis": "balance", "levels": [{"name": "A", "threshold": 10}, {"name": "B", "threshold": 10}]}),
            "/tiers/levels/1/threshold",
        ),
        (
            json!({"basis": "balance", "levels": [{"name": "A", "threshold": 1}, {"name": "A", "threshold": 10}]}),
            "/tiers/levels/1/name",
        ),
        (
            json!({"basis": "balance", "levels": [{"name": "A", "threshold": 1, "multiplier": 101}]}),
            "/tiers/levels/0/multiplier",
        ),
        (
            json!({"basis": "balance", "levels": [{"name": "A", "threshold": 1, "expiry": {"type": "after_days", "days": 0}}]}),
            "/tiers/levels/0/expiry/days",
        ),
    ];
    for (tiers, pointer) in cases {
        let reply = app.post(&path, json!({"tiers": tiers})).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{tiers}: {}", reply.body);
        let paths: Vec<&str> =
            reply.body["details"]["errors"].as_array().unwrap().iter().filter_map(|e| e["path"].as_str()).collect();
        assert!(paths.contains(&pointer), "{tiers}: wanted {pointer} in {}", reply.body);
    }
    assert_eq!(app.get(&path).await.body["rules_version"], 0, "nothing changed");
    let set = app.post(&path, json!({"tiers": yearly(false)})).await;
    assert_eq!(
        (set.body["rules_version"].clone(), set.body["tiers"]["levels"][1]["name"].clone()),
        (json!(1), json!("Gold"))
    );
    let same = app.post(&path, json!({"tiers": yearly(false)})).await;
    assert_eq!(same.body["rules_version"], 1, "the same tiers again are no new version");
    let removed = app.post(&path, json!({"tiers": null})).await;
    assert_eq!((removed.body["rules_version"].clone(), removed.body["tiers"].clone()), (json!(2), Value::Null));
    let versions = app.get(&format!("{path}/rule-sets")).await.body;
    assert_eq!(versions["data"].as_array().unwrap().len(), 2);
}
on_both!(tier_configurations_are_checked_and_every_change_is_a_new_version);

async fn reaching_a_tier_fires_its_rules_once(app: TestApp) {
    let tiers = json!({"basis": "balance", "levels": [{"name": "Silver", "threshold": 100}, {"name": "Gold", "threshold": 300}]});
    let program = app.program(json!({"name": "Club", "tiers": tiers})).await;
    let welcome = json!({"name": "Welcome to Gold", "trigger": {"type": "tier_reached", "tier": "Gold"},
                         "amount": {"type": "fixed", "points": 50}});
    let reply = app.post(&format!("/v1/programs/{program}/earning-rules"), welcome).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let unknown = json!({"name": "x", "trigger": {"type": "tier_reached", "tier": "Diamond"}, "amount": {"type": "fixed", "points": 1}});
    let refused = app.post(&format!("/v1/programs/{program}/earning-rules"), unknown).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let member =
        app.post(&format!("/v1/programs/{program}/members"), json!({"customer": {"source_id": "c-1"}})).await.body;
    let base = format!("/v1/programs/{program}/members/{}", member["id"].as_str().unwrap());
    app.post(&format!("{base}/points/add"), json!({"points": 150, "reason": "gift"})).await;
    let gold = app.post(&format!("{base}/points/add"), json!({"points": 200, "reason": "gift"})).await;
    assert_eq!(
        (gold.body["member"]["tier"].clone(), gold.body["member"]["balance"].clone()),
        (json!("Gold"), json!(400))
    );
    let entries = app.get(&format!("{base}/transactions")).await.body["data"].clone();
    assert_eq!(
        (entries[0]["points"].clone(), entries[0]["cause"].clone()),
        (json!(50), json!({"type": "tier", "reason": "Gold"}))
    );
    app.post(&format!("{base}/points/add"), json!({"points": 10, "reason": "gift"})).await;
    assert_eq!(app.get(&base).await.body["balance"], 410, "staying at Gold fires nothing");
    app.assert_ledger_identities(&program).await;
}
on_both!(reaching_a_tier_fires_its_rules_once);
