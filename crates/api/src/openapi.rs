//! The OpenAPI document. The handlers' annotations (`ApiDoc`) give the operations and the wire types;
//! `refine` then states what the annotations cannot say, from the same constants the code checks: string
//! lengths and formats, enums, "by `id` or `source_id`" as `oneOf`, the `Idempotency-Key` format, query
//! bounds, and per operation every status it can answer with, the errors with their keys. The refined
//! document is what `/v1/openapi.json` and `/docs` serve, and what `.ci/fuzz` fuzzes the server with.

use crate::error::ErrorCode;
use crate::routes::{customers, events, home, members, ops, orders, programs, rules, segments};
use fidelis_core::limits::*;
use serde_json::{Map, Value, json};
use std::sync::LazyLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Fidelis API", description = "Loyalty and promotions: customers, orders, events, points programs. \
        Authenticate with `Authorization: Bearer <secret key>`. Money is integer minor units of the project currency. \
        Every POST and DELETE accepts an `Idempotency-Key`; a retry returns the original status and body with \
        `Idempotent-Replayed: true`, and the same key with another request is 422 `idempotency_key_reused`. \
        Writes that take `?dry_run=true` answer what they would do, commit nothing and set `Fidelis-Dry-Run: true`. \
        Errors are `{code, key, message, details, request_id}`; each operation lists the keys it can answer with."),
    paths(
        customers::upsert, customers::update, customers::get, customers::list, customers::erase, customers::memberships,
        orders::upsert, orders::refund, orders::get, orders::list,
        events::record, events::record_batch, events::list,
        programs::create, programs::update, programs::get, programs::list,
        members::enrol, members::list, members::get, members::add_points, members::remove_points, members::transfer,
        members::transactions, members::expiring,
        customers::segments,
        segments::create, segments::update, segments::get, segments::list, segments::members,
        segments::change_members, segments::import, segments::recompute, segments::preview,
        rules::validate, rules::evaluate,
        home::home, ops::healthz, ops::readyz, ops::metrics, ops::project, ops::outbox,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as served: generated, then refined. Built once.
pub fn document() -> &'static Value {
    static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
        let generated = serde_json::to_value(ApiDoc::openapi()).expect("the generated document is JSON");
        refine(generated)
    });
    &DOCUMENT
}

/// Paths that answer without a key.
const PUBLIC_PATHS: [&str; 4] = ["/", "/healthz", "/readyz", "/metrics"];

/// Operations that change nothing (dry runs by nature): they parse an `Idempotency-Key` but ignore it.
const DRY_RUNS: [&str; 3] = ["/v1/rules/validate", "/v1/rules/evaluate", "/v1/segments/preview"];

/// Writes that take `?dry_run=true` (the handlers with a `DryRun` extractor).
const DRY_RUN_WRITES: [&str; 9] = [
    "/v1/customers",
    "/v1/orders",
    "/v1/orders/{order}/refunds",
    "/v1/events",
    "/v1/events/batch",
    "/v1/programs/{program}/members",
    "/v1/programs/{program}/members/{member}/points/add",
    "/v1/programs/{program}/members/{member}/points/remove",
    "/v1/programs/{program}/members/{member}/points/transfer",
];

/// POSTs without path parameters whose body can name a customer that does not exist (404).
const BODY_REFERENCES: [&str; 4] = ["/v1/customers", "/v1/orders", "/v1/events", "/v1/events/batch"];

/// The id prefix of each list's `cursor`.
const CURSORS: [(&str, &str); 9] = [
    ("/v1/customers", "cust"),
    ("/v1/orders", "ord"),
    ("/v1/events", "evt"),
    ("/v1/programs", "prog"),
    ("/v1/programs/{program}/members", "mem"),
    ("/v1/programs/{program}/members/{member}/transactions", "ltx"),
    ("/v1/segments", "seg"),
    ("/v1/segments/{segment}/members", "cust"),
    ("/v1/outbox", "obx"),
];

/// Characters `text::bounded` refuses (`char::is_control`: Unicode category Cc), as a regex class body.
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

/// An id of ours with this prefix: `prefix_` and 26 Crockford base-32 characters.
fn id_pattern(prefix: &str) -> String {
    format!("^{prefix}_[{}]{{{}}}$", fidelis_core::ids::ID_BODY_ALPHABET, fidelis_core::ids::ID_BODY_CHARS)
}

