//! Assembly: open the database, start the engine's writers, build the router, run the scheduler.

use anyhow::Context;
use fidelis_api::{ApiConfig, AppState, JsonRenderer};
use fidelis_engine::clock::Clock;
use fidelis_engine::{Engine, EngineConfig};
use fidelis_store::{Backend, Database};
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use std::time::Duration;

pub struct App {
    pub engine: Arc<Engine>,
    pub state: AppState,
}

/// Opens the database (migrating it) and starts the engine.
pub async fn start(
    database: &Database,
    clock: Arc<dyn Clock>,
    engine_config: EngineConfig,
    api_config: ApiConfig,
    metrics: Option<PrometheusHandle>,
) -> anyhow::Result<App> {
    let backend = Backend::open(database).await.context("opening the database")?;
    let writers = backend.writers(database).await.context("opening writer connections")?;
    let engine = Engine::start(backend.reads(), backend.admin(), writers, clock, Arc::new(JsonRenderer), engine_config)
        .context("starting the writers")?;
    let engine = Arc::new(engine);
    let state = AppState { engine: engine.clone(), config: Arc::new(api_config), metrics };
    Ok(App { engine, state })
}

impl App {
    pub fn router(&self) -> axum::Router {
        fidelis_api::router(self.state.clone())
    }

    /// Runs due jobs every `interval` until the engine stops.
    pub fn spawn_scheduler(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let engine = Arc::downgrade(&self.engine);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let Some(engine) = engine.upgrade() else {
                    break;
                };
                match engine.run_due_jobs().await {
                    Ok(report)
                        if report.activated_pending > 0
                            || report.expired_lots > 0
                            || report.idempotency_records_pruned > 0
                            || report.tiers_reviewed > 0
                            || report.birthdays + report.anniversaries > 0 =>
                    {
                        tracing::info!(?report, "scheduled jobs ran");
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "scheduled jobs failed"),
                }
            }
        })
    }

    /// Stops accepting commands and waits until every queued one is committed.
    pub async fn shutdown(self) {
        drop(self.state);
        match Arc::try_unwrap(self.engine) {
            Ok(engine) => engine.shutdown().await,
            Err(_) => tracing::warn!("engine still referenced at shutdown; queued commands finish in the background"),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` (see `serve` for connections and shutdown).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    config: crate::serve::ServeConfig,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    crate::serve::serve(listener, router, config, shutdown).await.context("serving HTTP")
}

/// Resolves on SIGTERM or ctrl-c. The handlers are installed when this is called, not when it is first
/// polled, so that a signal that arrives early is not fatal.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let (terminate, interrupt) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()));
    async move {
        let wait = |installed: std::io::Result<tokio::signal::unix::Signal>| async move {
            match installed {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! { () = wait(terminate) => {}, () = wait(interrupt) => {} }
        tracing::info!("shutting down");
    }
}
