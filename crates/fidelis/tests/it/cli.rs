//! The command line: keys made by `keys create` authenticate; `jobs run-due --now` expires what is due at
//! that instant, once.

use crate::binary::{HttpClient, Server, get, post};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_run_due_at_a_given_instant_expire_points_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::new(vec!["--data-dir".into(), dir.path().display().to_string()]);
    let key =
        server.admin(&["keys", "create", "--project", "cli", "--currency", "EUR", "--time-zone", "Europe/Berlin"]);
    assert!(key.starts_with("fid_sk_"), "the secret is printed on stdout: {key}");
    assert!(server.admin(&["projects", "list"]).contains("cli\tEUR\tEurope/Berlin"));
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    server.start().await;
    let program =
        post(&client, format!("{}/v1/programs", server.base), &key, "p", &json!({"name": "P"})).await.unwrap().1;
    let program = program["id"].as_str().unwrap().to_owned();
    let member = post(
        &client,
        format!("{}/v1/programs/{program}/members", server.base),
        &key,
        "m",
        &json!({"customer": {"source_id": "c"}}),
    )
    .await
    .unwrap()
    .1;
    let path = format!("/v1/programs/{program}/members/{}", member["id"].as_str().unwrap());
    let base = format!("{}{path}", server.base);
    // The server runs on the real clock: the next 31 January (winter, so Berlin is UTC+1) is in the future.
    let today = jiff::Zoned::now().date();
    let year = today.year() + 1;
    let (last, after) = (format!("{year}-01-31"), format!("{year}-02-02"));
    let add = json!({"points": 40, "reason": "gift", "expires_on": last});
    let (status, _) = post(&client, format!("{base}/points/add"), &key, "a", &add).await.unwrap();
    assert!(status.is_success());
    server.kill();
    let early = server.admin(&["jobs", "run-due", "--now", &format!("{last}T22:59:00Z")]);
    assert!(early.starts_with("expired 0 lots"), "still usable until midnight in Berlin: {early}");
    let due = server.admin(&["jobs", "run-due", "--now", &format!("{last}T23:00:00Z")]);
    assert!(due.starts_with("expired 1 lots (40 points)"), "{due}");
    let again = server.admin(&["jobs", "run-due", "--now", &format!("{after}T00:00:00Z")]);
    assert!(again.starts_with("expired 0 lots"), "{again}");
    server.start().await;
    assert_eq!(
        get(&client, format!("{}{path}", server.base), &key).await["balance"],
        0,
        "the restarted server sees it"
    );
    server.admin(&["keys", "list", "--project", "cli"]);
}