/// `text::bounded`: 1 to `max` characters, not blank, no control characters.
fn text(max: usize) -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": max,
            "pattern": format!(r"^[^{CONTROL}]*[^\s{CONTROL}][^{CONTROL}]*$") })
}

/// `text::source_id`: bounded text without surrounding spaces (and not shaped like one of our ids).
fn source_id() -> Value {
    let inner = SOURCE_ID_CHARS_MAX - 2;
    json!({ "type": "string", "minLength": 1, "maxLength": SOURCE_ID_CHARS_MAX,
            "pattern": format!(r"^[^\s{CONTROL}]([^{CONTROL}]{{0,{inner}}}[^\s{CONTROL}])?$"),
            "description": "Your own id: 1 to 128 characters, no control characters, no surrounding spaces, \
                            and not shaped like one of our ids (a lower-case prefix, `_` and 26 characters)." })
}

/// `text::email`: something@domain.tld, no spaces.
fn email() -> Value {
    let local = format!(r"[^\s{CONTROL}]+");
    let edge = format!(r"[^\s@.{CONTROL}]");
    let middle = format!(r"[^\s@{CONTROL}]*");
    json!({ "type": "string", "minLength": 1, "maxLength": SHORT_TEXT_CHARS_MAX,
            "pattern": format!(r"^{local}@{edge}{middle}\.{middle}{edge}$") })
}

/// `text::date`.
fn date() -> Value {
    json!({ "type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" })
}

fn timestamp() -> Value {
    json!({ "type": "string", "format": "date-time" })
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The same schema, also taking `null` (absent and `null` read alike, or `null` clears).
fn or_null(mut schema: Value) -> Value {
    if let Some(list) = schema.get_mut("enum").and_then(Value::as_array_mut) {
        list.push(Value::Null);
    }
    match schema.get("type").cloned() {
        Some(Value::String(t)) => {
            schema["type"] = json!([t, "null"]);
            schema
        }
        _ => json!({ "oneOf": [{ "type": "null" }, schema] }),
    }
}

/// Metadata values: strings, numbers, booleans, `YYYY-MM-DD` dates (as strings) or lists of these.
fn metadata(patch: bool) -> Value {
    let scalar = json!({ "anyOf": [
        { "type": "string", "maxLength": METADATA_STRING_CHARS_MAX },
        { "type": "number", "description": "Whole numbers are exact up to ±2^53; larger integers are refused." },
        { "type": "boolean" },
    ]});
    let mut values =
        vec![scalar.clone(), json!({ "type": "array", "maxItems": METADATA_LIST_ITEMS_MAX, "items": scalar })];
    if patch {
        values.push(json!({ "type": "null", "description": "Deletes the key." }));
    }
    json!({ "type": "object", "maxProperties": METADATA_KEYS_MAX,
            "propertyNames": { "minLength": 1, "maxLength": METADATA_KEY_CHARS_MAX, "pattern": format!("^[^{CONTROL}]+$") },
            "additionalProperties": { "anyOf": values } })
}

fn time_zones() -> Value {
    let names: Vec<String> = jiff::tz::db()
        .available()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.len() <= TIME_ZONE_CHARS_MAX)
        .collect();
    json!({ "type": "string", "enum": names, "description": "An IANA time zone name (matched without regard to case)." })
}

