//! Per operation: security, parameters (`Idempotency-Key`, `dry_run`, query bounds), and every status it
//! can answer with, the errors with their keys; `refine` applies it all to the generated document.

use super::schemas::*;
use crate::error::ErrorCode;
use fidelis_core::limits::*;
use serde_json::{Map, Value, json};

/// Paths that answer without a key.
pub(super) const PUBLIC_PATHS: [&str; 4] = ["/", "/healthz", "/readyz", "/metrics"];

/// Operations that change nothing (dry runs by nature): they parse an `Idempotency-Key` but ignore it.
pub(super) const DRY_RUNS: [&str; 3] = ["/v1/rules/validate", "/v1/rules/evaluate", "/v1/segments/preview"];

/// Writes that take `?dry_run=true` (the handlers with a `DryRun` extractor).
pub(super) const DRY_RUN_WRITES: [&str; 12] = [
    "/v1/customers",
    "/v1/orders",
    "/v1/orders/{order}/refunds",
    "/v1/events",
    "/v1/events/batch",
    "/v1/programs/{program}",
    "/v1/programs/{program}/earning-rules",
    "/v1/programs/{program}/earning-rules/{rule}",
    "/v1/programs/{program}/members",
    "/v1/programs/{program}/members/{member}/points/add",
    "/v1/programs/{program}/members/{member}/points/remove",
    "/v1/programs/{program}/members/{member}/points/transfer",
];

/// Writes that earn and take `?explain=true` (the handlers with an `Explained` extractor).
pub(super) const EXPLAINED_WRITES: [&str; 3] = ["/v1/orders", "/v1/events", "/v1/events/batch"];

/// POSTs without path parameters whose body can name a customer that does not exist (404).
pub(super) const BODY_REFERENCES: [&str; 4] = ["/v1/customers", "/v1/orders", "/v1/events", "/v1/events/batch"];

/// The id prefix of each list's `cursor`.
pub(super) const CURSORS: [(&str, &str); 10] = [
    ("/v1/customers", "cust"),
    ("/v1/orders", "ord"),
    ("/v1/events", "evt"),
    ("/v1/programs", "prog"),
    ("/v1/programs/{program}/members", "mem"),
    ("/v1/programs/{program}/members/{member}/transactions", "ltx"),
    ("/v1/programs/{program}/members/{member}/tier-history", "tmv"),
    ("/v1/segments", "seg"),
    ("/v1/segments/{segment}/members", "cust"),
    ("/v1/outbox", "obx"),
];

/// The error response of a status: the error object, with the keys of that status.
pub(super) fn error_response(status: u16, note: &str) -> Value {
    let keys: Vec<&str> = ErrorCode::ALL.iter().filter(|c| c.status().as_u16() == status).map(|c| c.key()).collect();
    let listed = keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
    json!({
        "description": format!("{note} Keys: {listed}. See docs/errors.md."),
        "headers": { "X-Request-Id": request_id_header() },
        "content": { "application/json": { "schema": { "allOf": [reference("ErrorBody"), {
            "properties": { "code": { "const": status }, "key": { "enum": keys } } }] } } },
    })
}

/// Every response carries its request id.
pub(super) fn request_id_header() -> Value {
    json!({ "description": "The request's id (also `request_id` in an error body).", "required": true,
            "schema": { "type": "string", "pattern": "^req_[0-9A-Z]{26}$" } })
}

pub(super) fn flag_header(description: &str) -> Value {
    json!({ "description": description, "required": false, "schema": { "type": "string", "enum": ["true"] } })
}

pub(super) fn error_responses() -> Value {
    json!({
        "BadRequest": error_response(400, "The request cannot be read: body, query, path or Idempotency-Key."),
        "Unauthorized": error_response(401, "No API key, or an unknown or revoked one."),
        "NotFound": error_response(404, "The addressed resource does not exist in this project."),
        "RequestTimeout": error_response(408, "The body did not arrive in time."),
        "Conflict": error_response(409, "The request conflicts with the resource's state; see the key."),
        "PayloadTooLarge": error_response(413, "The body is larger than the endpoint allows."),
        "UnsupportedMediaType": error_response(415, "The body's content type is not one the endpoint takes."),
        "UnprocessableEntity": error_response(422, "The request is well-formed but refused: field errors with \
            their paths, a domain rule, or an Idempotency-Key reused with another request."),
        "Unavailable": error_response(503, "The database is unavailable, the write queue is full or the server \
            is shutting down; retry (with the same Idempotency-Key)."),
    })
}

