//! Hostile input: every case gets a 4xx with the error object and leaves all state as it was.

use crate::on_both;
use crate::support::TestApp;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

/// Everything a bad request could have changed.
async fn snapshot(app: &TestApp, program: &str, member: &str) -> Value {
    json!({
        "customers": app.get("/v1/customers?limit=100").await.body["data"],
        "orders": app.get("/v1/orders?limit=100").await.body["data"],
        "events": app.get("/v1/events?limit=100").await.body["data"],
        "programs": app.get("/v1/programs").await.body["data"],
        "member": app.get(&format!("/v1/programs/{program}/members/{member}")).await.body,
        "history": app.get(&format!("/v1/programs/{program}/members/{member}/transactions")).await.body["data"],
    })
}

struct Case {
    what: &'static str,
    method: Method,
    path: String,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
    status: StatusCode,
    key: &'static str,
    /// The JSON pointer the error names, where the case checks it: `details.path` of a 400, a field
    /// error's path (and key, when given) of a 422.
    at: Option<(&'static str, Option<&'static str>)>,
}

fn case(what: &'static str, path: &str, body: impl Into<Vec<u8>>, status: u16, key: &'static str) -> Case {
    Case {
        what,
        method: Method::POST,
        path: path.to_owned(),
        body: body.into(),
        headers: Vec::new(),
        status: StatusCode::from_u16(status).unwrap(),
        key,
        at: None,
    }
}

fn get(what: &'static str, path: &str, status: u16, key: &'static str) -> Case {
    Case { method: Method::GET, ..case(what, path, "", status, key) }
}

fn at(path: &'static str, c: Case) -> Case {
    Case { at: Some((path, None)), ..c }
}

/// A 422 whose field errors include `out_of_range` at `path`.
fn out_of_range(path: &'static str, c: Case) -> Case {
    Case { at: Some((path, Some("out_of_range"))), ..c }
}

fn with_header(mut c: Case, name: &'static str, value: &str) -> Case {
    c.headers.push((name, value.to_owned()));
    c
}

