//! Schemas the annotations cannot state: string lengths and formats, enums, `oneOf` choices, from the
//! constants the code checks.

use crate::error::ErrorCode;
use crate::routes::segments;
use fidelis_core::limits::*;
use serde_json::{Map, Value, json};

/// Characters `text::bounded` refuses (`char::is_control`: Unicode category Cc), as a regex class body.
pub(super) const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

/// An id of ours with this prefix: `prefix_` and 26 Crockford base-32 characters.
pub(super) fn id_pattern(prefix: &str) -> String {
    format!("^{prefix}_[{}]{{{}}}$", fidelis_core::ids::ID_BODY_ALPHABET, fidelis_core::ids::ID_BODY_CHARS)
}

/// `text::bounded`: 1 to `max` characters, not blank, no control characters.
pub(super) fn text(max: usize) -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": max,
            "pattern": format!(r"^[^{CONTROL}]*[^\s{CONTROL}][^{CONTROL}]*$") })
}

/// `text::source_id`: bounded text without surrounding spaces (and not shaped like one of our ids).
pub(super) fn source_id() -> Value {
    let inner = SOURCE_ID_CHARS_MAX - 2;
    json!({ "type": "string", "minLength": 1, "maxLength": SOURCE_ID_CHARS_MAX,
            "pattern": format!(r"^[^\s{CONTROL}]([^{CONTROL}]{{0,{inner}}}[^\s{CONTROL}])?$"),
            "description": "Your own id: 1 to 128 characters, no control characters, no surrounding spaces, \
                            and not shaped like one of our ids (a lower-case prefix, `_` and 26 characters)." })
}

/// `text::email`: something@domain.tld, no spaces.
pub(super) fn email() -> Value {
    let local = format!(r"[^\s{CONTROL}]+");
    let edge = format!(r"[^\s@.{CONTROL}]");
    let middle = format!(r"[^\s@{CONTROL}]*");
    json!({ "type": "string", "minLength": 1, "maxLength": SHORT_TEXT_CHARS_MAX,
            "pattern": format!(r"^{local}@{edge}{middle}\.{middle}{edge}$") })
}

/// `text::date`.
pub(super) fn date() -> Value {
    json!({ "type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" })
}

pub(super) fn timestamp() -> Value {
    json!({ "type": "string", "format": "date-time" })
}

