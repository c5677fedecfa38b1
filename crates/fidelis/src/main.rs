//! The `fidelis` command line: serve, demo, migrate, projects, keys, jobs.

use anyhow::Context;
use clap::{Parser, Subcommand};
use fidelis::app::{self, App};
use fidelis::config::{Config, Overrides};
use fidelis::{admin, demo, telemetry};
use fidelis_api::ApiConfig;
use fidelis_engine::EngineConfig;
use fidelis_engine::clock::{Clock, ManualClock, SystemClock};
use std::sync::Arc;
use std::time::Duration;

/// mimalloc: the writer allocates many small, short-lived values; glibc malloc cost a fifth of its time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "fidelis", version, about = "API-first loyalty and promotions platform")]
struct Cli {
    #[command(flatten)]
    overrides: Overrides,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the API server.
    Serve,
    /// Create a demo project with history, then serve it and print ready-to-use URLs and a curl.
    Demo,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage projects.
    #[command(subcommand)]
    Projects(ProjectCmd),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeyCmd),
    /// Scheduled jobs.
    #[command(subcommand)]
    Jobs(JobCmd),
}

#[derive(Subcommand)]
enum ProjectCmd {
    /// Create a project.
    Create {
        name: String,
        #[arg(long, default_value = "EUR")]
        currency: String,
        #[arg(long, default_value = "UTC")]
        time_zone: String,
    },
    /// List projects.
    List,
}

#[derive(Subcommand)]
enum KeyCmd {
    /// Create a secret key (printed once). Creates the project if it does not exist.
    Create {
        #[arg(long)]
        project: String,
        /// Currency of a project created on the way.
        #[arg(long, default_value = "EUR")]
        currency: String,
        /// Time zone of a project created on the way.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
    },
    /// List a project's keys (prefixes only).
    List {
        #[arg(long)]
        project: String,
    },
    /// Revoke a key by id.
    Revoke {
        #[arg(long)]
        project: String,
        key_id: String,
    },
}

#[derive(Subcommand)]
enum JobCmd {
    /// Run every job due at `--now` (default: the current time): expiry, idempotency pruning.
    RunDue {
        /// An RFC 3339 instant, e.g. 2026-02-01T00:00:00Z.
        #[arg(long)]
        now: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(&cli.overrides)?;
    telemetry::init_logs(&config.log_format, &config.log_level);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(cli.command, config))
}

async fn start(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    let engine = EngineConfig { batch_commands_max: config.batch_commands_max, ..EngineConfig::default() };
    let api = ApiConfig {
        body_bytes_max: config.body_bytes_max,
        body_read_timeout: Duration::from_secs(config.body_read_timeout_seconds),
    };
    app::start(&config.database(), clock, engine, api, telemetry::init_metrics()).await
}

async fn run(command: Cmd, config: Config) -> anyhow::Result<()> {
    match command {
        Cmd::Serve => serve(&config, None).await,
        Cmd::Demo => run_demo(&config).await,
        Cmd::Migrate => {
            fidelis_store::Backend::open(&config.database()).await?;
            println!("migrations applied");
            Ok(())
        }
        Cmd::Projects(cmd) => projects(&config, cmd).await,
        Cmd::Keys(cmd) => keys(&config, cmd).await,
        Cmd::Jobs(JobCmd::RunDue { now }) => {
            let now = match now {
                Some(text) => text.parse().with_context(|| format!("--now {text} is not an RFC 3339 instant"))?,
                None => jiff::Timestamp::now(),
            };
            let app = start(&config, Arc::new(ManualClock::at(now))).await?;
            let report = app.engine.run_due_jobs().await?;
            println!(
                "expired {} lots ({} points); pruned {} idempotency records; activated {} pending ({} points); \
                 reviewed {} tiers ({} down); celebrated {} birthdays and {} anniversaries",
                report.expired_lots,
                report.expired_points,
                report.idempotency_records_pruned,
                report.activated_pending,
                report.activated_points,
                report.tiers_reviewed,
                report.tiers_downgraded,
                report.birthdays,
                report.anniversaries,
            );
            app.shutdown().await;
            Ok(())
        }
    }
}

