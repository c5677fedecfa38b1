//! Running the real `fidelis` binary from tests: a server process that can be killed, admin commands,
//! and a small HTTP client.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    args: Vec<String>,
    child: Option<Child>,
    pub base: String,
    /// Runs the binary under `ulimit -n` (soft and hard) of this many descriptors.
    pub descriptors: Option<u64>,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Server {
    pub fn new(args: Vec<String>) -> Server {
        Server { args, child: None, base: String::new(), descriptors: None }
    }

    fn command(&self) -> Command {
        let binary = env!("CARGO_BIN_EXE_fidelis");
        let mut c = match self.descriptors {
            Some(n) => {
                let mut sh = Command::new("sh");
                sh.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\""), binary]);
                sh
            }
            None => Command::new(binary),
        };
        c.args(&self.args).args(["--log-level", "warn"]).stdout(Stdio::piped()).stderr(Stdio::inherit());
        c
    }

    pub fn admin(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().expect("fidelis runs");
        assert!(out.status.success(), "fidelis {args:?} failed");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    pub async fn start(&mut self) {
        let port = free_port();
        self.base = format!("http://127.0.0.1:{port}");
        let child =
            self.command().args(["serve", "--listen", &format!("127.0.0.1:{port}")]).spawn().expect("server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the server did not come up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends SIGTERM and waits up to `patience` for the process to exit; `None` if it did not.
    pub async fn terminate(&mut self, patience: Duration) -> Option<(std::process::ExitStatus, Duration)> {
        let mut child = self.child.take()?;
        let started = Instant::now();
        let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
        assert!(sent.success(), "SIGTERM sent");
        while started.elapsed() < patience {
            if let Some(status) = child.try_wait().expect("wait") {
                return Some((status, started.elapsed()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.child = Some(child);
        None
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

pub async fn post(
    client: &HttpClient,
    url: String,
    key: &str,
    idempotency: &str,
    body: &Value,
) -> Option<(StatusCode, Value)> {
    let request = Request::post(url)
        .header("authorization", format!("Bearer {key}"))
        .header("idempotency-key", idempotency)
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(10), client.request(request)).await.ok()?.ok()?;
    let status = response.status();
    let bytes = response.into_body().collect().await.ok()?.to_bytes();
    Some((status, serde_json::from_slice(&bytes).ok()?))
}

pub async fn get(client: &HttpClient, url: String, key: &str) -> Value {
    let request =
        Request::get(url).header("authorization", format!("Bearer {key}")).body(Full::new(Bytes::new())).unwrap();
    let response = client.request(request).await.unwrap();
    serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap()
}
