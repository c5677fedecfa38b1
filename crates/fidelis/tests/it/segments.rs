//! Segments through the API: dynamic membership kept current by profile, order, event and balance
//! changes, static members by hand and by CSV, cascades, sweeps, recompute and preview.

use crate::on_both;
use crate::support::TestApp;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

async fn create(app: &TestApp, body: Value) -> String {
    let reply = app.post("/v1/segments", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_owned();
    wait_computed(app, &id).await;
    id
}

/// A new dynamic segment is evaluated in the background; wait for it.
async fn wait_computed(app: &TestApp, id: &str) {
    for _ in 0..200 {
        if app.get(&format!("/v1/segments/{id}")).await.body["computed_at"].is_string() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("segment {id} was never computed");
}

async fn segments_of(app: &TestApp, customer: &str) -> Vec<String> {
    let reply = app.get(&format!("/v1/customers/{customer}/segments")).await;
    reply.body["data"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
}

/// The segment events of the outbox, oldest first.
async fn topics(app: &TestApp) -> Vec<(String, String)> {
    let reply = app.get("/v1/outbox?limit=100").await;
    let mut list: Vec<(String, String)> = reply.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["topic"].as_str().unwrap().starts_with("segment."))
        .map(|e| (e["topic"].as_str().unwrap().to_owned(), e["subject_id"].as_str().unwrap().to_owned()))
        .collect();
    list.reverse();
    list
}

async fn a_dynamic_segment_follows_profile_and_orders(app: TestApp) {
    app.post("/v1/customers", json!({"source_id": "ann", "address": {"country": "DE"}})).await;
    app.post("/v1/customers", json!({"source_id": "bob", "address": {"country": "FR"}})).await;
    let big = create(
        &app,
        json!({"name": "Big DACH", "type": "dynamic",
        "rule": "customer.address.country in [\"DE\", \"AT\"] and spent(last_30_days) >= 50.00"}),
    )
    .await;
    assert!(segments_of(&app, "ann").await.is_empty());
    let order = json!({"source_id": "o-1", "status": "PAID", "amount": 6_000, "customer": {"source_id": "ann"}});
    app.post("/v1/orders", order).await;
    assert_eq!(segments_of(&app, "ann").await, vec![big.clone()], "an order moved ann in, in the same commit");
    app.post(
        "/v1/orders",
        json!({"source_id": "o-2", "status": "PAID", "amount": 9_000, "customer": {"source_id": "bob"}}),
    )
    .await;
    assert!(segments_of(&app, "bob").await.is_empty(), "bob spends but lives in France");
    app.post("/v1/customers", json!({"source_id": "bob", "address": {"country": "AT"}})).await;
    assert_eq!(segments_of(&app, "bob").await, vec![big.clone()], "a profile change moved bob in");
    app.post("/v1/orders/o-1/refunds", json!({"amount": 2_000})).await;
    assert!(segments_of(&app, "ann").await.is_empty(), "a refund moved ann out");
    let members = app.get(&format!("/v1/segments/{big}/members")).await;
    assert_eq!(members.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(app.get(&format!("/v1/segments/{big}")).await.body["members_count"], 1);
    let entered = ("segment.entered".to_owned(), big.clone());
    let left = ("segment.left".to_owned(), big.clone());
    assert_eq!(topics(&app).await, vec![entered.clone(), entered, left]);
}
on_both!(a_dynamic_segment_follows_profile_and_orders);

async fn events_and_balances_move_members_too(app: TestApp) {
    let program = app.auto_program().await;
    let reviewers = create(
        &app,
        json!({"name": "Reviewers", "type": "dynamic", "rule": "events(\"review.written\", last_30_days) >= 2"}),
    )
    .await;
    let rich =
        create(&app, json!({"name": "Rich", "type": "dynamic", "rule": format!("balance(\"{program}\") >= 100")}))
            .await;
    for i in 0..2 {
        let event =
            json!({"event": "review.written", "customer": {"source_id": "ann"}, "client_event_id": format!("r-{i}")});
        app.post("/v1/events", event).await;
    }
    assert_eq!(segments_of(&app, "ann").await, vec![reviewers.clone()]);
    app.post(
        "/v1/orders",
        json!({"source_id": "o-1", "status": "PAID", "amount": 15_000, "customer": {"source_id": "ann"}}),
    )
    .await;
    let mut expected = vec![reviewers.clone(), rich.clone()];
    expected.sort();
    assert_eq!(segments_of(&app, "ann").await, expected, "earning 150 points moved ann into Rich");
    let member = app.member(&program, "ann").await;
    let remove = format!("/v1/programs/{program}/members/{}/points/remove", member["id"].as_str().unwrap());
    app.post(&remove, json!({"points": 100, "reason": "reward"})).await;
    assert_eq!(segments_of(&app, "ann").await, vec![reviewers], "spending points moved ann out");
}
on_both!(events_and_balances_move_members_too);

async fn a_static_segment_takes_members_by_hand_and_by_csv(app: TestApp) {
    for c in ["ann", "bob", "cid"] {
        app.post("/v1/customers", json!({"source_id": c})).await;
    }
    let vip = create(&app, json!({"name": "VIP", "type": "static"})).await;
    let members = format!("/v1/segments/{vip}/members");
    let changed = app.post(&members, json!({"add": [{"source_id": "ann"}, {"source_id": "bob"}]})).await;
    assert_eq!(changed.body["added"], 2, "{}", changed.body);
    let unknown = app.post(&members, json!({"add": [{"source_id": "cid"}, {"source_id": "nobody"}]})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "one unknown customer refuses the whole change");
    assert!(segments_of(&app, "cid").await.is_empty());
    let removed = app.post(&members, json!({"remove": [{"source_id": "bob"}]})).await;
    assert_eq!(removed.body["removed"], 1);
    let csv = "source_id\ncid\nnobody\n\nann\n   \n".to_owned() + &"y".repeat(200) + "\n";
    let import =
        app.send(Method::POST, &format!("{members}/import"), Some(&csv), &[("content-type", "text/csv")]).await;
    assert_eq!(import.status, StatusCode::OK, "{}", import.body);
    assert_eq!((import.body["added"].clone(), import.body["unchanged"].clone()), (json!(1), json!(1)));
    let rows: Vec<_> = import.body["errors"].as_array().unwrap().iter().map(|e| e["row"].clone()).collect();
    assert_eq!(rows, vec![json!(3), json!(7)], "unknown and malformed rows are reported by line");
    assert_eq!(app.get(&format!("/v1/segments/{vip}")).await.body["members_count"], 2);
    let no_header = app.send(Method::POST, &format!("{members}/import"), Some("ann\nbob\n"), &[]).await;
    assert_eq!(no_header.key(), "invalid_csv");
}
on_both!(a_static_segment_takes_members_by_hand_and_by_csv);

async fn segments_that_read_segments_follow_them(app: TestApp) {
    app.post("/v1/customers", json!({"source_id": "ann", "address": {"country": "DE"}})).await;
    let vip = create(&app, json!({"name": "VIP", "type": "static"})).await;
    let german_vip = create(
        &app,
        json!({"name": "German VIP", "type": "dynamic",
        "rule": format!("in_segment(\"{vip}\") and customer.address.country == \"DE\"")}),
    )
    .await;
    app.post(&format!("/v1/segments/{vip}/members"), json!({"add": [{"source_id": "ann"}]})).await;
    let mut both = vec![vip.clone(), german_vip.clone()];
    both.sort();
    assert_eq!(segments_of(&app, "ann").await, both, "joining VIP moved ann into German VIP in the same commit");
    app.post(&format!("/v1/segments/{vip}/members"), json!({"remove": [{"source_id": "ann"}]})).await;
    assert!(segments_of(&app, "ann").await.is_empty());
}
on_both!(segments_that_read_segments_follow_them);

async fn rules_that_read_orders_or_form_cycles_are_refused(app: TestApp) {
    let order_rule =
        app.post("/v1/segments", json!({"name": "x", "type": "dynamic", "rule": "order.amount > 10.00"})).await;
    assert_eq!(order_rule.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", order_rule.body);
    let a = create(&app, json!({"name": "A", "type": "dynamic", "rule": "customer.metadata.vip"})).await;
    let b = create(&app, json!({"name": "B", "type": "dynamic", "rule": format!("in_segment(\"{a}\")")})).await;
    let cycle = app.post(&format!("/v1/segments/{a}"), json!({"rule": format!("in_segment(\"{b}\")")})).await;
    assert_eq!(cycle.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", cycle.body);
    let unknown = app
        .post(
            "/v1/segments",
            json!({"name": "x", "type": "dynamic", "rule": "in_segment(\"seg_01JAAAAAAAAAAAAAAAAAAAAAAA\")"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad = app.post("/v1/segments", json!({"name": "x", "type": "dynamic", "rule": "spent(last_3_days) >"})).await;
    assert_eq!(bad.key(), "invalid_rule");
    let static_rule =
        app.post("/v1/segments", json!({"name": "x", "type": "static", "rule": "customer.metadata.vip"})).await;
    assert_eq!(static_rule.status, StatusCode::UNPROCESSABLE_ENTITY);
}
on_both!(rules_that_read_orders_or_form_cycles_are_refused);

async fn time_dependent_segments_are_swept_on_schedule(app: TestApp) {
    app.set_time("2025-03-01T10:00:00Z");
    app.post(
        "/v1/orders",
        json!({"source_id": "o-1", "status": "PAID", "amount": 1_000, "customer": {"source_id": "ann"}}),
    )
    .await;
    let lapsed =
        create(&app, json!({"name": "Lapsed", "type": "dynamic", "rule": "days_since_last_order() > 30"})).await;
    assert!(segments_of(&app, "ann").await.is_empty());
    app.set_time("2025-04-01T09:00:00Z");
    assert!(app.run_jobs().await.segments_swept >= 1);
    assert_eq!(segments_of(&app, "ann").await, vec![lapsed.clone()], "31 days without an order");
    assert_eq!(app.run_jobs().await.segments_swept, 0, "swept once per hour");
    app.post(
        "/v1/orders",
        json!({"source_id": "o-2", "status": "PAID", "amount": 1_000, "customer": {"source_id": "ann"}}),
    )
    .await;
    assert!(segments_of(&app, "ann").await.is_empty(), "a new order brings ann back at once");
}
on_both!(time_dependent_segments_are_swept_on_schedule);

async fn recompute_and_preview_agree_with_the_rule(app: TestApp) {
    for (c, country) in [("a", "DE"), ("b", "DE"), ("c", "FR")] {
        app.post("/v1/customers", json!({"source_id": c, "address": {"country": country}})).await;
    }
    let preview =
        app.post("/v1/segments/preview", json!({"rule": "customer.address.country == \"DE\"", "sample_size": 1})).await;
    assert_eq!(
        (preview.body["count"].clone(), preview.body["evaluated"].clone()),
        (json!(2), json!(3)),
        "{}",
        preview.body
    );
    assert_eq!(preview.body["sample"].as_array().unwrap().len(), 1);
    assert_eq!(app.get("/v1/segments").await.body["data"], json!([]), "a preview saves nothing");
    let german =
        create(&app, json!({"name": "German", "type": "dynamic", "rule": "customer.address.country == \"DE\""})).await;
    let again = app.post(&format!("/v1/segments/{german}/recompute"), json!({})).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(
        (again.body["evaluated"].clone(), again.body["entered"].clone()),
        (json!(3), json!(0)),
        "already current"
    );
    let renamed =
        app.post(&format!("/v1/segments/{german}"), json!({"rule": "customer.address.country == \"FR\""})).await;
    assert_eq!(renamed.status, StatusCode::OK);
    wait_computed(&app, &german).await;
    assert_eq!(segments_of(&app, "c").await, vec![german.clone()]);
    assert!(segments_of(&app, "a").await.is_empty());
}
on_both!(recompute_and_preview_agree_with_the_rule);

async fn a_segment_created_over_existing_history_agrees_everywhere_and_recomputes_idempotently(app: TestApp) {
    for (i, c) in ["alice", "bob"].iter().enumerate() {
        let order =
            json!({"source_id": format!("o-{i}"), "status": "PAID", "amount": 2_400, "customer": {"source_id": c}});
        assert_eq!(app.post("/v1/orders", order).await.status, StatusCode::CREATED);
    }
    let spenders = create(&app, json!({"name": "Spenders", "type": "dynamic", "rule": "spent(lifetime) > 1.00"})).await;
    assert_eq!(segments_of(&app, "alice").await, vec![spenders.clone()], "the customer's own list");
    let rule = format!("in_segment(\"{spenders}\")");
    let evaluated = app.post("/v1/rules/evaluate", json!({"rule": rule, "customer": {"source_id": "alice"}})).await;
    assert_eq!(evaluated.body["result"], json!(true), "{}", evaluated.body);
    let preview = app.post("/v1/segments/preview", json!({"rule": rule})).await;
    assert_eq!(preview.body["count"], json!(2), "{}", preview.body);
    let again = app.post(&format!("/v1/segments/{spenders}/recompute"), json!({})).await;
    assert_eq!(
        (again.body["evaluated"].clone(), again.body["entered"].clone()),
        (json!(2), json!(0)),
        "{}",
        again.body
    );
    let entered = topics(&app).await.into_iter().filter(|(t, _)| t == "segment.entered").count();
    assert_eq!(entered, 2, "one entered event per member, however often it is recomputed");
}
on_both!(a_segment_created_over_existing_history_agrees_everywhere_and_recomputes_idempotently);

async fn hostile_segment_requests_get_clear_errors_and_change_nothing(app: TestApp) {
    app.post("/v1/customers", json!({"source_id": "ann"})).await;
    let vip = create(&app, json!({"name": "VIP", "type": "static"})).await;
    let before = (app.get("/v1/segments").await.body, app.get("/v1/outbox").await.body);
    let unknown = "in_segment(\"seg_01JAAAAAAAAAAAAAAAAAAAAAAA\")";
    let cases = [
        ("/v1/segments/preview", json!({"rule": "order.amount > 1.00"}), "/rule"),
        ("/v1/segments/preview", json!({"rule": unknown}), "/rule"),
        ("/v1/segments/preview", json!({"rule": "true", "sample_size": 101}), "/sample_size"),
        ("/v1/segments", json!({"name": "\t ", "type": "static"}), "/name"),
        (
            &format!("/v1/segments/{vip}/members"),
            json!({"add": [{"id": "cust_01JAAAAAAAAAAAAAAAAAAAAAAA", "source_id": "ann"}]}),
            "/add/0",
        ),
        ("/v1/rules/evaluate", json!({"rule": "order.amount > 1.00", "order": {"amount": -1}}), "/order/amount"),
        ("/v1/rules/evaluate", json!({"rule": "true", "customer": {"email": "not an email"}}), "/customer/email"),
    ];
    for (path, body, at) in cases {
        let reply = app.post(path, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.body);
        assert_eq!(reply.body["details"]["errors"][0]["path"], at, "{body}: {}", reply.body);
    }
    let as_json = app
        .send(
            Method::POST,
            &format!("/v1/segments/{vip}/members/import"),
            Some("source_id\nann\n"),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!((as_json.status, as_json.key()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));
    for path in ["/v1/segments?cursor=seg_x", &format!("/v1/segments/{vip}/members?cursor="), "/v1/segments?limit=0"] {
        assert_eq!(app.get(path).await.key(), "invalid_query", "{path}");
    }
    let long = format!("/v1/segments/seg_{}", "x".repeat(5_000));
    let missing = app.get(&long).await;
    assert!(missing.body.to_string().len() < 1_000, "a 404 does not echo an unbounded reference");
    let app = std::sync::Arc::new(app);
    let probe = app.clone();
    let path = format!("/v1/segments/{vip}/members/import");
    let csv = format!("source_id\n{}", "ann\n".repeat(5 * 1024 * 1024));
    let (status, body) =
        tokio::task::spawn_blocking(move || crate::bad_input::oversized_request(&probe, &path, &csv)).await.unwrap();
    assert_eq!((status, body["key"].as_str()), (413, Some("payload_too_large")), "{body}");
    assert_eq!((app.get("/v1/segments").await.body, app.get("/v1/outbox").await.body), before);
}
on_both!(hostile_segment_requests_get_clear_errors_and_change_nothing);

async fn segments_are_listed_newest_first_a_page_at_a_time(app: TestApp) {
    let mut ids = Vec::new();
    for name in ["a", "b", "c"] {
        ids.push(create(&app, json!({"name": name, "type": "static"})).await);
    }
    let first = app.get("/v1/segments?limit=2").await.body;
    let names: Vec<_> = first["data"].as_array().unwrap().iter().map(|s| s["name"].clone()).collect();
    assert_eq!((names, first["has_more"].clone()), (vec![json!("c"), json!("b")], json!(true)));
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/v1/segments?limit=2&cursor={cursor}")).await.body;
    assert_eq!(rest["data"][0]["id"], ids[0].as_str());
    assert_eq!((rest["data"].as_array().unwrap().len(), rest["has_more"].clone()), (1, json!(false)));
}
on_both!(segments_are_listed_newest_first_a_page_at_a_time);

async fn an_import_or_recompute_retried_with_its_key_replays_its_first_answer(app: TestApp) {
    for c in ["ann", "bob"] {
        app.post("/v1/orders", json!({"source_id": c, "status": "PAID", "amount": 500, "customer": {"source_id": c}}))
            .await;
    }
    let vip = create(&app, json!({"name": "VIP", "type": "static"})).await;
    let import = format!("/v1/segments/{vip}/members/import");
    let csv = "email,source_id\n\"ann@example.com, home\",ann\nx@example.com,nobody\n";
    let send = |body: &'static str, key: &'static str| {
        let import = import.clone();
        let app = &app;
        async move {
            app.send(Method::POST, &import, Some(body), &[("content-type", "text/csv"), ("idempotency-key", key)]).await
        }
    };
    let first = send(csv, "import-1").await;
    assert_eq!((first.body["added"].clone(), first.body["errors"][0]["row"].clone()), (json!(1), json!(3)));
    let retry = send(csv, "import-1").await;
    assert_eq!(
        (retry.status, retry.body.clone()),
        (first.status, first.body.clone()),
        "the first answer, not 'unchanged'"
    );
    assert_eq!(retry.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    let other = send("source_id\nbob\n", "import-1").await;
    assert_eq!(other.key(), "idempotency_key_reused", "{}", other.body);
    assert_eq!(segments_of(&app, "bob").await, Vec::<String>::new(), "a refused import adds no one");
    let spenders =
        create(&app, json!({"name": "Spenders", "type": "dynamic", "rule": "spent(lifetime) >= 5.00"})).await;
    let recompute = format!("/v1/segments/{spenders}/recompute");
    let once = app.send(Method::POST, &recompute, None, &[("idempotency-key", "re-1")]).await;
    let twice = app.send(Method::POST, &recompute, None, &[("idempotency-key", "re-1")]).await;
    assert_eq!((once.status, &once.body), (twice.status, &twice.body));
    assert!(twice.headers.contains_key("idempotent-replayed"));
    let elsewhere = app.send(Method::POST, &import, Some(csv), &[("idempotency-key", "re-1")]).await;
    assert_eq!(elsewhere.key(), "idempotency_key_reused");
    let entered = topics(&app).await.into_iter().filter(|(t, _)| t == "segment.entered").count();
    assert_eq!(entered, 3, "ann into VIP once; ann and bob into Spenders once");
}
on_both!(an_import_or_recompute_retried_with_its_key_replays_its_first_answer);