/// Components the refinements point at.
fn shared_schemas() -> Vec<(&'static str, Value)> {
    let customer = reference("CustomerBody");
    vec![
        ("SourceId", source_id()),
        ("TimeZone", time_zones()),
        ("Metadata", metadata(false)),
        ("MetadataPatch", metadata(true)),
        (
            "Rule",
            json!({ "description": "A rule: its JSON form (an object) or its text form (a string).", "oneOf": [
                { "type": "object", "description": "The JSON form, as `POST /v1/rules/validate` answers it in `rule.json`." },
                { "type": "string", "example": "order.amount >= 50.00 and customer.address.country in [\"AT\", \"DE\"]" },
            ]}),
        ),
        (
            "CustomerReference",
            json!({ "description": "A customer named by `id` (which wins) or by `source_id` (created when unknown, \
                    except where the customer must exist), with profile fields to set.", "oneOf": [
                { "allOf": [customer, { "required": ["id"], "properties": { "id": { "type": "string" } } }] },
                { "allOf": [customer, { "required": ["source_id"],
                    "properties": { "source_id": { "type": "string" }, "id": { "type": "null" } } }] },
            ]}),
        ),
        (
            "CustomerExclusiveReference",
            json!({ "description": "An existing customer, by `id` or by `source_id` (not both).", "oneOf": [
                { "allOf": [customer, { "required": ["id"],
                    "properties": { "id": { "type": "string" }, "source_id": { "type": "null" } } }] },
                { "allOf": [customer, { "required": ["source_id"],
                    "properties": { "source_id": { "type": "string" }, "id": { "type": "null" } } }] },
            ]}),
        ),
        (
            "CustomerUpdateBody",
            json!({ "description": "Fields to change on the customer the path names (`id` and `source_id` stay out).",
                "allOf": [customer, { "properties": { "id": { "type": "null" }, "source_id": { "type": "null" } } }] }),
        ),
        (
            "PointsRemoveBody",
            json!({ "description": "Points to remove; only additions take `expires_on`.",
                "allOf": [reference("PointsBody"), { "properties": { "expires_on": { "type": "null" } } }] }),
        ),
        (
            "ProgramCreateBody",
            json!({ "description": "A new program: a name, and any other field of an update.",
                "allOf": [reference("ProgramBody"), { "required": ["name"], "properties": { "name": { "type": "string" } } }] }),
        ),
    ]
}

/// (schema, property, what the property takes). `None` keeps the generated schema's `null`-ness off.
fn property_refinements() -> Vec<(&'static str, &'static str, Value)> {
    let short = || or_null(text(SHORT_TEXT_CHARS_MAX));
    let mut list = vec![
        ("AddressBody", "line_1", short()),
        ("AddressBody", "line_2", short()),
        ("AddressBody", "city", short()),
        ("AddressBody", "state", short()),
        ("AddressBody", "postal_code", or_null(text(POSTAL_CODE_CHARS_MAX))),
        ("AddressBody", "country", json!({ "type": ["string", "null"], "pattern": "^[A-Za-z]{2}$" })),
        ("CustomerBody", "id", json!({ "type": ["string", "null"], "pattern": id_pattern("cust") })),
        ("CustomerBody", "source_id", or_null(reference("SourceId"))),
        ("CustomerBody", "name", short()),
        ("CustomerBody", "email", or_null(email())),
        ("CustomerBody", "phone", or_null(text(PHONE_CHARS_MAX))),
        ("CustomerBody", "birthdate", or_null(date())),
        ("CustomerBody", "timezone", or_null(reference("TimeZone"))),
        ("CustomerBody", "metadata", or_null(reference("MetadataPatch"))),
        ("ItemBody", "product_id", or_null(reference("SourceId"))),
        ("ItemBody", "sku_id", or_null(reference("SourceId"))),
        (
            "ItemBody",
            "collections",
            json!({ "type": ["array", "null"], "maxItems": ITEM_COLLECTIONS_MAX, "items": reference("SourceId") }),
        ),
        ("ItemBody", "metadata", or_null(reference("Metadata"))),
        ("OrderBody", "source_id", or_null(reference("SourceId"))),
        (
            "OrderBody",
            "status",
            or_null(json!({ "type": "string", "enum": ["CREATED", "PAID", "FULFILLED", "CANCELED", "REFUNDED"],
                            "description": "Matched without regard to case." })),
        ),
        (
            "OrderBody",
            "items",
            json!({ "type": ["array", "null"], "maxItems": ORDER_ITEMS_MAX, "items": reference("ItemBody") }),
        ),
        ("OrderBody", "metadata", or_null(reference("MetadataPatch"))),
        (
            "EventBody",
            "event",
            json!({ "type": "string", "pattern": format!("^[A-Za-z0-9_.:-]{{1,{EVENT_NAME_CHARS_MAX}}}$") }),
        ),
        ("EventBody", "customer", reference("CustomerReference")),
        ("EventBody", "client_event_id", or_null(reference("SourceId"))),
        ("EventBody", "metadata", or_null(reference("Metadata"))),
        ("EventBody", "occurred_at", or_null(timestamp())),
        (
            "EventBatchBody",
            "events",
            json!({ "type": "array", "minItems": 1, "maxItems": EVENTS_PER_BATCH_MAX, "items": reference("EventBody") }),
        ),
        ("EnrolBody", "customer", reference("CustomerReference")),
        (
            "EnrolBody",
            "card_code",
            json!({ "type": ["string", "null"], "pattern": format!("^[A-Za-z0-9-]{{1,{CARD_CODE_CHARS_MAX}}}$") }),
        ),
        ("PointsBody", "reason", text(REASON_CHARS_MAX)),
        ("PointsBody", "expires_on", or_null(date())),
        ("TransferBody", "reason", text(REASON_CHARS_MAX)),
        (
            "TransferBody",
            "to",
            json!({ "type": "string", "description": "The receiving member: `mem_…` id or card code (surrounding spaces are ignored).",
                    "pattern": format!(r"^\s*\S([\s\S]{{0,{}}}\S)?\s*$", CARD_CODE_CHARS_MAX - 2) }),
        ),
        ("ProgramBody", "name", short()),
        ("ProgramBody", "points_label", or_null(text(POINTS_LABEL_CHARS_MAX))),
        ("ProgramBody", "time_zone", or_null(reference("TimeZone"))),
        (
            "ProgramBody",
            "join_policy",
            or_null(json!({ "type": "string", "enum": ["explicit", "auto_on_first_order"] })),
        ),
        (
            "ExpiryBody",
            "type",
            json!({ "type": "string", "enum": ["never", "after_days", "after_months", "fixed_day_of_year"] }),
        ),
        (
            "ExpiryBody",
            "round_to",
            or_null(json!({ "type": "string", "enum": ["month", "quarter", "half_year", "year"] })),
        ),
        ("SegmentBody", "name", text(SHORT_TEXT_CHARS_MAX)),
        ("SegmentBody", "type", json!({ "type": "string", "enum": ["static", "dynamic"] })),
        ("SegmentBody", "rule", or_null(reference("Rule"))),
        ("SegmentUpdateBody", "name", short()),
        ("SegmentUpdateBody", "rule", or_null(reference("Rule"))),
        ("PreviewBody", "rule", reference("Rule")),
        ("RuleBody", "rule", reference("Rule")),
        ("EvaluateBody", "rule", reference("Rule")),
        ("EvaluateBody", "now", or_null(timestamp())),
        ("EventContextBody", "metadata", or_null(reference("Metadata"))),
    ];
    for side in ["add", "remove"] {
        list.push((
            "MembersBody",
            side,
            json!({ "type": "array", "maxItems": segments::SEGMENT_IMPORT_ROWS_PER_COMMAND,
                    "items": reference("CustomerExclusiveReference"),
                    "description": format!("At most {} changes (add and remove together) per request.",
                                           segments::SEGMENT_IMPORT_ROWS_PER_COMMAND) }),
        ));
    }
    list
}

