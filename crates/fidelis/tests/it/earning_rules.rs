//! Earning rules through the API: the resource and its versions, earning on orders, events and
//! enrolment with every amount, multipliers and caps, explanations, and bad input changing nothing.

use crate::on_both;
use crate::support::TestApp;
use hyper::StatusCode;
use serde_json::{Value, json};

const SATURDAY_NOON: &str = "2026-12-05T12:00:00Z";

async fn rule(app: &TestApp, program: &str, body: Value) -> Value {
    let reply = app.post(&format!("/v1/programs/{program}/earning-rules"), body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

async fn transactions(app: &TestApp, program: &str, customer: &str) -> Vec<Value> {
    let member = app.member(program, customer).await;
    let path = format!("/v1/programs/{program}/members/{}/transactions?limit=100", member["id"].as_str().unwrap());
    app.get(&path).await.body["data"].as_array().cloned().unwrap_or_default()
}

async fn paid_order(app: &TestApp, source: &str, customer: &str, query: &str) -> Value {
    let body = json!({
        "source_id": source, "status": "PAID", "amount": 12_000, "discount_amount": 2_000,
        "customer": {"source_id": customer},
        "items": [
            {"sku_id": "sku-a", "collections": ["shoes"], "quantity": 2, "price": 3000, "amount": 6000},
            {"sku_id": "sku-b", "quantity": 1, "amount": 6000}
        ]
    });
    let reply = app.post(&format!("/v1/orders{query}"), body).await;
    assert!(reply.status.is_success(), "{}", reply.body);
    reply.body
}

async fn rules_are_created_listed_changed_and_every_change_is_a_new_version(app: TestApp) {
    let program = app.program(json!({"name": "Club"})).await;
    let created = rule(
        &app,
        &program,
        json!({"name": "Reviews", "trigger": {"type": "event", "event": "review"},
               "amount": {"type": "fixed", "points": 50}, "caps": {"per_customer_month": 150},
               "condition": "customer.metadata.vip == true"}),
    )
    .await;
    assert_eq!(created["object"], "earning_rule");
    assert_eq!((created["version"].clone(), created["status"].clone()), (json!(1), json!("active")));
    assert_eq!(created["condition_text"], "customer.metadata.vip == true");
    let id = created["id"].as_str().unwrap();
    let path = format!("/v1/programs/{program}/earning-rules/{id}");
    let paused = app.post(&path, json!({"status": "paused"})).await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    assert_eq!((paused.body["status"].clone(), paused.body["version"].clone()), (json!("paused"), json!(2)));
    assert_eq!(paused.body["caps"]["per_customer_month"], 150, "fields not sent stay");
    let list = app.get(&format!("/v1/programs/{program}/earning-rules")).await.body;
    assert_eq!((list["data"].as_array().unwrap().len(), list["rules_version"].clone()), (1, json!(2)));
    assert_eq!(app.get(&path).await.body["status"], "paused");
    let archived = app.post(&path, json!({"status": "archived"})).await;
    assert_eq!(archived.body["status"], "archived");
    let back = app.post(&path, json!({"status": "active"})).await;
    assert_eq!((back.status, back.key()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{}", back.body);
    let unknown = app.get(&format!("/v1/programs/{program}/earning-rules/erl_01JAAAAAAAAAAAAAAAAAAAAAAA")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let other = app.post("/v1/programs/prog_01JAAAAAAAAAAAAAAAAAAAAAAA/earning-rules", json!({"name": "x"})).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}
on_both!(rules_are_created_listed_changed_and_every_change_is_a_new_version);

async fn bad_rules_are_refused_with_their_paths_and_change_nothing(app: TestApp) {
    let program = app.program(json!({"name": "Club"})).await;
    let path = format!("/v1/programs/{program}/earning-rules");
    let fixed = json!({"type": "fixed", "points": 5});
    let cases = [
        (json!({"trigger": {"type": "order_paid"}, "amount": fixed}), "/name"),
        (json!({"name": "x", "amount": fixed}), "/trigger"),
        (json!({"name": "x", "trigger": {"type": "order_paid"}}), "/amount"),
        (json!({"name": "x", "trigger": {"type": "name_day"}, "amount": fixed}), "/trigger/type"),
        (json!({"name": "x", "trigger": {"type": "event"}, "amount": fixed}), "/trigger/event"),
        (
            json!({"name": "x", "trigger": {"type": "order_paid"}, "amount": {"type": "fixed", "points": -5}}),
            "/amount/points",
        ),
        (
            json!({"name": "x", "trigger": {"type": "order_paid"}, "amount": {"type": "fixed", "points": 1e13}}),
            "/amount/points",
        ),
        (
            json!({"name": "x", "trigger": {"type": "order_paid"}, "amount": {"type": "multiplier", "factor": 1.0005}}),
            "/amount/factor",
        ),
        (
            json!({"name": "x", "trigger": {"type": "order_paid"}, "amount": {"type": "multiplier", "factor": 0}}),
            "/amount/factor",
        ),
        (
            json!({"name": "x", "trigger": {"type": "order_paid"}, "amount": {"type": "multiplier", "factor": 2}, "caps": {"per_event": 5}}),
            "/caps",
        ),
        (
            json!({"name": "x", "trigger": {"type": "event", "event": "e"}, "amount": {"type": "proportional", "every": 100, "points": 1}}),
            "/amount/type",
        ),
        (
            json!({"name": "x", "trigger": {"type": "order_paid"}, "amount": {"type": "per_item", "points": 1}}),
            "/amount/by",
        ),
        (
            json!({"name": "x", "trigger": {"type": "order_paid"}, "amount": fixed, "validity": {"days_of_week": ["someday"]}}),
            "/validity/days_of_week/0",
        ),
        (
            json!({"name": "x", "trigger": {"type": "order_paid"}, "amount": fixed, "validity": {"hours": {"from": 9, "to": 25}}}),
            "/validity/hours/to",
        ),
        (
            json!({"name": "x", "trigger": {"type": "order_paid"}, "amount": fixed, "validity": {"starts_at": "2027-01-01T00:00:00Z", "ends_at": "2026-01-01T00:00:00Z"}}),
            "/validity/ends_at",
        ),
        (
            json!({"name": "x", "trigger": {"type": "order_paid"}, "amount": fixed, "segments": ["seg_01JAAAAAAAAAAAAAAAAAAAAAAA"]}),
            "/segments/0",
        ),
        (
            json!({"name": "x", "trigger": {"type": "order_paid"}, "amount": fixed, "caps": {"budget": 0}}),
            "/caps/budget",
        ),
    ];
    for (body, pointer) in cases {
        let reply = app.post(&path, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.body);
        let paths: Vec<&str> = reply.body["details"]["errors"]
            .as_array()
            .map(|list| list.iter().filter_map(|e| e["path"].as_str()).collect())
            .unwrap_or_default();
        assert!(paths.contains(&pointer), "{body}: wanted {pointer} in {}", reply.body);
    }
    let bad_condition = app
        .post(
            &path,
            json!({"name": "x", "trigger": {"type": "order_paid"}, "amount": fixed, "condition": "order.amount >"}),
        )
        .await;
    assert_eq!(bad_condition.key(), "invalid_rule", "{}", bad_condition.body);
    let unknown_field =
        app.post(&path, json!({"name": "x", "trigger": {"type": "order_paid"}, "amount": fixed, "extra": 1})).await;
    assert_eq!(unknown_field.key(), "unknown_field", "{}", unknown_field.body);
    let list = app.get(&path).await.body;
    assert_eq!((list["data"].as_array().unwrap().len(), list["rules_version"].clone()), (0, json!(0)));
}
on_both!(bad_rules_are_refused_with_their_paths_and_change_nothing);

async fn an_order_earns_by_every_rule_and_each_entry_names_its_rule_and_version(app: TestApp) {
    app.set_time(SATURDAY_NOON);
    let program = app
        .program(json!({"name": "Club", "earning": {"every": 1000, "points": 1}, "join_policy": "auto_on_first_order"}))
        .await;
    let shoes = rule(
        &app,
        &program,
        json!({"name": "Shoes", "trigger": {"type": "order_paid"},
               "amount": {"type": "per_item", "by": "quantity", "points": 15, "collections": ["shoes"]},
               "expiry": {"type": "after_days", "days": 30}}),
    )
    .await;
    rule(
        &app,
        &program,
        json!({"name": "Weekend x2", "trigger": {"type": "order_paid"}, "amount": {"type": "multiplier", "factor": 2},
               "validity": {"days_of_week": ["saturday", "sunday"]}}),
    )
    .await;
    rule(
        &app,
        &program,
        json!({"name": "Big baskets", "trigger": {"type": "order_paid"}, "amount": {"type": "fixed", "points": 50},
               "condition": "order.amount >= 200.00"}),
    )
    .await;
    let order = paid_order(&app, "o-1", "c-1", "?explain=true").await;
    let credited: Vec<i64> =
        order["transactions"].as_array().unwrap().iter().map(|t| t["points"].as_i64().unwrap()).collect();
    assert_eq!(credited, vec![20, 60], "the rate gives 10 ×2, shoes 2 units × 15 ×2; big baskets does not fire");
    let shoes_entry = &order["transactions"][1];
    assert_eq!((shoes_entry["rule_id"].clone(), shoes_entry["rule_version"].clone()), (shoes["id"].clone(), json!(3)));
    assert_eq!(shoes_entry["expires_on"], "2027-01-04", "the rule's expiry overrides the program's");
    assert_eq!(order["transactions"][0]["rule_id"], Value::Null, "the program's own rate names no rule");
    let explained = order["earning"][0]["rules"].as_array().unwrap().clone();
    let by_name = |name: &str| explained.iter().find(|r| r["name"] == name).cloned().unwrap();
    assert_eq!(by_name("Weekend x2")["fired"], true);
    assert_eq!(
        (by_name("Shoes")["base_points"].clone(), by_name("Shoes")["multiplier"].clone()),
        (json!(30), json!(2.0))
    );
    let big = by_name("Big baskets");
    assert_eq!((big["fired"].clone(), big["reason"].clone()), (json!(false), json!("condition_failed")));
    assert_eq!(big["hint"], "add 80.00 more", "{big}");
    assert_eq!(big["trace"]["result"], false);
    assert_eq!(app.member(&program, "c-1").await["balance"], 80);
    let again = paid_order(&app, "o-1", "c-1", "").await;
    assert_eq!(again["transactions"], json!([]), "re-sending a paid order earns nothing more");
    let refunded = app.post("/v1/orders/o-1/refunds", json!({"amount": 5_000})).await;
    assert_eq!(refunded.status, StatusCode::OK, "{}", refunded.body);
    let clawed: Vec<i64> =
        refunded.body["transactions"].as_array().unwrap().iter().map(|t| t["points"].as_i64().unwrap()).collect();
    assert_eq!(clawed, vec![-10, -30], "every rule's entry is clawed back in proportion (half the paid amount)");
    app.assert_ledger_identities(&program).await;
}
on_both!(an_order_earns_by_every_rule_and_each_entry_names_its_rule_and_version);

async fn events_earn_by_metadata_once_per_client_id_and_the_per_event_cap_cuts_them(app: TestApp) {
    let program = app.program(json!({"name": "Rides"})).await;
    app.post(&format!("/v1/programs/{program}/members"), json!({"customer": {"source_id": "rider"}})).await;
    rule(
        &app,
        &program,
        json!({"name": "Minutes", "trigger": {"type": "event", "event": "bike_ride"},
               "amount": {"type": "metadata", "key": "minutes", "factor": 2}, "caps": {"per_event": 100}}),
    )
    .await;
    let ride = |minutes: f64, id: &str| json!({"event": "bike_ride", "client_event_id": id, "customer": {"source_id": "rider"}, "metadata": {"minutes": minutes}});
    let first = app.post("/v1/events?explain=true", ride(12.75, "r-1")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["transactions"][0]["points"], 25, "floor(12.75 × 2)");
    assert_eq!(first.body["transactions"][0]["cause"], json!({"type": "event", "event_id": first.body["id"]}));
    let long = app.post("/v1/events?explain=true", ride(300.0, "r-2")).await;
    assert_eq!(long.body["transactions"][0]["points"], 100);
    assert_eq!(long.body["earning"][0]["rules"][0]["capped_by"], "per_event");
    let duplicate = app.post("/v1/events", ride(300.0, "r-2")).await;
    assert_eq!((duplicate.status, duplicate.body["transactions"].clone()), (StatusCode::OK, json!([])));
    let other = app.post("/v1/events", json!({"event": "review", "customer": {"source_id": "rider"}})).await;
    assert_eq!(other.body["transactions"], json!([]));
    let stranger = app
        .post(
            "/v1/events",
            ride(10.0, "r-3")
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.insert("customer".into(), json!({"source_id": "not-a-member"}));
                    Value::Object(o)
                })
                .unwrap(),
        )
        .await;
    assert_eq!(stranger.body["transactions"], json!([]), "event rules earn for members only");
    assert_eq!(app.member(&program, "rider").await["balance"], 125);
    app.assert_ledger_identities(&program).await;
}
on_both!(events_earn_by_metadata_once_per_client_id_and_the_per_event_cap_cuts_them);

async fn the_signup_bonus_fires_on_enrolment_and_on_joining_by_first_order(app: TestApp) {
    let program = app
        .program(json!({"name": "Club", "earning": {"every": 100, "points": 1}, "join_policy": "auto_on_first_order"}))
        .await;
    rule(
        &app,
        &program,
        json!({"name": "Welcome", "trigger": {"type": "member_enrolled"}, "amount": {"type": "fixed", "points": 500}}),
    )
    .await;
    let enrolled =
        app.post(&format!("/v1/programs/{program}/members"), json!({"customer": {"source_id": "c-1"}})).await;
    assert_eq!(
        (enrolled.status, enrolled.body["balance"].clone()),
        (StatusCode::CREATED, json!(500)),
        "{}",
        enrolled.body
    );
    let again = app.post(&format!("/v1/programs/{program}/members"), json!({"customer": {"source_id": "c-1"}})).await;
    assert_eq!(again.body["balance"], 500, "enrolling twice gives nothing more");
    let order = app
        .post(
            "/v1/orders",
            json!({"source_id": "o-2", "status": "PAID", "amount": 1_000, "customer": {"source_id": "c-2"}}),
        )
        .await;
    let kinds: Vec<Value> =
        order.body["transactions"].as_array().unwrap().iter().map(|t| t["cause"]["type"].clone()).collect();
    assert_eq!(kinds, vec![json!("enrolment"), json!("order")]);
    assert_eq!(app.member(&program, "c-2").await["balance"], 510);
    app.assert_ledger_identities(&program).await;
}
on_both!(the_signup_bonus_fires_on_enrolment_and_on_joining_by_first_order);

async fn a_daily_cap_gives_what_is_left_today_and_opens_again_tomorrow(app: TestApp) {
    app.set_time("2026-12-07T09:00:00Z");
    let program = app.program(json!({"name": "Club", "join_policy": "auto_on_first_order"})).await;
    let capped = rule(
        &app,
        &program,
        json!({"name": "Daily", "trigger": {"type": "order_paid"}, "amount": {"type": "fixed", "points": 40},
               "caps": {"per_customer_day": 100, "budget": 170}}),
    )
    .await;
    let mut given = Vec::new();
    for n in 0..3 {
        let order = paid_order(&app, &format!("o-{n}"), "c-1", "?explain=true").await;
        given.push(order["transactions"][0]["points"].as_i64().unwrap());
    }
    assert_eq!(given, vec![40, 40, 20]);
    let fourth = paid_order(&app, "o-3", "c-1", "?explain=true").await;
    assert_eq!(fourth["transactions"], json!([]));
    let report = &fourth["earning"][0]["rules"][0];
    assert_eq!((report["reason"].clone(), report["capped_by"].clone()), (json!("capped"), json!("per_customer_day")));
    app.set_time("2026-12-08T09:00:00Z");
    let tomorrow = paid_order(&app, "o-4", "c-1", "?explain=true").await;
    assert_eq!(tomorrow["transactions"][0]["points"], 40);
    let budget_end = paid_order(&app, "o-5", "c-1", "?explain=true").await;
    assert_eq!(budget_end["transactions"][0]["points"], 30, "170 − 140: what is left of the budget");
    assert_eq!(budget_end["earning"][0]["rules"][0]["capped_by"], "budget");
    let none = paid_order(&app, "o-6", "c-2", "").await;
    assert_eq!(none["transactions"], json!([]), "an exhausted budget gives nobody anything");
    let entries = transactions(&app, &program, "c-1").await;
    assert!(entries.iter().all(|e| e["rule_id"] == capped["id"]));
}
on_both!(a_daily_cap_gives_what_is_left_today_and_opens_again_tomorrow);

async fn a_dry_run_of_an_order_explains_its_earning_and_commits_nothing(app: TestApp) {
    let program = app.auto_program().await;
    rule(
        &app,
        &program,
        json!({"name": "Bonus", "trigger": {"type": "order_paid"}, "amount": {"type": "fixed", "points": 7},
        "caps": {"budget": 100}}),
    )
    .await;
    let dry = paid_order(&app, "o-1", "c-1", "?dry_run=true").await;
    let points: Vec<i64> =
        dry["transactions"].as_array().unwrap().iter().map(|t| t["points"].as_i64().unwrap()).collect();
    assert_eq!(points, vec![100, 7]);
    assert_eq!(dry["earning"][0]["rules"].as_array().unwrap().len(), 2, "a dry run always explains");
    assert_eq!(app.get("/v1/orders/o-1").await.status, StatusCode::NOT_FOUND);
    let real = paid_order(&app, "o-1", "c-1", "").await;
    let real_points: Vec<i64> =
        real["transactions"].as_array().unwrap().iter().map(|t| t["points"].as_i64().unwrap()).collect();
    assert_eq!(real_points, points, "the real call earns what the dry run said");
    assert!(real.get("earning").is_none(), "no explanation unless asked");
    let bad = app.post("/v1/orders?explain=maybe", json!({"source_id": "o-9"})).await;
    assert_eq!(bad.key(), "invalid_query");
}
on_both!(a_dry_run_of_an_order_explains_its_earning_and_commits_nothing);

async fn every_rule_change_is_a_listed_immutable_version_with_its_diff(app: TestApp) {
    let program = app.program(json!({"name": "Club"})).await;
    let first = rule(
        &app,
        &program,
        json!({"name": "A", "trigger": {"type": "order_paid"}, "amount": {"type": "fixed", "points": 5}}),
    )
    .await;
    rule(
        &app,
        &program,
        json!({"name": "B", "trigger": {"type": "order_paid"}, "amount": {"type": "fixed", "points": 7}}),
    )
    .await;
    let path = format!("/v1/programs/{program}/earning-rules/{}", first["id"].as_str().unwrap());
    app.post(&path, json!({"status": "paused", "caps": {"per_event": 3}})).await;
    let list = app.get(&format!("/v1/programs/{program}/rule-sets?limit=2")).await.body;
    let versions: Vec<i64> = list["data"].as_array().unwrap().iter().map(|s| s["version"].as_i64().unwrap()).collect();
    assert_eq!((versions, list["has_more"].clone(), list["next_before"].clone()), (vec![3, 2], json!(true), json!(2)));
    let rest = app.get(&format!("/v1/programs/{program}/rule-sets?before=2")).await.body;
    assert_eq!(rest["data"][0]["rules_count"], 1);
    let third = app.get(&format!("/v1/programs/{program}/rule-sets/3")).await.body;
    assert_eq!(third["compared_to"], 2);
    assert_eq!(
        third["changes"],
        json!([{"rule_id": first["id"], "name": "A", "change": "changed", "fields": ["caps", "status"]}])
    );
    assert_eq!(third["rules"][0]["status"], "paused");
    let second = app.get(&format!("/v1/programs/{program}/rule-sets/2")).await.body;
    assert_eq!(second["rules"][0]["status"], "active", "a version stays as it was made");
    assert_eq!(second["changes"][0]["change"], "added");
    let against_none = app.get(&format!("/v1/programs/{program}/rule-sets/3?compare_to=0")).await.body;
    assert_eq!(against_none["changes"].as_array().unwrap().len(), 2);
    assert_eq!(app.get(&format!("/v1/programs/{program}/rule-sets/9")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/v1/programs/{program}/rule-sets/x")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/v1/programs/{program}/rule-sets?before=-1")).await.key(), "invalid_query");
    let huge = app.get(&format!("/v1/programs/{program}/rule-sets?before=2670588917084202205184")).await;
    assert_eq!(huge.body["data"].as_array().map(Vec::len), Some(3), "beyond every version: all of them");
}
on_both!(every_rule_change_is_a_listed_immutable_version_with_its_diff);

async fn entering_and_leaving_a_segment_fire_their_rules_once_per_transition(app: TestApp) {
    let program = app.auto_program().await;
    let segment = app
        .post("/v1/segments", json!({"name": "Big spenders", "type": "dynamic", "rule": "spent(lifetime) >= 50.00"}))
        .await;
    let segment = segment.body["id"].as_str().unwrap().to_owned();
    let welcome = json!({"name": "Welcome to big spenders", "trigger": {"type": "segment_entered", "segment": segment},
                         "amount": {"type": "fixed", "points": 100}});
    rule(&app, &program, welcome).await;
    rule(
        &app,
        &program,
        json!({"name": "Sorry to see you go", "trigger": {"type": "segment_left", "segment": segment},
                                "amount": {"type": "fixed", "points": 5}}),
    )
    .await;
    let body = |source: &str, amount: i64| json!({"source_id": source, "status": "PAID", "amount": amount, "customer": {"source_id": "c-1"}});
    app.post("/v1/orders", body("o-1", 3_000)).await;
    assert_eq!(app.member(&program, "c-1").await["balance"], 30, "not in the segment yet");
    app.post("/v1/orders", body("o-2", 3_000)).await;
    assert_eq!(app.member(&program, "c-1").await["balance"], 160, "30 + 30 + 100 on entering");
    app.post("/v1/orders", body("o-3", 1_000)).await;
    assert_eq!(app.member(&program, "c-1").await["balance"], 170, "staying in the segment earns no more");
    let refund = app.post("/v1/orders/o-3/refunds", json!({"amount": 1_000})).await;
    assert_eq!(refund.status, StatusCode::OK, "{}", refund.body);
    app.post("/v1/orders/o-2/refunds", json!({"amount": 3_000})).await;
    let entries = transactions(&app, &program, "c-1").await;
    let left: Vec<&Value> = entries.iter().filter(|e| e["cause"]["type"] == "segment").collect();
    assert_eq!(left.len(), 2, "one entry on entering, one on leaving: {entries:?}");
    assert_eq!(left[0]["points"], 5);
    assert_eq!(left[0]["cause"]["segment_id"], json!(segment));
    let unknown = app.post(&format!("/v1/programs/{program}/earning-rules"),
        json!({"name": "x", "trigger": {"type": "segment_entered", "segment": "seg_01JAAAAAAAAAAAAAAAAAAAAAAA"}, "amount": {"type": "fixed", "points": 1}})).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.body);
    app.assert_ledger_identities(&program).await;
}
on_both!(entering_and_leaving_a_segment_fire_their_rules_once_per_transition);

async fn rule_and_tier_changes_can_be_dry_run_and_change_nothing(app: TestApp) {
    let program = app.program(json!({"name": "Club"})).await;
    let body = json!({"name": "A", "trigger": {"type": "order_paid"}, "amount": {"type": "fixed", "points": 5}});
    let path = format!("/v1/programs/{program}/earning-rules");
    let dry = app.send(hyper::Method::POST, &format!("{path}?dry_run=true"), Some(&body.to_string()), &[]).await;
    assert_eq!((dry.status, dry.body["version"].clone()), (StatusCode::CREATED, json!(1)), "{}", dry.body);
    let list = app.get(&path).await.body;
    assert_eq!((list["data"].as_array().unwrap().len(), list["rules_version"].clone()), (0, json!(0)), "nothing saved");
    let real = rule(&app, &program, body).await;
    let change = format!("{path}/{}?dry_run=true", real["id"].as_str().unwrap());
    let paused = app.send(hyper::Method::POST, &change, Some(r#"{"status": "paused"}"#), &[]).await;
    assert_eq!(paused.body["status"], "paused");
    assert_eq!(app.get(&format!("{path}/{}", real["id"].as_str().unwrap())).await.body["status"], "active");
    let tiers = json!({"tiers": {"basis": "balance", "levels": [{"name": "Silver", "threshold": 100}]}});
    let dry_tiers = app
        .send(hyper::Method::POST, &format!("/v1/programs/{program}?dry_run=true"), Some(&tiers.to_string()), &[])
        .await;
    assert_eq!(dry_tiers.body["rules_version"], 2, "{}", dry_tiers.body);
    assert_eq!(app.get(&format!("/v1/programs/{program}")).await.body["tiers"], Value::Null);
}
on_both!(rule_and_tier_changes_can_be_dry_run_and_change_nothing);