pub(super) fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The same schema, also taking `null` (absent and `null` read alike, or `null` clears).
pub(super) fn or_null(mut schema: Value) -> Value {
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
pub(super) fn metadata(patch: bool) -> Value {
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

pub(super) fn time_zones() -> Value {
    let names: Vec<String> = jiff::tz::db()
        .available()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.len() <= TIME_ZONE_CHARS_MAX)
        .collect();
    json!({ "type": "string", "enum": names, "description": "An IANA time zone name (matched without regard to case)." })
}

/// Components the refinements point at.
pub(super) fn shared_schemas() -> Vec<(&'static str, Value)> {
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
pub(super) fn property_refinements() -> Vec<(&'static str, &'static str, Value)> {
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
        ("EarningRuleBody", "name", short()),
        ("EarningRuleBody", "status", or_null(json!({ "type": "string", "enum": ["active", "paused", "archived"] }))),
        ("EarningRuleBody", "condition", or_null(reference("Rule"))),
        (
            "EarningRuleBody",
            "segments",
            json!({ "type": ["array", "null"], "maxItems": fidelis_core::earning::RULE_SEGMENTS_MAX,
                    "items": { "type": "string", "pattern": id_pattern("seg") } }),
        ),
        (
            "TriggerBody",
            "type",
            json!({ "type": "string", "enum": ["order_paid", "event", "member_enrolled", "segment_entered", "segment_left", "tier_reached", "birthday", "anniversary"] }),
        ),
        ("TriggerBody", "segment", or_null(json!({ "type": "string", "pattern": id_pattern("seg") }))),
        (
            "TriggerBody",
            "event",
            or_null(json!({ "type": "string", "pattern": format!("^[A-Za-z0-9_.:-]{{1,{EVENT_NAME_CHARS_MAX}}}$") })),
        ),
        (
            "AmountBody",
            "type",
            json!({ "type": "string", "enum": ["fixed", "proportional", "per_item", "metadata", "multiplier"] }),
        ),
        ("AmountBody", "base", or_null(json!({ "type": "string", "enum": ["after_discounts", "before_discounts"] }))),
        ("AmountBody", "by", or_null(json!({ "type": "string", "enum": ["quantity", "amount"] }))),
        ("AmountBody", "key", or_null(text(METADATA_KEY_CHARS_MAX))),
        (
            "AmountBody",
            "factor",
            or_null(json!({ "type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000,
                            "description": "At most three decimal places; a multiplier at most 100." })),
        ),
        ("TiersBody", "basis", json!({ "type": "string", "enum": ["balance", "earned", "spend"] })),
        (
            "TiersBody",
            "window",
            or_null(
                json!({ "type": "string", "enum": ["month", "quarter", "half_year", "year", "rolling_12_months"] }),
            ),
        ),
        (
            "TiersBody",
            "levels",
            json!({ "type": "array", "minItems": 1, "maxItems": fidelis_core::tier::TIER_LEVELS_MAX,
                    "items": reference("TierLevelBody") }),
        ),
        ("TierLevelBody", "name", text(SHORT_TEXT_CHARS_MAX)),
        ("TierLevelBody", "multiplier", or_null(json!({ "type": "number", "exclusiveMinimum": 0, "maximum": 100 }))),
        ("TriggerBody", "tier", or_null(text(SHORT_TEXT_CHARS_MAX))),
        ("ValidityBody", "starts_at", or_null(timestamp())),
        ("ValidityBody", "ends_at", or_null(timestamp())),
        (
            "ValidityBody",
            "days_of_week",
            json!({ "type": ["array", "null"], "items": { "type": "string", "enum":
                ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] } }),
        ),
    ];
    for list_field in ["product_ids", "sku_ids", "collections"] {
        list.push((
            "AmountBody",
            list_field,
            json!({ "type": ["array", "null"], "maxItems": fidelis_core::earning::RULE_ITEM_REFS_MAX,
                    "items": reference("SourceId") }),
        ));
    }
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
pub(super) fn schema_refinements() -> Vec<(&'static str, Value)> {
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
pub(super) const BODY_OVERRIDES: [(&str, &str, &str); 3] = [
    ("post", "/v1/customers/{customer}", "CustomerUpdateBody"),
    ("post", "/v1/programs", "ProgramCreateBody"),
    ("post", "/v1/programs/{program}/members/{member}/points/remove", "PointsRemoveBody"),
];

/// A member import: a header line naming the reference column (`source_id`, `customer_id` or `id`; the
/// document shows it first, the server finds it anywhere, without regard to case), then one row per customer.
/// Rows that name no customer are reported in the answer, not refused; an unreadable file is 400 `invalid_csv`.
pub(super) fn csv_schema() -> Value {
    json!({ "type": "string", "example": "source_id,email\nalice,alice@example.com\nbob,\n",
            "pattern": r#"^\ufeff?(source_id|customer_id|id)(,[^\r\n",]*)*(\r?\n[^"]*)?$"# })
}

/// Merges `patch` into `target`: objects key by key, anything else replaced.
pub(super) fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                merge(t.entry(k).or_insert(Value::Null), v);
            }
        }
        (t, p) => *t = p,
    }
}

pub(super) fn schema_mut<'a>(doc: &'a mut Value, name: &str) -> &'a mut Map<String, Value> {
    doc["components"]["schemas"]
        .get_mut(name)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("the document has no schema {name}"))
}

/// Replaces a property's schema, keeping its description and example.
pub(super) fn refine_property(doc: &mut Value, schema: &str, property: &str, refined: Value) {
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