/// Whole-schema constraints between fields.
fn schema_refinements() -> Vec<(&'static str, Value)> {
    vec![
        (
            "ExpiryBody",
            json!({ "oneOf": [
                { "properties": { "type": { "const": "never" } } },
                { "properties": { "type": { "const": "after_days" }, "days": { "type": "integer" } }, "required": ["days"] },
                { "properties": { "type": { "const": "after_months" }, "months": { "type": "integer" } }, "required": ["months"] },
                { "properties": { "type": { "const": "fixed_day_of_year" }, "month": { "type": "integer" },
                                  "day": { "type": "integer" } }, "required": ["month", "day"] },
            ]}),
        ),
        (
            "SegmentBody",
            json!({ "oneOf": [
                { "properties": { "type": { "const": "static" }, "rule": { "type": "null" } } },
                { "properties": { "type": { "const": "dynamic" }, "rule": reference("Rule") }, "required": ["rule"] },
            ]}),
        ),
        (
            "ItemBody",
            json!({ "description": "An order item: a `price` (times `quantity`, default 1) or an `amount`, or both if they agree.",
                "anyOf": [
                { "properties": { "price": { "type": "integer" } }, "required": ["price"] },
                { "properties": { "amount": { "type": "integer" } }, "required": ["amount"] },
            ]}),
        ),
        (
            "ErrorBody",
            json!({ "properties": {
                "code": { "type": "integer", "minimum": 400, "maximum": 599 },
                "key": { "type": "string", "enum": ErrorCode::ALL.iter().map(|c| c.key()).collect::<Vec<_>>() },
                "request_id": { "type": "string", "pattern": "^req_[0-9A-Z]{26}$" },
            }}),
        ),
    ]
}