fn cases(program: &str, member: &str) -> Vec<Case> {
    let m = format!("/v1/programs/{program}/members/{member}");
    let items: Vec<_> = (0..501).map(|_| json!({"amount": 1})).collect();
    let many_keys: serde_json::Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!(1))).collect();
    vec![
        case("malformed JSON", "/v1/orders", "{\"source_id\": ", 400, "malformed_json"),
        case("empty body", "/v1/orders", "", 400, "malformed_json"),
        case("invalid UTF-8", "/v1/customers", vec![b'{', b'"', 0xff, b'"', b':', b'1', b'}'], 400, "malformed_json"),
        case("trailing garbage", "/v1/customers", "{} {}", 400, "malformed_json"),
        case("an array, not an object", "/v1/orders", "[1, 2]", 400, "invalid_type"),
        case(
            "unknown field",
            "/v1/orders",
            json!({"source_id": "o", "amount": 1, "colour": "red"}).to_string(),
            400,
            "unknown_field",
        ),
        case(
            "unknown nested field",
            "/v1/orders",
            json!({"amount": 1, "items": [{"amount": 1, "size": "L"}]}).to_string(),
            400,
            "unknown_field",
        ),
        case("string amount", "/v1/orders", json!({"amount": "100"}).to_string(), 400, "invalid_type"),
        at("/amount", case("fractional amount", "/v1/orders", r#"{"amount": 10.5}"#, 400, "invalid_type")),
        at(
            "/items/0/quantity",
            case(
                "fractional quantity",
                "/v1/orders",
                r#"{"items": [{"quantity": 1.5, "price": 100}]}"#,
                400,
                "invalid_type",
            ),
        ),
        out_of_range(
            "/amount",
            case(
                "amount beyond 64 bits",
                "/v1/orders",
                r#"{"amount": 99999999999999999999999}"#,
                422,
                "validation_failed",
            ),
        ),
        out_of_range(
            "/items/1/price",
            case(
                "a price beyond 64 bits among other errors",
                "/v1/orders",
                r#"{"items": [{"quantity": 0, "price": 1}, {"price": -1e30}], "discount_amount": 1e20}"#,
                422,
                "validation_failed",
            ),
        ),
        out_of_range(
            "/expiry/month",
            case(
                "month 200",
                "/v1/programs",
                json!({"name": "p", "expiry": {"type": "fixed_day_of_year", "month": 200, "day": 1}}).to_string(),
                422,
                "validation_failed",
            ),
        ),
        out_of_range(
            "/expiry/day",
            case(
                "day 0",
                "/v1/programs",
                json!({"name": "p", "expiry": {"type": "fixed_day_of_year", "month": 2, "day": 0}}).to_string(),
                422,
                "validation_failed",
            ),
        ),
        out_of_range(
            "/expiry/days",
            case(
                "expiry days beyond 32 bits",
                "/v1/programs",
                json!({"name": "p", "expiry": {"type": "after_days", "days": 5_000_000_000_i64}}).to_string(),
                422,
                "validation_failed",
            ),
        ),
        out_of_range(
            "/earning/points",
            case(
                "earning points as a huge float",
                "/v1/programs",
                r#"{"name": "p", "earning": {"every": 100.0, "points": 1e25}}"#,
                422,
                "validation_failed",
            ),
        ),
        at(
            "/earning/every",
            case(
                "a fractional earning step",
                "/v1/programs",
                r#"{"name": "p", "earning": {"every": 1.5, "points": 1}}"#,
                400,
                "invalid_type",
            ),
        ),
        case("negative amount", "/v1/orders", json!({"amount": -1}).to_string(), 422, "validation_failed"),
        case(
            "amount beyond the money bound",
            "/v1/orders",
            json!({"amount": 100_000_000_000_000_i64}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "items that overflow when summed",
            "/v1/orders",
            json!({"items": [{"amount": 9_000_000_000_000_i64}, {"amount": 9_000_000_000_000_i64}]}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "quantity times price overflows",
            "/v1/orders",
            json!({"items": [{"quantity": 1_000_000, "price": 9_000_000_000_000_i64}]}).to_string(),
            422,
            "validation_failed",
        ),
        case("too many items", "/v1/orders", json!({"items": items}).to_string(), 422, "validation_failed"),
        case(
            "unknown status",
            "/v1/orders",
            json!({"amount": 1, "status": "SHIPPED"}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "too long source_id",
            "/v1/orders",
            json!({"source_id": "x".repeat(129), "amount": 1}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "too long name",
            "/v1/customers",
            json!({"source_id": "c", "name": "n".repeat(257)}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "bad email",
            "/v1/customers",
            json!({"source_id": "c", "email": "nope"}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "bad country",
            "/v1/customers",
            json!({"source_id": "c", "address": {"country": "Germany"}}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "bad birthdate",
            "/v1/customers",
            json!({"source_id": "c", "birthdate": "1990-02-30"}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "bad time zone",
            "/v1/customers",
            json!({"source_id": "c", "timezone": "Mars/Base"}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "too many metadata keys",
            "/v1/customers",
            json!({"source_id": "c", "metadata": many_keys}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "nested metadata",
            "/v1/customers",
            json!({"source_id": "c", "metadata": {"a": {"b": 1}}}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "malformed customer id",
            "/v1/customers",
            json!({"id": "cust_nope"}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "refund of an unknown order",
            "/v1/orders/ord_01JAAAAAAAAAAAAAAAAAAAAAAA/refunds",
            json!({"amount": 1}).to_string(),
            404,
            "not_found",
        ),
        case(
            "negative refund",
            "/v1/orders/whatever/refunds",
            json!({"amount": -5}).to_string(),
            422,
            "validation_failed",
        ),
        case("event without a customer", "/v1/events", json!({"event": "x"}).to_string(), 400, "missing_field"),
        case(
            "bad event name",
            "/v1/events",
            json!({"event": "no spaces", "customer": {"source_id": "c"}}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "bad occurred_at",
            "/v1/events",
            json!({"event": "x", "customer": {"source_id": "c"}, "occurred_at": "yesterday"}).to_string(),
            422,
            "validation_failed",
        ),
        case("program without a name", "/v1/programs", json!({}).to_string(), 422, "validation_failed"),
        case(
            "unknown expiry type",
            "/v1/programs",
            json!({"name": "p", "expiry": {"type": "sometimes"}}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "zero months",
            "/v1/programs",
            json!({"name": "p", "expiry": {"type": "after_months", "months": 0}}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "zero earning step",
            "/v1/programs",
            json!({"name": "p", "earning": {"every": 0, "points": 1}}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "negative points",
            &format!("{m}/points/add"),
            json!({"points": -5, "reason": "x"}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "zero points",
            &format!("{m}/points/add"),
            json!({"points": 0, "reason": "x"}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "huge points",
            &format!("{m}/points/add"),
            json!({"points": 1_000_000_000_000_000_i64}).to_string(),
            400,
            "missing_field",
        ),
        case(
            "huge points with a reason",
            &format!("{m}/points/add"),
            json!({"points": 1_000_000_000_000_000_i64, "reason": "x"}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "empty reason",
            &format!("{m}/points/add"),
            json!({"points": 1, "reason": ""}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "removing more than the balance",
            &format!("{m}/points/remove"),
            json!({"points": 1_000, "reason": "x"}).to_string(),
            422,
            "insufficient_points",
        ),
        case(
            "points for an unknown member",
            &format!("/v1/programs/{program}/members/NOBODY/points/add"),
            json!({"points": 1, "reason": "x"}).to_string(),
            404,
            "not_found",
        ),
        case(
            "illegal transition",
            "/v1/orders",
            json!({"source_id": "canceled-order", "status": "PAID"}).to_string(),
            409,
            "illegal_transition",
        ),
        with_header(case("no key", "/v1/customers", "{}", 401, "unauthorized"), "authorization", ""),
        with_header(
            case("unknown key", "/v1/customers", "{}", 401, "unauthorized"),
            "authorization",
            "Bearer fid_sk_NOTAKEY",
        ),
        with_header(case("not a bearer", "/v1/customers", "{}", 401, "unauthorized"), "authorization", "Basic abc"),
        with_header(
            case("overlong idempotency key", "/v1/customers", "{}", 400, "invalid_idempotency_key"),
            "idempotency-key",
            &"k".repeat(300),
        ),
        get("limit zero", "/v1/customers?limit=0", 400, "invalid_query"),
        get("limit too large", "/v1/customers?limit=101", 400, "invalid_query"),
        get("limit not a number", "/v1/orders?limit=ten", 400, "invalid_query"),
        get("unknown query parameter", "/v1/customers?sort=name", 400, "invalid_query"),
        get("expiring window too long", &format!("{m}/expiring?days=100000"), 400, "invalid_query"),
        get("orders of an unknown customer", "/v1/orders?customer=nobody", 404, "not_found"),
        get("members of an unknown program", "/v1/programs/prog_01JAAAAAAAAAAAAAAAAAAAAAAA/members", 404, "not_found"),
        get("a cursor the API never issued", "/v1/customers?cursor=garbage", 400, "invalid_query"),
        get("an empty cursor", "/v1/events?cursor=", 400, "invalid_query"),
        get(
            "a cursor of another kind of id",
            "/v1/orders?cursor=cust_01JAAAAAAAAAAAAAAAAAAAAAAA",
            400,
            "invalid_query",
        ),
        get("a transactions cursor that is no entry id", &format!("{m}/transactions?cursor=x"), 400, "invalid_query"),
        get("segments beyond the page size", "/v1/segments?limit=101", 400, "invalid_query"),
        get("programs with a made-up cursor", "/v1/programs?cursor=zzz", 400, "invalid_query"),
        get("an unknown parameter on expiring", &format!("{m}/expiring?bogus=1"), 400, "invalid_query"),
        case("an array read as fields", "/v1/customers", r#"[null, "arr-1"]"#, 400, "invalid_type"),
        at(
            "/address",
            case(
                "an address given as an array",
                "/v1/customers",
                json!({"source_id": "arr-address", "address": ["Main St 1", "Apt 2", "Berlin"]}).to_string(),
                400,
                "invalid_type",
            ),
        ),
        at(
            "/earning",
            case(
                "an earning rate given as an array",
                "/v1/programs",
                json!({"name": "arrays", "earning": [100, 1]}).to_string(),
                400,
                "invalid_type",
            ),
        ),
        at(
            "/expiry",
            case(
                "an expiry policy given as an array",
                "/v1/programs",
                json!({"name": "arrays", "expiry": ["after_days", 5]}).to_string(),
                400,
                "invalid_type",
            ),
        ),
        at(
            "/items/0",
            case(
                "an item given as an array",
                "/v1/orders",
                json!({"source_id": "arr-item", "status": "PAID", "customer": {"source_id": "c-1"},
                    "items": [["mug", null, null, 2, 1200]]})
                .to_string(),
                400,
                "invalid_type",
            ),
        ),
        at(
            "/customer",
            case(
                "an order's customer given as an array",
                "/v1/orders",
                json!({"source_id": "arr-customer", "amount": 100, "customer": ["c1"]}).to_string(),
                400,
                "invalid_type",
            ),
        ),
        at(
            "/customer",
            case(
                "an event's customer given as an array",
                "/v1/events",
                json!({"event": "x", "customer": ["c1"]}).to_string(),
                400,
                "invalid_type",
            ),
        ),
        at(
            "/events/0/customer",
            case(
                "a batch event's customer given as an array",
                "/v1/events/batch",
                json!({"events": [{"event": "x", "customer": ["c1"]}]}).to_string(),
                400,
                "invalid_type",
            ),
        ),
        at(
            "/customer",
            case(
                "an enrolment's customer given as an array",
                &format!("/v1/programs/{program}/members"),
                json!({"customer": ["c-2"]}).to_string(),
                400,
                "invalid_type",
            ),
        ),
        case(
            "a source_id shaped like a Fidelis id",
            "/v1/orders",
            json!({"source_id": "ord_01JAAAAAAAAAAAAAAAAAAAAAAA", "amount": 1}).to_string(),
            422,
            "validation_failed",
        ),
        case(
            "JSON nested beyond any limit",
            "/v1/customers",
            format!("{{\"metadata\": {{\"k\": {}{}}}}}", "[".repeat(200), "]".repeat(200)),
            400,
            "json_too_deep",
        ),
        case(
            "a whitespace-only name",
            "/v1/segments",
            json!({"name": "  ", "type": "static"}).to_string(),
            422,
            "validation_failed",
        ),
    ]
}

async fn every_hostile_request_gets_a_clear_4xx_and_changes_nothing(app: TestApp) {
    let program = app.auto_program().await;
    app.post(
        "/v1/orders",
        json!({"source_id": "seed", "status": "PAID", "amount": 5_000, "customer": {"source_id": "c-1"}}),
    )
    .await;
    app.post("/v1/orders", json!({"source_id": "canceled-order", "amount": 1_000, "status": "CANCELED"})).await;
    let member = app.member(&program, "c-1").await["id"].as_str().unwrap().to_owned();
    let before = snapshot(&app, &program, &member).await;
    for c in cases(&program, &member) {
        let headers: Vec<(&str, &str)> = c.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = app.send_bytes(c.method.clone(), &c.path, &c.body, &headers).await;
        assert_eq!((reply.status, reply.key()), (c.status, c.key), "{}: {}", c.what, reply.body);
        assert_eq!(reply.body["code"], c.status.as_u16(), "{}", c.what);
        match c.at {
            Some((path, _)) if c.status == StatusCode::BAD_REQUEST => {
                assert_eq!(reply.body["details"]["path"], path, "{}: {}", c.what, reply.body);
            }
            Some((path, field_key)) => {
                let errors = reply.body["details"]["errors"].as_array().cloned().unwrap_or_default();
                let named = errors.iter().any(|e| e["path"] == path && field_key.is_none_or(|k| e["key"] == k));
                assert!(named, "{}: {path} {field_key:?} in {}", c.what, reply.body);
            }
            None => {}
        }
        let message = reply.body["message"].as_str().unwrap_or("");
        for rust_type in ["i8", "i16", "i32", "i64", "u64", "usize", "struct "] {
            assert!(!message.contains(rust_type), "{}: the message names a Rust type: {message}", c.what);
        }
        assert!(reply.body["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", c.what);
        assert!(reply.body["request_id"].as_str().is_some_and(|r| r.starts_with("req_")), "{}", c.what);
    }
    assert_eq!(snapshot(&app, &program, &member).await, before);
}
on_both!(every_hostile_request_gets_a_clear_4xx_and_changes_nothing);

/// The server may answer 413 and close before the client has written the whole body, so this reads the
/// answer from a raw socket whatever happened to the write.
pub fn oversized_request(app: &TestApp, path: &str, body: &str) -> (u16, Value) {
    use std::io::{Read, Write};
    let address = app.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.key,
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes()));
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let json = text.split_once("\r\n\r\n").map_or("null", |(_, b)| b);
    (status, serde_json::from_str(json.trim()).unwrap_or(Value::Null))
}

async fn a_body_over_the_size_limit_is_refused(app: TestApp) {
    let before = app.get("/v1/customers").await.body;
    let app = std::sync::Arc::new(app);
    let probe = app.clone();
    let body = format!("{{\"source_id\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let (status, body) =
        tokio::task::spawn_blocking(move || oversized_request(&probe, "/v1/customers", &body)).await.unwrap();
    assert_eq!((status, body["key"].as_str()), (413, Some("payload_too_large")), "{body}");
    assert_eq!(app.get("/v1/customers").await.body, before);
}
on_both!(a_body_over_the_size_limit_is_refused);

async fn a_revoked_key_stops_working(app: TestApp) {
    let mut app = app;
    let ports = fidelis::admin::Ports::of_engine(&app.app.engine);
    let (id, secret) = fidelis::admin::create_key(ports, &app.project).await.unwrap();
    app.key = secret;
    assert_eq!(app.get("/v1/customers").await.status, StatusCode::OK);
    ports.admin.revoke_api_key(&app.project.id, &id, jiff::Timestamp::now()).await.unwrap();
    app.app.engine.keys().clear();
    let reply = app.get("/v1/customers").await;
    assert_eq!((reply.status, reply.key()), (StatusCode::UNAUTHORIZED, "unauthorized"));
}
on_both!(a_revoked_key_stops_working);

async fn whole_numbers_written_as_floats_are_read_as_integers(app: TestApp) {
    let send = |path: &str, body: &'static str| {
        let path = path.to_owned();
        let app = &app;
        async move { app.send(Method::POST, &path, Some(body), &[]).await }
    };
    let program = send(
        "/v1/programs",
        r#"{"name": "Floats", "earning": {"every": 1e2, "points": 1.0}, "join_policy": "auto_on_first_order",
            "expiry": {"type": "fixed_day_of_year", "month": 12.0, "day": 3.1e1}}"#,
    )
    .await;
    assert_eq!(program.status, StatusCode::CREATED, "{}", program.body);
    assert_eq!(program.body["earning"], json!({"every": 100, "points": 1}));
    assert_eq!(program.body["expiry"], json!({"type": "fixed_day_of_year", "month": 12, "day": 31}));
    let program = program.body["id"].as_str().unwrap().to_owned();
    let order = send(
        "/v1/orders",
        r#"{"source_id": "floats", "status": "PAID", "amount": 3107.0, "customer": {"source_id": "c-f"}}"#,
    )
    .await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    assert_eq!((order.body["amount"].clone(), order.body["earnings"][0]["points"].clone()), (json!(3107), json!(31)));
    let items =
        send("/v1/orders", r#"{"source_id": "float-items", "items": [{"quantity": 2.0, "price": 1.2e3}]}"#).await;
    assert_eq!(items.status, StatusCode::CREATED, "{}", items.body);
    assert_eq!(items.body["items"][0]["amount"], 2400);
    let member = app.member(&program, "c-f").await["id"].as_str().unwrap().to_owned();
    let added =
        send(&format!("/v1/programs/{program}/members/{member}/points/add"), r#"{"points": 1e3, "reason": "x"}"#).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(added.body["member"]["balance"], 1031);
    let refund = send("/v1/orders/floats/refunds", r#"{"amount": 107.0}"#).await;
    assert_eq!(refund.status, StatusCode::OK, "{}", refund.body);
    assert_eq!(refund.body["refunded_amount"], 107);
}
on_both!(whole_numbers_written_as_floats_are_read_as_integers);

/// Found by fuzzing: `{"type": "never", "day": -7609218}` created a program, the out-of-range `day`
/// unread because `never` does not use it.
async fn an_expiry_number_out_of_range_is_refused_even_where_the_expiry_type_does_not_use_it(app: TestApp) {
    let cases = [
        (json!({"type": "never", "day": -7_609_218}), "/expiry/day"),
        (json!({"type": "after_days", "days": 30, "months": 0}), "/expiry/months"),
        (json!({"type": "after_months", "months": 12, "days": 99_999_999}), "/expiry/days"),
        (json!({"type": "fixed_day_of_year", "month": 12, "day": 31, "days": -1}), "/expiry/days"),
    ];
    for (expiry, path) in cases {
        let reply = app.post("/v1/programs", json!({"name": "Expiry", "expiry": expiry})).await;
        assert_eq!((reply.status, reply.key()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{expiry}");
        let errors = &reply.body["details"]["errors"];
        assert_eq!(
            (errors[0]["path"].clone(), errors[0]["key"].clone()),
            (json!(path), json!("out_of_range")),
            "{expiry}"
        );
    }
    let programs = app.get("/v1/programs").await;
    assert_eq!(programs.body["data"], json!([]), "nothing was created");
    let unused = app.post("/v1/programs", json!({"name": "Kept", "expiry": {"type": "never", "day": 31}})).await;
    assert_eq!(unused.status, StatusCode::CREATED, "a number in range that the type does not use is still ignored");
}
on_both!(an_expiry_number_out_of_range_is_refused_even_where_the_expiry_type_does_not_use_it);
