//! Connections of the real binary: silent clients cannot take `/healthz` offline under a small descriptor
//! limit, silent and idle connections are closed after their timeouts, and SIGTERM with a half-sent request
//! exits within the shutdown deadline, keeping acknowledged writes. Raw sockets, on both databases where
//! storage is involved.

use crate::binary::{HttpClient, Server, get, post};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request on a fresh connection; the status line's code, or `None` when no answer came in `patience`.
async fn status_of(base: &str, path: &str, patience: Duration) -> Option<u16> {
    let address = base.trim_start_matches("http://");
    let exchange = async {
        let mut stream = TcpStream::connect(address).await.ok()?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.ok()?;
        String::from_utf8_lossy(&answer).split_whitespace().nth(1)?.parse().ok()
    };
    tokio::time::timeout(patience, exchange).await.ok().flatten()
}

/// Whether the server closed `stream` within `patience` (end of stream or reset), reading whatever it sent.
async fn closed_within(stream: &mut TcpStream, patience: Duration) -> bool {
    let mut buffer = [0_u8; 4096];
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

fn sqlite_args(dir: &tempfile::TempDir) -> Vec<String> {
    vec!["--data-dir".into(), dir.path().display().to_string()]
}

const SILENT_CONNECTIONS: usize = 1_100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_while_1100_silent_connections_press_on_a_1024_descriptor_limit() {
    // The test itself holds the silent sockets: make room for them here.
    let room = rlimit::increase_nofile_limit(4_096).unwrap_or(0);
    if room < 1_200 {
        eprintln!("SKIPPED (descriptors) the test process may open only {room} files, 1200 needed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut args = sqlite_args(&dir);
    args.extend(["--header-read-timeout-seconds".into(), "60".into()]);
    let mut server = Server::new(args);
    server.descriptors = Some(1_024);
    server.start().await;
    assert_eq!(status_of(&server.base, "/healthz", Duration::from_secs(5)).await, Some(200));
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut silent = Vec::with_capacity(SILENT_CONNECTIONS);
    for _ in 0..SILENT_CONNECTIONS {
        if let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(&address)).await {
            silent.push(stream);
        }
    }
    assert!(silent.len() >= 1_024, "the silent connections got through: {}", silent.len());
    for _ in 0..5 {
        let started = Instant::now();
        let status = status_of(&server.base, "/healthz", Duration::from_secs(2)).await;
        assert_eq!(status, Some(200), "healthz answers under {} silent connections", silent.len());
        assert!(started.elapsed() < Duration::from_secs(2), "promptly");
    }
    let client: HttpClient = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(0).build_http();
    let metrics = client
        .request(hyper::Request::get(format!("{}/metrics", server.base)).body(Default::default()).unwrap())
        .await
        .unwrap();
    let text = http_body_util::BodyExt::collect(metrics.into_body()).await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&text);
    let limit = text.lines().find(|l| l.starts_with("fidelis_http_connections_max ")).unwrap_or("");
    assert_eq!(limit, "fidelis_http_connections_max 768", "the limit leaves the reserve free");
    assert!(text.contains("fidelis_http_connections_closed_total{reason=\"shed\"}"), "silent ones were shed");
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_slow_and_idle_connections_are_closed_after_their_timeouts() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = sqlite_args(&dir);
    args.extend(["--header-read-timeout-seconds", "1", "--idle-timeout-seconds", "3"].map(String::from));
    let mut server = Server::new(args);
    server.start().await;
    let address = server.base.trim_start_matches("http://").to_owned();

    let mut silent = TcpStream::connect(&address).await.unwrap();
    let mut slow = TcpStream::connect(&address).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut idle = TcpStream::connect(&address).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut answer = [0_u8; 1024];
    let n = idle.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"), "the keep-alive request is served");
    let started = Instant::now();

    assert!(closed_within(&mut silent, Duration::from_millis(2_500)).await, "a silent connection is closed");
    assert!(closed_within(&mut slow, Duration::from_millis(500)).await, "so is one that never ends its header");
    assert!(started.elapsed() >= Duration::from_millis(800), "not before the header timeout");
    // hyper's own header timeout would have closed this one by now too: the idle timeout is longer.
    assert!(
        !closed_within(&mut idle, Duration::from_millis(300)).await,
        "an idle connection outlives the header timeout"
    );
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let n = idle.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"), "and serves its next request");
    let idle_from = Instant::now();
    assert!(closed_within(&mut idle, Duration::from_secs(5)).await, "an idle connection is closed in the end");
    assert!(idle_from.elapsed() >= Duration::from_millis(2_500), "after the idle timeout");
}

/// SIGTERM while one client has sent half a request header and another half a body: the process exits with
/// status 0 within the shutdown deadline, and an order acknowledged before is there after a restart.
async fn sigterm_with_half_sent_requests_exits_within_the_deadline(mut args: Vec<String>) {
    args.extend(["--shutdown-timeout-seconds", "2", "--header-read-timeout-seconds", "60"].map(String::from));
    let mut server = Server::new(args);
    let key = server.admin(&["keys", "create", "--project", "shutdown"]);
    server.start().await;
    let client: HttpClient = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(0).build_http();
    let order =
        json!({"source_id": "before-sigterm", "status": "PAID", "amount": 4_200, "customer": {"source_id": "c"}});
    let (status, _) = post(&client, format!("{}/v1/orders", server.base), &key, "k-1", &order).await.unwrap();
    assert!(status.is_success(), "{status}");
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut half_head = TcpStream::connect(&address).await.unwrap();
    half_head.write_all(b"POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Le").await.unwrap();
    let mut half_body = TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Length: 100\r\n\r\n{{\"source_id\":"
    );
    half_body.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, took) = server.terminate(Duration::from_secs(15)).await.expect("the process exits");
    assert!(status.success(), "exit status {status}");
    assert!(took < Duration::from_secs(2 + 3), "exited after {took:?}, deadline 2 s");
    assert!(took >= Duration::from_millis(1_500), "requests in progress were given the deadline: {took:?}");
    server.start().await;
    let stored = get(&client, format!("{}/v1/orders/before-sigterm", server.base), &key).await;
    assert_eq!(stored["amount"], 4_200, "{stored}");
    assert_eq!(stored["earnings"].as_array().map(Vec::len), Some(0), "no program: nothing earned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_half_sent_requests_exits_within_the_deadline_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    sigterm_with_half_sent_requests_exits_within_the_deadline(sqlite_args(&dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_half_sent_requests_exits_within_the_deadline_on_postgres() {
    if let Some(url) = fidelis_testkit::postgres_url_or_skip("shutdown test") {
        sigterm_with_half_sent_requests_exits_within_the_deadline(vec!["--database-url".into(), url]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_on_an_idle_server_exits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::new(sqlite_args(&dir));
    server.start().await;
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut idle = TcpStream::connect(&address).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut answer = [0_u8; 1024];
    assert!(idle.read(&mut answer).await.unwrap() > 0);
    let (status, took) = server.terminate(Duration::from_secs(15)).await.expect("the process exits");
    assert!(status.success() && took < Duration::from_secs(3), "{status} after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_trickles_past_the_body_timeout_gets_408_and_the_connection_closes() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = sqlite_args(&dir);
    args.extend(["--body-read-timeout-seconds", "1"].map(String::from));
    let mut server = Server::new(args);
    let key = server.admin(&["keys", "create", "--project", "trickle"]);
    server.start().await;
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Length: 100\r\n\r\n{{\"source_id\":"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server answered and closed");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"key\":\"request_timeout\""), "{text}");
    assert!(started.elapsed() >= Duration::from_millis(900), "not before the timeout");
    let client: HttpClient = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(0).build_http();
    let customers = get(&client, format!("{}/v1/customers", server.base), &key).await;
    assert_eq!(customers["data"], json!([]), "nothing was created");
}
