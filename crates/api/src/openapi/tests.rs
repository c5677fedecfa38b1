use super::operations::*;
use super::schemas::*;
use super::*;
use crate::error::ErrorCode;
use fidelis_core::limits::*;
use serde_json::{Value, json};

fn operations() -> Vec<(String, String, Value)> {
    let doc = document();
    let mut found = Vec::new();
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for (method, operation) in methods.as_object().unwrap() {
            found.push((path.clone(), method.clone(), operation.clone()));
        }
    }
    found
}

/// Follows a `$ref` into the document.
fn resolve(value: &Value) -> &Value {
    let doc = document();
    match value["$ref"].as_str() {
        Some(r) => r.trim_start_matches("#/").split('/').fold(doc, |v, part| &v[part]),
        None => value,
    }
}

#[test]
fn health_readiness_metrics_and_the_root_page_need_no_key_and_everything_else_does() {
    for (path, method, operation) in operations() {
        let security = &operation["security"];
        if PUBLIC_PATHS.contains(&path.as_str()) {
            assert_eq!(security, &json!([{}]), "{method} {path} must not ask for a key");
        } else {
            assert!(security.is_null(), "{method} {path} keeps the document's bearer requirement");
        }
    }
    assert_eq!(document()["security"], json!([{ "bearer": [] }]));
    for path in PUBLIC_PATHS {
        assert!(document()["paths"][path]["get"].is_object(), "{path} is documented");
    }
}

#[test]
fn every_operation_that_reads_input_documents_400_and_every_keyed_one_401_and_503_with_the_error_object() {
    for (path, method, operation) in operations() {
        let responses = &operation["responses"];
        assert!(responses.get("4XX").is_none(), "{method} {path}: statuses are listed one by one");
        if PUBLIC_PATHS.contains(&path.as_str()) {
            continue;
        }
        let reads_input =
            operation.get("requestBody").is_some() || operation["parameters"].as_array().is_some_and(|p| !p.is_empty());
        let mut expected = vec!["401", "503"];
        if reads_input {
            expected.push("400");
        }
        for status in expected {
            let response = resolve(&responses[status]);
            let schema = &response["content"]["application/json"]["schema"];
            assert_eq!(schema["allOf"][0]["$ref"], "#/components/schemas/ErrorBody", "{method} {path} {status}");
            let keys = schema["allOf"][1]["properties"]["key"]["enum"].as_array().unwrap();
            assert!(!keys.is_empty(), "{method} {path} {status} lists its keys");
        }
    }
}

#[test]
fn each_error_response_lists_exactly_the_keys_of_its_status() {
    for (name, response) in document()["components"]["responses"].as_object().unwrap() {
        let schema = &response["content"]["application/json"]["schema"]["allOf"][1]["properties"];
        let status = schema["code"]["const"].as_u64().unwrap();
        for key in schema["key"]["enum"].as_array().unwrap() {
            let code = ErrorCode::ALL.iter().find(|c| c.key() == key.as_str().unwrap()).unwrap();
            assert_eq!(u64::from(code.status().as_u16()), status, "{name}: {key}");
        }
    }
}

#[test]
fn every_post_and_delete_takes_an_idempotency_key_of_printable_ascii() {
    for (path, method, operation) in operations() {
        if method != "post" && method != "delete" {
            continue;
        }
        let params = operation["parameters"].as_array().unwrap();
        let key = params.iter().find(|p| p["name"] == "Idempotency-Key").unwrap_or_else(|| panic!("{path}"));
        assert_eq!(key["schema"]["maxLength"], IDEMPOTENCY_KEY_CHARS_MAX);
        assert_eq!(key["schema"]["pattern"], "^[!-~]+$");
    }
}

