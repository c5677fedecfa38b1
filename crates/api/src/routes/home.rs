//! The root page: a small HTML page that points a newcomer at the docs, the OpenAPI document, health and
//! metrics. No key needed, no external assets (it works offline and leaks nothing).

use axum::http::header;
use axum::response::{IntoResponse, Response};

const PAGE: &str = concat!(
    r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fidelis</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}code{background:#f2f2f2;padding:0 .2em}</style>
</head>
<body>
<h1>Fidelis</h1>
<p>This is a Fidelis server (version "#,
    env!("CARGO_PKG_VERSION"),
    r#"), an API-first loyalty platform. The API lives under <code>/v1</code> and takes a secret key as
<code>Authorization: Bearer &lt;key&gt;</code>; create one with <code>fidelis keys create --project NAME</code>.</p>
<ul>
<li><a href="/docs">API documentation</a> (Swagger UI)</li>
<li><a href="/v1/openapi.json">OpenAPI document</a></li>
<li><a href="/healthz">Health</a></li>
<li><a href="/metrics">Metrics</a> (Prometheus)</li>
</ul>
</body>
</html>
"#
);

/// The root page: links to the docs, the OpenAPI document, health and metrics.
#[utoipa::path(get, path = "/", tag = "operations", security(()),
    responses((status = 200, description = "A small HTML page.", content_type = "text/html", body = String)))]
pub async fn home() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response()
}
