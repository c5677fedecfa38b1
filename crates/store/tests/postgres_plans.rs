//! A PostgreSQL flush plans its inserts generically and leaves the writer's session as it found it: with
//! custom plans, which the lookups of the next batch need (`postgres::PgStore::connect`).

use fidelis_store::conn::{Begin, Conn, rows};
use fidelis_store::postgres::PgStore;
use fidelis_store::row::{RowLike, Value};
use fidelis_store::sql::{Step, Write};

fn counter_row(name: &str) -> Step {
    Step {
        table: "counters",
        columns: vec!["project_id", "name", "used"],
        write: Write::Insert,
        rows: vec![vec![Value::text("prj_plans"), Value::text(name), Value::Int(1)]],
    }
}

async fn plan_cache_mode(conn: &mut dyn Conn) -> String {
    let decode = |r: &dyn RowLike| r.text(0);
    rows(conn, "SHOW plan_cache_mode", &[], decode).await.unwrap().remove(0)
}

#[tokio::test]
async fn a_writer_session_plans_custom_again_after_a_flush_that_commits_and_after_one_that_fails() {
    let Some(url) = fidelis_testkit::postgres_url_or_skip("plan cache mode") else { return };
    let store = PgStore::connect(&url).await.unwrap();
    let mut conn = store.writer().await.unwrap();
    assert_eq!(plan_cache_mode(&mut conn).await, "force_custom_plan");

    conn.begin(Begin::Write).await.unwrap();
    conn.write_steps(&[counter_row("a"), counter_row("b")]).await.unwrap();
    conn.commit().await.unwrap();
    assert_eq!(plan_cache_mode(&mut conn).await, "force_custom_plan", "after a committed flush");

    conn.begin(Begin::Write).await.unwrap();
    let duplicate = conn.write_steps(&[counter_row("c"), counter_row("a")]).await;
    assert!(duplicate.is_err(), "the second insert breaks the counters' key");
    conn.rollback().await.unwrap();
    assert_eq!(plan_cache_mode(&mut conn).await, "force_custom_plan", "after a failed flush");

    let decode = |r: &dyn RowLike| r.text(0);
    let names = rows(&mut conn, "SELECT name FROM counters ORDER BY name", &[], decode).await.unwrap();
    assert_eq!(names, ["a", "b"], "the failed flush wrote nothing");
}
