//! A throwaway PostgreSQL cluster for tests and benchmarks, started from the system's `initdb`/`postgres`
//! binaries (PATH, then `/usr/lib/postgresql/*/bin`). As root it runs them as the `postgres` user, since
//! `initdb` refuses root. The server is tied to this process through a pipe: when the process ends, for
//! any reason, the pipe closes and a small shell watcher stops the server and deletes its directory.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long the server may take to accept connections.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether commits are fsynced. Tests do not need it (they kill our server, not PostgreSQL); benchmarks do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    Durable,
    Fast,
}

pub struct PgCluster {
    port: u16,
    _watcher: Mutex<Child>,
    databases: AtomicUsize,
}

/// Why no cluster could be started.
#[derive(Debug)]
pub struct Unavailable(pub String);

fn find_binary_dir() -> Option<PathBuf> {
    let in_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
    });
    if in_path.is_some() {
        return in_path;
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    versions.sort_by_key(|p| p.to_string_lossy().into_owned());
    versions.pop()
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

/// A command, run as `postgres` when we are root.
fn as_cluster_user(program: &Path) -> Command {
    if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> Result<u16, Unavailable> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| Unavailable(format!("no free port: {e}")))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| Unavailable(e.to_string()))
}

impl PgCluster {
    /// The process-wide cluster for tests (started on first use), or why there is none.
    pub fn shared() -> Result<&'static PgCluster, &'static Unavailable> {
        static CLUSTER: OnceLock<Result<PgCluster, Unavailable>> = OnceLock::new();
        CLUSTER.get_or_init(|| PgCluster::start(Durability::Fast)).as_ref()
    }

    /// Starts a new cluster; it lives until this process ends.
    pub fn start(durability: Durability) -> Result<PgCluster, Unavailable> {
        let bin = find_binary_dir().ok_or_else(|| {
            Unavailable("no PostgreSQL binaries (initdb, postgres) in PATH or /usr/lib/postgresql/*/bin".into())
        })?;
        let dir =
            tempfile::Builder::new().prefix("fidelis-pg-").tempdir().map_err(|e| Unavailable(e.to_string()))?.keep();
        if running_as_root() {
            let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status();
            if !status.is_ok_and(|s| s.success()) {
                return Err(Unavailable("cannot hand the data directory to the postgres user".into()));
            }
        }
        let data = dir.join("data");
        let output = as_cluster_user(&bin.join("initdb"))
            .args(["-D"])
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "-N"])
            .output()
            .map_err(|e| Unavailable(format!("initdb did not run: {e}")))?;
        if !output.status.success() {
            return Err(Unavailable(format!("initdb failed: {}", String::from_utf8_lossy(&output.stderr))));
        }
        let port = free_port()?;
        let watcher = spawn_watched_server(&bin, &dir, &data, port, durability)?;
        let cluster = PgCluster { port, _watcher: Mutex::new(watcher), databases: AtomicUsize::new(0) };
        cluster.wait_until_ready()?;
        Ok(cluster)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A connection string for database `name` of this cluster.
    pub fn url(&self, name: &str) -> String {
        format!("host=127.0.0.1 port={} user=postgres dbname={name}", self.port)
    }

    fn wait_until_ready(&self) -> Result<(), Unavailable> {
        let started = Instant::now();
        while started.elapsed() < STARTUP_TIMEOUT {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() && self.admin("SELECT 1").is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(Unavailable(format!("PostgreSQL did not start on port {} within {STARTUP_TIMEOUT:?}", self.port)))
    }

    fn admin(&self, sql: &str) -> Result<(), String> {
        let url = self.url("postgres");
        let sql = sql.to_owned();
        // A private runtime, so that this works from sync code and from inside other runtimes alike.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let (client, connection) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await.map_err(|e| e.to_string())?;
                let driver = tokio::spawn(connection);
                let result = client.batch_execute(&sql).await.map_err(|e| e.to_string());
                drop(client);
                let _ = driver.await;
                result
            })
        })
        .join()
        .map_err(|_| "admin thread panicked".to_owned())?
    }

    /// Creates an empty database and returns its connection string.
    pub fn fresh_database(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::SeqCst);
        let name = format!("fidelis_test_{}_{n}", std::process::id());
        if let Err(e) = self.admin(&format!("CREATE DATABASE {name}")) {
            panic!("cannot create test database {name}: {e}");
        }
        self.url(&name)
    }
}

fn spawn_watched_server(
    bin: &Path,
    dir: &Path,
    data: &Path,
    port: u16,
    durability: Durability,
) -> Result<Child, Unavailable> {
    let fast = match durability {
        Durability::Fast => "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        Durability::Durable => "",
    };
    let script = format!(
        "'{postgres}' -D '{data}' -p {port} -k '{dir}' -c listen_addresses=127.0.0.1 -c max_connections=400 {fast} \
         >'{dir}/server.log' 2>&1 & pid=$!; echo started; cat >/dev/null; kill -INT $pid; wait $pid; rm -rf '{dir}'",
        postgres = bin.join("postgres").display(),
        data = data.display(),
        dir = dir.display(),
    );
    let mut child = as_cluster_user(Path::new("sh"))
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| Unavailable(format!("cannot start postgres: {e}")))?;
    if let Some(out) = child.stdout.take() {
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
    }
    Ok(child)
}

/// The shared cluster's fresh database, or `None` after printing why PostgreSQL tests are skipped.
pub fn postgres_url_or_skip(test: &str) -> Option<String> {
    match PgCluster::shared() {
        Ok(cluster) => Some(cluster.fresh_database()),
        Err(Unavailable(why)) => {
            eprintln!("SKIPPED (PostgreSQL) {test}: {why}");
            None
        }
    }
}