pub(super) fn idempotency_parameter() -> Value {
    json!({
        "name": "Idempotency-Key", "in": "header", "required": false,
        "description": format!("1 to {IDEMPOTENCY_KEY_CHARS_MAX} printable ASCII characters (no spaces). A retry \
            with the same key returns the stored status and body with `Idempotent-Replayed: true`; the same key \
            with another method, path or body is 422 `idempotency_key_reused`. Kept 72 hours. Optional."),
        "schema": { "type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_CHARS_MAX, "pattern": "^[!-~]+$" },
    })
}

pub(super) fn dry_run_parameter() -> Value {
    json!({
        "name": "dry_run", "in": "query", "required": false,
        "description": "`true`: decide exactly as a write would, commit nothing, ignore the Idempotency-Key; the \
            answer carries `Fidelis-Dry-Run: true`.",
        "schema": { "type": "boolean" },
    })
}

pub(super) fn explain_parameter() -> Value {
    json!({
        "name": "explain", "in": "query", "required": false,
        "description": "`true`: the answer says, per earning rule of every program, what it gave (base points, \
            multiplier, the cap that cut it) or why it gave nothing, with a hint and the condition's trace \
            (`earning`). Dry runs always explain.",
        "schema": { "type": "boolean" },
    })
}

pub(super) fn refine_parameters(path: &str, method: &str, operation: &mut Map<String, Value>) {
    let mut params: Vec<Value> = operation
        .remove("parameters")
        .and_then(|p| if let Value::Array(list) = p { Some(list) } else { None })
        .unwrap_or_default();
    params.retain(|p| !(p["name"] == "Idempotency-Key" || p["name"] == "dry_run" || p["name"] == "explain"));
    for p in &mut params {
        let name = p["name"].as_str().unwrap_or("").to_owned();
        let schema = match (p["in"].as_str(), name.as_str()) {
            (Some("query"), "limit") => json!({ "type": "integer", "minimum": 1, "maximum": PAGE_SIZE_MAX,
                                                "description": format!("Default {PAGE_SIZE_DEFAULT}.") }),
            (Some("query"), "cursor") => {
                let prefix = CURSORS.iter().find(|(p, _)| *p == path).map(|(_, prefix)| *prefix);
                let prefix = prefix.unwrap_or_else(|| panic!("no cursor prefix for {path}"));
                json!({ "type": "string", "pattern": id_pattern(prefix), "description": "A `next_cursor` of this list." })
            }
            (Some("query"), "days") => json!({ "type": "integer", "minimum": 0, "maximum": EXPIRING_SOON_DAYS_MAX,
                                               "description": "Default 30." }),
            (Some("query"), "customer") => {
                json!({ "type": "string", "minLength": 1, "description": "`cust_…` id or source_id." })
            }
            (Some("path"), "program") => json!({ "type": "string", "pattern": id_pattern("prog") }),
            (Some("path"), "segment") => json!({ "type": "string", "pattern": id_pattern("seg") }),
            (Some("path"), "rule") => json!({ "type": "string", "pattern": id_pattern("erl") }),
            (Some("path"), "pending") => json!({ "type": "string", "pattern": id_pattern("hold") }),
            (Some("path"), "version") => json!({ "type": "integer", "minimum": 1 }),
            (Some("query"), "before" | "compare_to") => json!({ "type": "integer", "minimum": 0 }),
            (Some("path"), _) => json!({ "type": "string", "minLength": 1 }),
            _ => continue,
        };
        p["schema"] = schema;
    }
    if method == "post" || method == "delete" {
        let mut key = idempotency_parameter();
        if DRY_RUNS.contains(&path) {
            key["description"] = json!("Changes nothing, so the key is ignored; it must still be well-formed.");
        }
        params.push(key);
    }
    if method == "post" && DRY_RUN_WRITES.contains(&path) {
        params.push(dry_run_parameter());
    }
    if method == "post" && EXPLAINED_WRITES.contains(&path) {
        params.push(explain_parameter());
    }
    if !params.is_empty() {
        operation.insert("parameters".into(), Value::Array(params));
    }
}

/// Every status an operation can answer with, from what it takes.
pub(super) fn refine_responses(path: &str, method: &str, operation: &mut Map<String, Value>) {
    let public = PUBLIC_PATHS.contains(&path);
    let params = operation.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
    let has = |place: &str| params.iter().any(|p| p["in"] == place);
    let body = operation.get("requestBody").cloned();
    let takes_body = body.is_some();
    let takes_csv = body.as_ref().is_some_and(|b| b["content"].get("text/csv").is_some());
    let write = (method == "post" || method == "delete") && !DRY_RUNS.contains(&path);
    let names_customer = params.iter().any(|p| p["in"] == "query" && p["name"] == "customer");
    let responses = operation.entry("responses").or_insert_with(|| json!({}));
    let responses = responses.as_object_mut().expect("responses are an object");
    responses.remove("4XX");
    for response in responses.values_mut() {
        if response["description"] == "" {
            response["description"] = json!("Success.");
        }
        let headers = response.as_object_mut().expect("a response is an object").entry("headers").or_insert(json!({}));
        headers["X-Request-Id"] = request_id_header();
        if write {
            headers["Idempotent-Replayed"] =
                flag_header("`true` on a retry answered from the Idempotency-Key's record.");
        }
        if DRY_RUN_WRITES.contains(&path) {
            headers["Fidelis-Dry-Run"] = flag_header("`true` on the answer of `?dry_run=true`: nothing was committed.");
        }
    }
    if public {
        return;
    }
    let mut add = |status: &str, name: &str| {
        responses.insert(status.into(), json!({ "$ref": format!("#/components/responses/{name}") }));
    };
    if takes_body || has("path") || has("query") || method == "post" || method == "delete" {
        add("400", "BadRequest");
    }
    add("401", "Unauthorized");
    if has("path") || names_customer || (method == "post" && BODY_REFERENCES.contains(&path)) {
        add("404", "NotFound");
    }
    if takes_body {
        add("408", "RequestTimeout");
        add("413", "PayloadTooLarge");
    }
    if write {
        add("409", "Conflict");
    }
    if takes_csv {
        add("415", "UnsupportedMediaType");
    }
    if takes_body || write {
        add("422", "UnprocessableEntity");
    }
    add("503", "Unavailable");
}

/// The generated document, made exact.
pub(super) fn refine(mut doc: Value) -> Value {
    for (name, schema) in shared_schemas() {
        doc["components"]["schemas"][name] = schema;
    }
    for (schema, property, refined) in property_refinements() {
        refine_property(&mut doc, schema, property, refined);
    }
    for (schema, patch) in schema_refinements() {
        let mut target = Value::Object(std::mem::take(schema_mut(&mut doc, schema)));
        merge(&mut target, patch);
        doc["components"]["schemas"][schema] = target;
    }
    doc["components"]["responses"] = error_responses();
    let paths: Vec<String> = doc["paths"].as_object().map(|p| p.keys().cloned().collect()).unwrap_or_default();
    for path in paths {
        let methods: Vec<String> =
            doc["paths"][&path].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        for method in methods {
            let Some(operation) = doc["paths"][&path][&method].as_object_mut() else { continue };
            // utoipa names an operation after its function; several resources have an `upsert` or a `list`.
            let tag = operation["tags"][0].as_str().unwrap_or("").to_owned();
            if let Some(Value::String(id)) = operation.get_mut("operationId") {
                *id = format!("{tag}_{id}");
            }
            if PUBLIC_PATHS.contains(&path.as_str()) {
                operation.insert("security".into(), json!([{}]));
            }
            refine_parameters(&path, &method, operation);
            refine_responses(&path, &method, operation);
            if let Some(content) = operation.get_mut("requestBody").and_then(|b| b.get_mut("content"))
                && content.get("text/csv").is_some()
            {
                *content = json!({ "text/csv": { "schema": csv_schema() }, "text/plain": { "schema": csv_schema() } });
            }
            if let Some((_, _, schema)) = BODY_OVERRIDES.iter().find(|(m, p, _)| *m == method && *p == path) {
                operation["requestBody"]["content"]["application/json"]["schema"] = reference(schema);
            }
        }
    }
    doc
}