/// (operation path, request body schema) where an operation takes a narrower body than its Rust type says.
const BODY_OVERRIDES: [(&str, &str, &str); 3] = [
    ("post", "/v1/customers/{customer}", "CustomerUpdateBody"),
    ("post", "/v1/programs", "ProgramCreateBody"),
    ("post", "/v1/programs/{program}/members/{member}/points/remove", "PointsRemoveBody"),
];

/// A member import: a header line naming the reference column (`source_id`, `customer_id` or `id`; the
/// document shows it first, the server finds it anywhere, without regard to case), then one row per customer.
/// Rows that name no customer are reported in the answer, not refused; an unreadable file is 400 `invalid_csv`.
fn csv_schema() -> Value {
    json!({ "type": "string", "example": "source_id,email\nalice,alice@example.com\nbob,\n",
            "pattern": r#"^\ufeff?(source_id|customer_id|id)(,[^\r\n",]*)*(\r?\n[^"]*)?$"# })
}

/// Merges `patch` into `target`: objects key by key, anything else replaced.
fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                merge(t.entry(k).or_insert(Value::Null), v);
            }
        }
        (t, p) => *t = p,
    }
}

fn schema_mut<'a>(doc: &'a mut Value, name: &str) -> &'a mut Map<String, Value> {
    doc["components"]["schemas"]
        .get_mut(name)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("the document has no schema {name}"))
}

/// Replaces a property's schema, keeping its description and example.
fn refine_property(doc: &mut Value, schema: &str, property: &str, refined: Value) {
    let slot = schema_mut(doc, schema)
        .get_mut("properties")
        .and_then(|p| p.get_mut(property))
        .unwrap_or_else(|| panic!("the schema {schema} has no property {property}"));
    let mut kept = Map::new();
    for key in ["description", "example"] {
        if let Some(v) = slot.get(key) {
            kept.insert(key.to_owned(), v.clone());
        }
    }
    *slot = refined;
    if let Value::Object(s) = slot {
        for (k, v) in kept {
            s.entry(k).or_insert(v);
        }
    }
}

/// The error response of a status: the error object, with the keys of that status.
fn error_response(status: u16, note: &str) -> Value {
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
fn request_id_header() -> Value {
    json!({ "description": "The request's id (also `request_id` in an error body).", "required": true,
            "schema": { "type": "string", "pattern": "^req_[0-9A-Z]{26}$" } })
}

fn flag_header(description: &str) -> Value {
    json!({ "description": description, "required": false, "schema": { "type": "string", "enum": ["true"] } })
}

fn error_responses() -> Value {
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

fn idempotency_parameter() -> Value {
    json!({
        "name": "Idempotency-Key", "in": "header", "required": false,
        "description": format!("1 to {IDEMPOTENCY_KEY_CHARS_MAX} printable ASCII characters (no spaces). A retry \
            with the same key returns the stored status and body with `Idempotent-Replayed: true`; the same key \
            with another method, path or body is 422 `idempotency_key_reused`. Kept 72 hours. Optional."),
        "schema": { "type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_CHARS_MAX, "pattern": "^[!-~]+$" },
    })
}

fn dry_run_parameter() -> Value {
    json!({
        "name": "dry_run", "in": "query", "required": false,
        "description": "`true`: decide exactly as a write would, commit nothing, ignore the Idempotency-Key; the \
            answer carries `Fidelis-Dry-Run: true`.",
        "schema": { "type": "boolean" },
    })
}

fn refine_parameters(path: &str, method: &str, operation: &mut Map<String, Value>) {
    let mut params: Vec<Value> = operation
        .remove("parameters")
        .and_then(|p| if let Value::Array(list) = p { Some(list) } else { None })
        .unwrap_or_default();
    params.retain(|p| !(p["name"] == "Idempotency-Key" || p["name"] == "dry_run"));
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
    if !params.is_empty() {
        operation.insert("parameters".into(), Value::Array(params));
    }
}

/// Every status an operation can answer with, from what it takes.
fn refine_responses(path: &str, method: &str, operation: &mut Map<String, Value>) {
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
pub fn refine(mut doc: Value) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;

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
            let reads_input = operation.get("requestBody").is_some()
                || operation["parameters"].as_array().is_some_and(|p| !p.is_empty());
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
}