#[test]
fn list_limits_are_one_to_the_page_maximum_and_cursors_are_ids_of_the_list() {
    for (path, method, operation) in operations() {
        for p in operation["parameters"].as_array().cloned().unwrap_or_default() {
            if p["name"] == "limit" {
                assert_eq!(
                    (p["schema"]["minimum"].clone(), p["schema"]["maximum"].clone()),
                    (json!(1), json!(PAGE_SIZE_MAX))
                );
            }
            if p["name"] == "cursor" {
                assert!(p["schema"]["pattern"].as_str().unwrap().starts_with('^'), "{method} {path}");
            }
        }
    }
}

#[test]
fn every_response_carries_a_request_id_and_writes_say_when_they_were_replayed() {
    for (path, method, operation) in operations() {
        for (status, response) in operation["responses"].as_object().unwrap() {
            let response = resolve(response);
            assert_eq!(response["headers"]["X-Request-Id"]["required"], true, "{method} {path} {status}");
            if status.starts_with('2') && method == "post" && !DRY_RUNS.contains(&path.as_str()) {
                assert!(response["headers"]["Idempotent-Replayed"].is_object(), "{method} {path} {status}");
            }
        }
    }
}

#[test]
fn operation_ids_are_unique() {
    let mut ids: Vec<String> =
        operations().iter().map(|(_, _, o)| o["operationId"].as_str().unwrap().to_owned()).collect();
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count);
}

#[test]
fn a_customer_in_an_event_or_an_enrolment_is_one_of_by_id_or_by_source_id() {
    let schemas = &document()["components"]["schemas"];
    for body in ["EventBody", "EnrolBody"] {
        assert_eq!(schemas[body]["properties"]["customer"]["$ref"], "#/components/schemas/CustomerReference");
        assert!(schemas[body]["required"].as_array().unwrap().contains(&json!("customer")));
    }
    let branches = schemas["CustomerReference"]["oneOf"].as_array().unwrap();
    let required: Vec<&Value> = branches.iter().map(|b| &b["allOf"][1]["required"][0]).collect();
    assert_eq!(required, [&json!("id"), &json!("source_id")]);
}

#[test]
fn a_rule_is_an_object_or_a_string() {
    let rule = &document()["components"]["schemas"]["Rule"]["oneOf"];
    assert_eq!((rule[0]["type"].clone(), rule[1]["type"].clone()), (json!("object"), json!("string")));
}

#[test]
fn every_documented_time_zone_is_one_the_server_accepts() {
    let zones = document()["components"]["schemas"]["TimeZone"]["enum"].as_array().unwrap();
    assert!(zones.len() > 300);
    for zone in zones {
        assert!(fidelis_core::text::time_zone("/tz", zone.as_str().unwrap()).is_ok(), "{zone}");
    }
}

#[test]
fn text_patterns_accept_what_the_validators_accept_and_refuse_what_they_refuse() {
    // The patterns are ECMA/Python regexes; these probes use only the constructs the `regex` crate
    // reads the same way.
    let matches = |schema: &Value, text: &str| {
        let pattern = schema["pattern"].as_str().unwrap();
        regex::Regex::new(pattern).unwrap().is_match(text)
    };
    for (text, ok) in
        [("alice", true), ("a b", true), (" alice", false), ("alice ", false), ("", false), ("a\u{1}", false)]
    {
        assert_eq!(matches(&source_id(), text), fidelis_core::text::source_id("/s", text).is_ok(), "{text:?}");
        assert_eq!(matches(&source_id(), text), ok, "{text:?}");
    }
    for text in [
        "ann@example.com",
        "a@b.c",
        "a@b@c.d",
        "ann",
        "@example.com",
        "ann@example",
        "ann@.com",
        "a nn@example.com",
        "a@b.c.",
    ] {
        assert_eq!(matches(&email(), text), fidelis_core::text::email("/e", text).is_ok(), "{text:?}");
    }
    for text in ["Zoë", " x ", "   ", "", "a\u{0}b", "a\nb"] {
        assert_eq!(matches(&text_of(5), text), fidelis_core::text::bounded("/t", text, 5).is_ok(), "{text:?}");
    }
    fn text_of(max: usize) -> Value {
        text(max)
    }
}
