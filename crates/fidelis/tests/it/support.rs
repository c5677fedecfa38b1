//! Test support: an in-process server on a free port over a fresh database (SQLite in a temp dir, or a
//! database of the throwaway PostgreSQL cluster), a project with a key, a settable clock and a client.

use bytes::Bytes;
use fidelis::app::{self, App};
use fidelis_api::ApiConfig;
use fidelis_engine::EngineConfig;
use fidelis_engine::clock::{Clock, ManualClock};
use fidelis_engine::project::Project;
use fidelis_store::Database;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub key: String,
    pub project: Project,
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub database: Database,
    client: Client<HttpConnector, Full<Bytes>>,
    _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: hyper::HeaderMap,
}

impl Reply {
    pub fn key(&self) -> &str {
        self.body["key"].as_str().unwrap_or("")
    }
}

/// The instant tests start at unless they move the clock.
pub const TEST_START: &str = "2025-01-15T12:00:00Z";

pub fn database(db: Db, dir: &std::path::Path, test: &str) -> Option<Database> {
    match db {
        Db::Sqlite => Some(Database::Sqlite { data_dir: dir.to_path_buf() }),
        Db::Postgres => fidelis_testkit::postgres_url_or_skip(test).map(|url| Database::Postgres { url, writers: 4 }),
    }
}

/// A running server with one project ("test", EUR, UTC) and a key; `None` when PostgreSQL is unavailable.
pub async fn spawn(db: Db) -> Option<TestApp> {
    spawn_with(db, "UTC").await
}

pub async fn spawn_with(db: Db, time_zone: &str) -> Option<TestApp> {
    spawn_configured(db, time_zone, EngineConfig::default()).await
}

pub async fn spawn_configured(db: Db, time_zone: &str, config: EngineConfig) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = database(db, dir.path(), "api test")?;
    let clock = Arc::new(ManualClock::at(TEST_START.parse().unwrap()));
    let app = app::start(&database, clock.clone(), config, ApiConfig::default(), None).await.expect("app starts");
    let ports = fidelis::admin::Ports::of_engine(&app.engine);
    let project = fidelis::admin::create_project(ports, "test", "EUR", time_zone).await.expect("project");
    let (_, key) = fidelis::admin::create_key(ports, &project).await.expect("key");
    Some(serve(app, clock, database, project, key, dir).await)
}

async fn serve(
    app: App,
    clock: Arc<ManualClock>,
    database: Database,
    project: Project,
    key: String,
    dir: tempfile::TempDir,
) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router();
    let serving = fidelis::serve::ServeConfig::default();
    tokio::spawn(fidelis::serve::serve(listener, router, serving, std::future::pending()));
    let client = Client::builder(TokioExecutor::new()).build_http();
    TestApp { base, key, project, app, clock, database, client, _dir: dir }
}

impl TestApp {
    /// A second API node on the same database (its own writers, clock and key; the same project).
    pub async fn another_node(&self, config: EngineConfig) -> TestApp {
        let clock = Arc::new(ManualClock::at(self.clock.now()));
        let app =
            app::start(&self.database, clock.clone(), config, ApiConfig::default(), None).await.expect("node starts");
        let (_, key) = fidelis::admin::create_key(fidelis::admin::Ports::of_engine(&app.engine), &self.project)
            .await
            .expect("key");
        serve(app, clock, self.database.clone(), self.project.clone(), key, tempfile::tempdir().expect("temp dir"))
            .await
    }
}

impl TestApp {
    pub async fn send(&self, method: Method, path: &str, body: Option<&str>, headers: &[(&str, &str)]) -> Reply {
        self.send_bytes(method, path, body.unwrap_or("").as_bytes(), headers).await
    }

    pub async fn send_bytes(&self, method: Method, path: &str, body: &[u8], headers: &[(&str, &str)]) -> Reply {
        let mut builder = Request::builder().method(method).uri(format!("{}{path}", self.base));
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("authorization")) {
            builder = builder.header("authorization", format!("Bearer {}", self.key));
        }
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let request = builder.body(Full::new(Bytes::copy_from_slice(body))).unwrap();
        let response = self.client.request(request).await.expect("request succeeds");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body =
            serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Reply { status, body, headers }
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(&body.to_string()), &[]).await
    }

    pub async fn post_keyed(&self, path: &str, body: Value, key: &str) -> Reply {
        self.send(Method::POST, path, Some(&body.to_string()), &[("idempotency-key", key)]).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None, &[]).await
    }

    /// Creates a program and returns its id.
    pub async fn program(&self, body: Value) -> String {
        let reply = self.post("/v1/programs", body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_str().unwrap().to_owned()
    }

    /// A program earning 1 point per 1.00 that enrols customers on their first paid order.
    pub async fn auto_program(&self) -> String {
        self.program(serde_json::json!({
            "name": "Rewards", "earning": {"every": 100, "points": 1}, "join_policy": "auto_on_first_order"
        }))
        .await
    }

    pub async fn member(&self, program: &str, customer_source: &str) -> Value {
        let reply = self.get(&format!("/v1/customers/{customer_source}/memberships")).await;
        let list = reply.body["data"].as_array().cloned().unwrap_or_default();
        list.into_iter().find(|m| m["program_id"] == program).unwrap_or(Value::Null)
    }

    pub fn set_time(&self, rfc3339: &str) {
        self.clock.set(rfc3339.parse().unwrap());
    }

    pub async fn run_jobs(&self) -> fidelis_engine::JobReport {
        self.app.engine.run_due_jobs().await.expect("jobs run")
    }

    /// Checks the ledger identities of every member of `program`, through the read port.
    pub async fn assert_ledger_identities(&self, program: &str) {
        let reads = self.app.engine.reads();
        let program = fidelis_core::ids::ProgramId::parse(program).unwrap();
        let page = fidelis_engine::port::PageRequest { limit: 1_000, before: None };
        for m in reads.membership_page(&self.project.id, &program, &page).await.unwrap() {
            let lots = reads.lot_list(&self.project.id, &m.id).await.unwrap();
            fidelis_core::ledger::check_identities(&m, &lots).unwrap_or_else(|e| panic!("member {}: {e}", m.id));
            let entries = reads.entry_list(&self.project.id, &m.id).await.unwrap();
            let sum: i64 = entries.iter().map(|e| e.points.value()).sum();
            assert_eq!(sum, m.balance.value(), "entries of {} add up to the balance", m.id);
            for e in entries.iter().filter(|e| e.points.is_negative()) {
                let taken: i64 = e.consumed.iter().map(|c| c.points.value()).sum();
                assert!(taken <= -e.points.value(), "debit {} takes no more than it books", e.id);
            }
        }
    }
}

/// Generates `on_sqlite` and `on_postgres` tests running the same scenario.
#[macro_export]
macro_rules! on_both {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                let app = $crate::support::spawn($crate::support::Db::Sqlite).await.expect("SQLite always runs");
                super::$name(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                if let Some(app) = $crate::support::spawn($crate::support::Db::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    };
}
