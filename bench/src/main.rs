//! `fidelis-bench`: starts a Fidelis server (or, for `ceiling`, the minimal durable-append server) as a
//! child process on a fresh database (SQLite in a temp dir, or a durable throwaway PostgreSQL cluster),
//! drives one scenario at maximum or fixed rate over HTTP, and prints throughput and latency percentiles.
//! `suite` runs the matrix recorded in docs/benchmarks.md.

mod ceiling;
mod load;
mod rules;
mod segments;
mod server;
mod suite;

use clap::{Parser, Subcommand, ValueEnum};
use load::{Measured, Node, Scenario, Target};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// mimalloc: the writer allocates many small, short-lived values; glibc malloc cost a fifth of its time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "fidelis-bench", about = "Fidelis load generator")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
}

#[derive(clap::Args, Clone)]
struct RunArgs {
    #[arg(long, value_enum, default_value = "orders")]
    scenario: Scenario,
    #[arg(long, value_enum, default_value = "sqlite")]
    backend: Backend,
    /// Requests per second, or 0 for the maximum (closed loop).
    #[arg(long, default_value_t = 0)]
    rate: u64,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    #[arg(long, default_value_t = 2)]
    warmup_seconds: u64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Distinct customers the orders spread over.
    #[arg(long, default_value_t = 10_000)]
    customers: u64,
    /// Writer connections (PostgreSQL only).
    #[arg(long, default_value_t = fidelis_store::POSTGRES_WRITERS_DEFAULT)]
    writers: usize,
    /// Dynamic segments kept current during the run (a mix of attribute, history and balance rules).
    #[arg(long, default_value_t = 0)]
    segments: usize,
    /// The program earns by the 10 rules of `rules.rs` besides its own rate.
    #[arg(long)]
    earning_rules: bool,
    /// API nodes sharing one database (PostgreSQL only); requests go round-robin over them.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=NODES_MAX))]
    nodes: u64,
}

/// Most API nodes `--nodes` starts.
const NODES_MAX: u64 = 8;

#[derive(Subcommand)]
enum Cmd {
    /// One scenario, one backend, one rate.
    Run(RunArgs),
    /// The recorded matrix: baselines (healthz, ceiling), events, orders at maximum and fixed rate (and with 50
    /// segments), on both backends; then every run as a ratio to its baseline.
    Suite {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Skip PostgreSQL.
        #[arg(long)]
        sqlite_only: bool,
        /// Rounds of the whole matrix, run one after the other; ratios are reported per round.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=suite::ROUNDS_MAX))]
        repeat: u64,
    },
    /// Internal: the server under test.
    Serve {
        #[arg(long)]
        data_dir: Option<std::path::PathBuf>,
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = fidelis_store::POSTGRES_WRITERS_DEFAULT)]
        writers: usize,
        #[arg(long, default_value_t = 0)]
        segments: usize,
        #[arg(long)]
        earning_rules: bool,
    },
    /// Internal: the ceiling server (one durable row per request; see `ceiling.rs`).
    ServeCeiling {
        #[arg(long)]
        data_dir: std::path::PathBuf,
    },
    /// Median evaluation time of a 20-node rule on a customer with long history.
    RuleEval,
    /// Seed customers, then time a segment's first computation, a recompute and a preview.
    Segments {
        #[arg(long, default_value_t = 200_000)]
        customers: usize,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        Cmd::RuleEval => {
            println!("{}", segments::rule_eval()?);
            Ok(())
        }
        Cmd::Segments { customers } => {
            println!("{}", runtime.block_on(segments::recompute_and_preview(customers))?);
            Ok(())
        }
        Cmd::Serve { data_dir, database_url, writers, segments, earning_rules } => {
            let database = match (database_url, data_dir) {
                (Some(url), _) => fidelis_store::Database::Postgres { url, writers },
                (None, Some(dir)) => fidelis_store::Database::Sqlite { data_dir: dir },
                (None, None) => anyhow::bail!("serve needs --data-dir or --database-url"),
            };
            runtime.block_on(server::serve(database, segments, earning_rules))
        }
        Cmd::ServeCeiling { data_dir } => runtime.block_on(ceiling::serve(&data_dir)),
        Cmd::Run(args) => {
            println!("{HEADER}");
            let measured = runtime.block_on(run(&args))?;
            println!("{}", row(&args, &measured));
            Ok(())
        }
        Cmd::Suite { seconds, sqlite_only, repeat } => runtime.block_on(suite::suite(seconds, sqlite_only, repeat)),
    }
}

const HEADER: &str = "| scenario | backend | load | connections | throughput (req/s) | p50 (ms) | p99 (ms) | p99.9 (ms) | errors |\n|---|---|---|---|---|---|---|---|---|";

