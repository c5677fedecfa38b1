//! The rule endpoints: validation with every error and its path, evaluation with explanations, and no
//! input that makes the server fail.

use crate::on_both;
use crate::support::TestApp;
use hyper::StatusCode;
use proptest::prelude::*;
use serde_json::{Value, json};

/// (rule, expected (path, key) of every error).
fn invalid_rules() -> Vec<(Value, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            json!({"op": ">=", "left": {"field": "order.amont"}, "right": {"money": "5x"}}),
            vec![("/left", "unknown_field"), ("/right", "invalid_literal")],
        ),
        (
            json!({"and": [{"op": "==", "left": {"field": "customer.name"}, "right": {"number": 3}}, {"op": "<", "left": {"field": "order.amount"}, "right": {"string": "x"}}]}),
            vec![("/and/0/right", "type_mismatch"), ("/and/1/right", "type_mismatch")],
        ),
        (json!({"not": [1, 2]}), vec![("/not", "empty")]),
        (json!({"nope": 1}), vec![("", "unknown_key")]),
        (json!("spent(last_3_days) >"), vec![("", "syntax")]),
        (
            json!("spent(last_9999_days) >= \"x\""),
            vec![("/left/args/0", "window_out_of_range"), ("/right", "type_mismatch")],
        ),
    ]
}

async fn every_error_of_an_invalid_rule_comes_with_its_path(app: TestApp) {
    for (rule, expected) in invalid_rules() {
        let reply = app.post("/v1/rules/validate", json!({"rule": rule})).await;
        assert_eq!(
            (reply.status, reply.key()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_rule"),
            "{rule}: {}",
            reply.body
        );
        let errors = reply.body["details"]["errors"].as_array().unwrap();
        let found: Vec<(String, String)> = errors
            .iter()
            .map(|e| (e["path"].as_str().unwrap_or("").to_owned(), e["key"].as_str().unwrap_or("").to_owned()))
            .collect();
        for (path, key) in &expected {
            assert!(
                found
                    .iter()
                    .any(|(p, k)| p == path
                        && (k == key || key == &"syntax" || key == &"empty" || key == &"unknown_key")),
                "{rule}: {found:?}"
            );
        }
        assert!(found.len() >= expected.len(), "{rule}: all errors at once, got {found:?}");
    }
}
on_both!(every_error_of_an_invalid_rule_comes_with_its_path);

async fn a_valid_rule_comes_back_in_both_forms(app: TestApp) {
    let text = "order.amount >= 50.00 and customer.address.country in [\"DE\", \"AT\"] and spent(last_calendar_year) > 1000.00";
    let reply = app.post("/v1/rules/validate", json!({"rule": text})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let rule = &reply.body["rule"];
    assert_eq!(rule["reads"]["current_order"], true);
    assert_eq!(rule["reads"]["order_history"], true);
    let from_json = app.post("/v1/rules/validate", json!({"rule": rule["json"]})).await;
    assert_eq!(from_json.body["rule"]["text"], rule["text"], "the JSON form gives the same rule");
}
on_both!(a_valid_rule_comes_back_in_both_forms);

async fn evaluation_explains_every_condition_with_hints(app: TestApp) {
    app.post("/v1/orders", json!({"source_id": "o-1", "status": "PAID", "amount": 6_000, "customer": {"source_id": "ann", "address": {"country": "DE"}}})).await;
    let body = json!({
        "rule": "order.amount >= 50.00 and customer.address.country == \"DE\" and spent(last_30_days) >= 100.00",
        "customer": {"source_id": "ann"},
        "order": {"amount": 3_800},
    });
    let reply = app.post("/v1/rules/evaluate", body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["result"], false);
    let children = reply.body["explanation"]["children"].as_array().unwrap();
    assert_eq!(children[0]["actual"], 3_800);
    assert_eq!(children[0]["expected"]["value"], 5_000);
    assert_eq!(children[1]["result"], true);
    let hints: Vec<_> =
        reply.body["hints"].as_array().unwrap().iter().map(|h| h["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(hints, vec!["add 12.00 more".to_owned(), "spend 40.00 more".to_owned()]);
    let described = app
        .post("/v1/rules/evaluate", json!({"rule": "customer.metadata.vip", "customer": {"metadata": {"vip": true}}}))
        .await;
    assert_eq!(described.body["result"], true, "a described customer needs no history");
}
on_both!(evaluation_explains_every_condition_with_hints);

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-z_.]{0,12}".prop_map(Value::String),
        prop_oneof![Just("order.amount"), Just("customer.name"), Just("and"), Just("op"), Just(">=")]
            .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        Just("and"),
                        Just("or"),
                        Just("not"),
                        Just("op"),
                        Just("left"),
                        Just("right"),
                        Just("field"),
                        Just("money"),
                        Just("list")
                    ]
                    .prop_map(String::from),
                    inner
                ),
                0..4
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_rule_makes_the_server_fail(rules in proptest::collection::vec(prop_oneof![json_value(), ".{0,40}".prop_map(Value::String)], 8)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            let app = crate::support::spawn(crate::support::Db::Sqlite).await.unwrap();
            for rule in rules {
                for path in ["/v1/rules/validate", "/v1/rules/evaluate", "/v1/segments/preview"] {
                    let reply = app.post(path, json!({"rule": rule})).await;
                    assert!(reply.status.is_success() || reply.status.is_client_error(), "{path} {rule}: {}", reply.status);
                }
            }
        });
    }
}
