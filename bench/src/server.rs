//! The server under test, run as a child process of the benchmark (`fidelis-bench serve …`), so that
//! load generator and server are separate processes on the same machine, as in production.

use fidelis::app;
use fidelis_api::ApiConfig;
use fidelis_engine::EngineConfig;
use fidelis_engine::clock::SystemClock;
use fidelis_engine::domains::Limits;
use fidelis_store::Database;
use std::io::Write;
use std::sync::Arc;

/// Programs the bench project may hold (the `programs` scenario creates one per request).
const BENCH_PROGRAMS_MAX: i64 = 1_000_000_000;

/// Starts the server, creates a project, key and an auto-join earning program, prints
/// `READY <port> <key> <program>` and serves until killed.
pub async fn serve(database: Database, segments: usize, earning_rules: bool) -> anyhow::Result<()> {
    let metrics = fidelis::telemetry::init_metrics();
    // The hot-counter scenario creates a program per request: far more than a real project may have.
    let limits = Limits { programs_per_project_max: BENCH_PROGRAMS_MAX, ..Limits::default() };
    let config = EngineConfig { limits, ..EngineConfig::default() };
    let app = app::start(&database, Arc::new(SystemClock), config, ApiConfig::default(), metrics).await?;
    let reads = fidelis::admin::Ports::of_engine(&app.engine);
    let (project, _) = fidelis::admin::project_or_create(reads, "bench", "EUR", "Europe/Berlin").await?;
    let (_, key) = fidelis::admin::create_key(reads, &project).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let router = app.router();
    let connections_max = fidelis::serve::connection_limit(fidelis::serve::CONNECTIONS_MAX_DEFAULT)?;
    let serving = fidelis::serve::ServeConfig { connections_max, ..Default::default() };
    let server = tokio::spawn(app::serve(listener, router, serving, app::shutdown_signal()));
    let program = crate::load::create_program(port, &key).await?;
    crate::segments::create_mix(port, &key, &program, segments).await?;
    if earning_rules {
        crate::rules::create(port, &key, &program).await?;
    }
    println!("READY {port} {key} {program}");
    std::io::stdout().flush()?;
    server.await??;
    Ok(())
}