async fn serve(config: &Config, banner: Option<String>) -> anyhow::Result<()> {
    let shutdown = app::shutdown_signal();
    let app = start(config, Arc::new(SystemClock)).await?;
    let listener =
        tokio::net::TcpListener::bind(&config.listen).await.with_context(|| format!("binding {}", config.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, "Fidelis is listening");
    if let Some(text) = banner {
        println!("{}", text.replace("{address}", &address.to_string()));
    }
    let serving = fidelis::serve::ServeConfig {
        connections_max: fidelis::serve::connection_limit(config.connections_max)?,
        header_read_timeout: Duration::from_secs(config.header_read_timeout_seconds),
        idle_timeout: Duration::from_secs(config.idle_timeout_seconds),
        shutdown_timeout: Duration::from_secs(config.shutdown_timeout_seconds),
    };
    tracing::info!(connections_max = serving.connections_max, "connection limit");
    let scheduler = app.spawn_scheduler(Duration::from_secs(config.scheduler_interval_seconds));
    app::serve(listener, app.router(), serving, shutdown).await?;
    scheduler.abort();
    tracing::info!("finishing queued writes");
    app.shutdown().await;
    Ok(())
}

async fn run_demo(config: &Config) -> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::at(jiff::Timestamp::now()));
    let seeding = start(config, clock.clone()).await?;
    let (project, fresh) = demo::demo_project(&seeding.engine).await?;
    let seeded = demo::seed(&seeding.engine, &clock, project, fresh).await?;
    let (_, secret) = admin::create_key(admin::Ports::of_engine(&seeding.engine), &seeded.project).await?;
    let program = match seeded.program_id.clone() {
        Some(id) => Some(id),
        None => seeding.engine.reads().program_list(&seeded.project.id).await?.first().map(|p| p.id.to_string()),
    };
    seeding.shutdown().await;
    let program = program.unwrap_or_default();
    let banner = format!(
        "\nFidelis demo is running.\n\n  API docs:   http://{{address}}/docs\n  OpenAPI:    http://{{address}}/v1/openapi.json\n  Metrics:    http://{{address}}/metrics\n  API key:    {secret}\n  Program:    {program}\n  Member:     customer source_id '{customer}'{card}\n\nTry:\n  curl -s http://{{address}}/v1/customers/{customer} -H 'Authorization: Bearer {secret}'\n  curl -s -X POST http://{{address}}/v1/orders -H 'Authorization: Bearer {secret}' -H 'Content-Type: application/json' \\\n    -d '{{\"source_id\":\"order-1001\",\"status\":\"PAID\",\"customer\":{{\"source_id\":\"{customer}\"}},\"items\":[{{\"product_id\":\"mug\",\"quantity\":2,\"price\":1200}}]}}'\n",
        customer = seeded.customer_source_id,
        card = seeded.card_code.map(|c| format!(", card {c}")).unwrap_or_default(),
    );
    serve(config, Some(banner)).await
}

async fn projects(config: &Config, cmd: ProjectCmd) -> anyhow::Result<()> {
    let backend = fidelis_store::Backend::open(&config.database()).await?;
    let (reads, admin_port) = (backend.reads(), backend.admin());
    let ports = admin::Ports { reads: reads.as_ref(), admin: admin_port.as_ref() };
    match cmd {
        ProjectCmd::Create { name, currency, time_zone } => {
            let p = admin::create_project(ports, &name, &currency, &time_zone).await?;
            println!("{}\t{}\t{}\t{}", p.id, p.name, p.currency.code(), p.time_zone);
        }
        ProjectCmd::List => {
            for p in reads.project_list().await? {
                println!("{}\t{}\t{}\t{}", p.id, p.name, p.currency.code(), p.time_zone);
            }
        }
    }
    Ok(())
}

async fn keys(config: &Config, cmd: KeyCmd) -> anyhow::Result<()> {
    let backend = fidelis_store::Backend::open(&config.database()).await?;
    let (reads, admin_port) = (backend.reads(), backend.admin());
    let ports = admin::Ports { reads: reads.as_ref(), admin: admin_port.as_ref() };
    match cmd {
        KeyCmd::Create { project, currency, time_zone } => {
            let (project, created) = admin::project_or_create(ports, &project, &currency, &time_zone).await?;
            if created {
                eprintln!("created project '{}' ({}, {})", project.name, project.currency.code(), project.time_zone);
            }
            let (id, secret) = admin::create_key(ports, &project).await?;
            eprintln!("key {id} for project '{}' — the secret below is shown only once:", project.name);
            println!("{secret}");
        }
        KeyCmd::List { project } => {
            let project = admin::project_named(ports, &project).await?;
            for k in reads.api_key_list(&project.id).await? {
                let state = k.revoked_at.map_or("live".to_owned(), |t| format!("revoked {t}"));
                println!("{}\t{}…\t{}\t{}", k.id, k.prefix, k.created_at, state);
            }
        }
        KeyCmd::Revoke { project, key_id } => {
            let project = admin::project_named(ports, &project).await?;
            admin::revoke_key(ports, &project, &key_id).await?;
            println!("revoked {key_id}");
        }
    }
    Ok(())
}
