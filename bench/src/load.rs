//! Load generation over HTTP: closed loop (each connection sends as fast as answers come: maximum rate)
//! or open loop (requests scheduled at a fixed rate by a precise timer thread; latency counts from the
//! scheduled instant, so a slow server cannot hide its queueing: no coordinated omission).

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// GET /healthz: HTTP only, the baseline of every read scenario.
    Healthz,
    /// POST /append on the ceiling server (`ceiling.rs`): one durable row per request, group-committed; the
    /// baseline of every write scenario.
    Ceiling,
    /// POST /v1/events: a small durable append through the writer.
    Events,
    /// POST /v1/orders: a PAID order with two items that earns points (customer upsert, aggregates, lot, entry).
    Orders,
    /// POST /v1/orders?dry_run=true: the orders scenario decided on a read snapshot, nothing committed.
    DryOrders,
    /// POST /v1/programs: every request takes one unit of the project's one `programs` counter row (the bench
    /// server raises the limit), so all writers and nodes contend for the same row: the hot counter.
    Programs,
}

impl Scenario {
    /// The scenario this one's throughput is divided by in the suite's ratio table: reads by `Healthz`,
    /// durable writes by `Ceiling`, and the ceiling itself by `Healthz` (what durability costs over HTTP).
    pub fn baseline(self) -> Scenario {
        match self {
            Scenario::Healthz | Scenario::Ceiling => Scenario::Healthz,
            Scenario::Events | Scenario::Orders | Scenario::DryOrders | Scenario::Programs => Scenario::Ceiling,
        }
    }
}

/// The body of an event; the ceiling sends the same bytes, so both pay the same HTTP cost.
fn event_body(customer: u64) -> String {
    format!(r#"{{"event":"page.view","customer":{{"source_id":"bc-{customer}"}}}}"#)
}

/// One API node: its port and a key of the bench project.
#[derive(Clone)]
pub struct Node {
    pub port: u16,
    pub key: String,
}

#[derive(Clone)]
pub struct Target {
    /// The API nodes; requests go round-robin over them (one node but for `--nodes`).
    pub nodes: Vec<Node>,
    pub customers: u64,
    pub run: u64,
}

impl Target {
    fn request(&self, scenario: Scenario, seq: u64) -> Request<Full<Bytes>> {
        let node = &self.nodes[(seq % self.nodes.len() as u64) as usize];
        let base = format!("http://127.0.0.1:{}", node.port);
        let customer = seq % self.customers;
        let (uri, body) = match scenario {
            Scenario::Healthz => {
                return Request::get(format!("{base}/healthz")).body(Full::new(Bytes::new())).unwrap_or_default();
            }
            Scenario::Ceiling => (format!("{base}/append"), event_body(customer)),
            Scenario::Events => (format!("{base}/v1/events"), event_body(customer)),
            Scenario::Orders | Scenario::DryOrders => (
                format!("{base}/v1/orders{}", if scenario == Scenario::DryOrders { "?dry_run=true" } else { "" }),
                format!(
                    r#"{{"source_id":"bo-{}-{seq}","status":"PAID","customer":{{"source_id":"bc-{customer}"}},"items":[{{"product_id":"p-1","quantity":2,"price":1250}},{{"product_id":"p-2","quantity":1,"price":990}}]}}"#,
                    self.run
                ),
            ),
            Scenario::Programs => (format!("{base}/v1/programs"), format!(r#"{{"name":"Hot {}-{seq}"}}"#, self.run)),
        };
        Request::post(uri)
            .header("authorization", format!("Bearer {}", node.key))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap_or_default()
    }
}

pub struct Measured {
    pub ok: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Latency in microseconds.
    pub latency: Histogram<u64>,
}

impl Measured {
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile_ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }
}

pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

async fn send(client: &HttpClient, request: Request<Full<Bytes>>) -> bool {
    match client.request(request).await {
        Ok(response) => {
            let ok = response.status().is_success();
            ok && response.into_body().collect().await.is_ok()
        }
        Err(_) => false,
    }
}

/// Latencies from 1 µs to 60 s at 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("constant bounds are valid")
}

/// Every connection sends its next request as soon as the previous answer arrives.
pub async fn closed_loop(
    target: &Target,
    scenario: Scenario,
    connections: usize,
    duration: Duration,
    seq: Arc<AtomicU64>,
) -> Measured {
    let client = client();
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (client, target, seq) = (client.clone(), target.clone(), seq.clone());
            tokio::spawn(async move {
                let mut latency = histogram();
                let (mut ok, mut errors) = (0, 0);
                while Instant::now() < deadline {
                    let request = target.request(scenario, seq.fetch_add(1, Ordering::Relaxed));
                    let sent = Instant::now();
                    if send(&client, request).await {
                        ok += 1;
                        let _ = latency.record(sent.elapsed().as_micros() as u64);
                    } else {
                        errors += 1;
                    }
                }
                (ok, errors, latency)
            })
        })
        .collect();
    collect(tasks, started).await
}

/// Requests are scheduled at `rate` per second; latency runs from the scheduled instant.
pub async fn open_loop(
    target: &Target,
    scenario: Scenario,
    connections: usize,
    rate: u64,
    duration: Duration,
    seq: Arc<AtomicU64>,
) -> Measured {
    let client = client();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, u64)>();
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let started = Instant::now();
    let total = rate * duration.as_secs();
    let scheduler = std::thread::spawn(move || {
        for i in 0..total {
            let at = started + Duration::from_nanos(i * 1_000_000_000 / rate);
            if let Some(wait) = at.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if tx.send((at, seq.fetch_add(1, Ordering::Relaxed))).is_err() {
                break;
            }
        }
    });
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (client, target, rx) = (client.clone(), target.clone(), rx.clone());
            tokio::spawn(async move {
                let mut latency = histogram();
                let (mut ok, mut errors) = (0, 0);
                loop {
                    let next = rx.lock().await.recv().await;
                    let Some((scheduled, n)) = next else { break };
                    if send(&client, target.request(scenario, n)).await {
                        ok += 1;
                        let _ = latency.record(scheduled.elapsed().as_micros() as u64);
                    } else {
                        errors += 1;
                    }
                }
                (ok, errors, latency)
            })
        })
        .collect();
    let measured = collect(tasks, started).await;
    let _ = scheduler.join();
    measured
}

async fn collect(tasks: Vec<tokio::task::JoinHandle<(u64, u64, Histogram<u64>)>>, started: Instant) -> Measured {
    let mut total = Measured { ok: 0, errors: 0, elapsed: Duration::ZERO, latency: histogram() };
    for task in tasks {
        if let Ok((ok, errors, latency)) = task.await {
            total.ok += ok;
            total.errors += errors;
            let _ = total.latency.add(latency);
        }
    }
    total.elapsed = started.elapsed();
    total
}

/// The earning program every benchmark run uses: 1 point per 1.00, members join on their first order.
pub async fn create_program(port: u16, key: &str) -> anyhow::Result<String> {
    let body = r#"{"name":"Bench","earning":{"every":100,"points":1},"join_policy":"auto_on_first_order","expiry":{"type":"after_months","months":12,"round_to":"month"}}"#;
    let request = Request::post(format!("http://127.0.0.1:{port}/v1/programs"))
        .header("authorization", format!("Bearer {key}"))
        .body(Full::new(Bytes::from(body)))?;
    let response = client().request(request).await?;
    let bytes = response.into_body().collect().await?.to_bytes();
    let value: serde_json::Value = serde_json::from_slice(&bytes)?;
    Ok(value["id"].as_str().unwrap_or_default().to_owned())
}
