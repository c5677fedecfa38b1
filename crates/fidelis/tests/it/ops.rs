//! Health, readiness, metrics, OpenAPI and the docs UI.

use crate::on_both;
use crate::support::TestApp;
use hyper::{Method, StatusCode};

async fn health_readiness_openapi_and_docs_answer(app: TestApp) {
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
    assert_eq!(app.get("/readyz").await.body["status"], "ready");
    let spec = app.get("/v1/openapi.json").await;
    assert_eq!(spec.status, StatusCode::OK);
    assert!(spec.body["paths"]["/v1/orders"]["post"].is_object());
    assert!(spec.body["components"]["schemas"]["OrderBody"].is_object());
    let docs = app.send(Method::GET, "/docs/", None, &[]).await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(docs.body.as_str().unwrap_or("").contains("swagger"), "the docs UI is served from the binary");
    let project = app.get("/v1/project").await;
    assert_eq!(project.body["currency"], "EUR");
}
on_both!(health_readiness_openapi_and_docs_answer);

async fn every_response_carries_a_request_id_that_errors_repeat(app: TestApp) {
    let reply = app.get("/v1/customers/nobody").await;
    let header = reply.headers.get("x-request-id").unwrap().to_str().unwrap().to_owned();
    assert!(header.starts_with("req_"));
    assert_eq!(reply.body["request_id"], header);
}
on_both!(every_response_carries_a_request_id_that_errors_repeat);

async fn the_root_answers_a_small_html_page_without_a_key(app: TestApp) {
    let reply = app.send(Method::GET, "/", None, &[("authorization", "")]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let content_type = reply.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = reply.body.as_str().unwrap_or("");
    assert!(page.contains("<title>Fidelis</title>"), "{page}");
    for link in ["href=\"/docs\"", "href=\"/v1/openapi.json\"", "href=\"/healthz\"", "href=\"/metrics\""] {
        assert!(page.contains(link), "the page links {link}");
    }
    assert!(!page.contains("http://") && !page.contains("https://"), "no external assets");
}
on_both!(the_root_answers_a_small_html_page_without_a_key);