/// The servers of one run: one child process per API node, on one fresh database.
struct Servers {
    children: Vec<Child>,
    nodes: Vec<Node>,
    _dir: Option<tempfile::TempDir>,
    _cluster: Option<fidelis_testkit::PgCluster>,
}

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts the servers `args` asks for as child processes of this binary: Fidelis (`--nodes` of them on one
/// PostgreSQL database, one after the other so the first creates the project), or for `ceiling` the ceiling
/// server (SQLite only, nothing to configure).
fn start_servers(args: &RunArgs) -> anyhow::Result<Servers> {
    let ceiling = args.scenario == Scenario::Ceiling;
    if ceiling {
        anyhow::ensure!(args.backend == Backend::Sqlite, "the ceiling scenario runs on SQLite only");
        anyhow::ensure!(args.segments == 0, "the ceiling server has no segments");
        anyhow::ensure!(!args.earning_rules, "the ceiling server has no earning rules");
    }
    anyhow::ensure!(args.nodes == 1 || args.backend == Backend::Postgres, "several nodes need PostgreSQL");
    let mut servers = Servers { children: Vec::new(), nodes: Vec::new(), _dir: None, _cluster: None };
    let database: Vec<std::ffi::OsString> = match args.backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir()?;
            let arg = vec!["--data-dir".into(), dir.path().into()];
            servers._dir = Some(dir);
            arg
        }
        Backend::Postgres => {
            let cluster = fidelis_testkit::PgCluster::start(fidelis_testkit::Durability::Durable)
                .map_err(|e| anyhow::anyhow!("PostgreSQL: {}", e.0))?;
            let arg = vec!["--database-url".into(), cluster.fresh_database().into()];
            servers._cluster = Some(cluster);
            arg
        }
    };
    for _ in 0..args.nodes {
        let mut command = Command::new(std::env::current_exe()?);
        command.stdout(Stdio::piped()).stderr(Stdio::inherit());
        if ceiling {
            command.arg("serve-ceiling");
        } else {
            let (writers, segments) = (args.writers.to_string(), args.segments.to_string());
            command.arg("serve").args(["--writers", &writers, "--segments", &segments]);
            if args.earning_rules {
                command.arg("--earning-rules");
            }
        }
        let mut child = command.args(&database).spawn()?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"));
        servers.children.push(child);
        let mut line = String::new();
        BufReader::new(stdout?).read_line(&mut line)?;
        let mut parts = line.split_whitespace();
        let (Some("READY"), Some(port), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            anyhow::bail!("server did not start: {line}");
        };
        servers.nodes.push(Node { port: port.parse()?, key: key.to_owned() });
    }
    Ok(servers)
}

/// Starts the server, warms up, measures.
async fn run(args: &RunArgs) -> anyhow::Result<Measured> {
    let servers = start_servers(args)?;
    let target = Target { nodes: servers.nodes.clone(), customers: args.customers, run: std::process::id().into() };
    let seq = Arc::new(AtomicU64::new(0));
    let warmup = Duration::from_secs(args.warmup_seconds);
    let measure = Duration::from_secs(args.seconds);
    let measured = if args.rate == 0 {
        load::closed_loop(&target, args.scenario, args.connections, warmup, seq.clone()).await;
        load::closed_loop(&target, args.scenario, args.connections, measure, seq).await
    } else {
        load::open_loop(&target, args.scenario, args.connections, args.rate, warmup, seq.clone()).await;
        load::open_loop(&target, args.scenario, args.connections, args.rate, measure, seq).await
    };
    Ok(measured)
}

/// The scenario's name in both tables, e.g. `Orders + 50 segments`.
fn label(args: &RunArgs) -> String {
    let segments = if args.segments > 0 { format!(" + {} segments", args.segments) } else { String::new() };
    let nodes = if args.nodes > 1 { format!(" × {} nodes", args.nodes) } else { String::new() };
    let rules = if args.earning_rules { format!(" + {} earning rules", rules::RULES_COUNT) } else { String::new() };
    format!("{:?}{rules}{segments}{nodes}", args.scenario)
}

fn load_label(args: &RunArgs) -> String {
    if args.rate == 0 { "max".to_owned() } else { format!("fixed {}/s", args.rate) }
}

/// One line of the `HEADER` table.
fn row(args: &RunArgs, measured: &Measured) -> String {
    format!(
        "| {} | {:?} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} |",
        label(args),
        args.backend,
        load_label(args),
        args.connections,
        measured.throughput(),
        measured.percentile_ms(0.5),
        measured.percentile_ms(0.99),
        measured.percentile_ms(0.999),
        measured.errors
    )
}
