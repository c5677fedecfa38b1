//! Upgrades of databases that hold data: a database at an older schema version, with rows written the way
//! that version wrote them, is opened by the current code and reads back the same.

use fidelis_core::domain_event::{DomainEvent, OrderPayload, SegmentPayload, Topic};
use fidelis_core::ids::{CustomerId, OrderId, OutboxId, ProjectId, SegmentId, SequentialIds};
use fidelis_engine::port::{OutboxEvent, PageRequest};
use fidelis_store::migrations::{CREATE_MIGRATIONS_TABLE, Migration, POSTGRES, SQLITE};
use fidelis_store::{Backend, Database};
use jiff::Timestamp;

/// The outbox before chunks (migration 6): one row per event; segment events from before payloads
/// existed have `{}`.
struct OldOutbox {
    project: ProjectId,
    paid: OutboxEvent,
    entered: OutboxEvent,
}

fn old_outbox() -> OldOutbox {
    let mut ids = SequentialIds::starting_at(1_740_000_000_000);
    let project = ProjectId::fresh(&mut ids);
    let customer_id = CustomerId::fresh(&mut ids);
    let at: Timestamp = "2025-03-01T08:30:00.123456Z".parse().unwrap();
    let order = OrderPayload {
        order_id: OrderId::fresh(&mut ids),
        source_id: Some("o-1".into()),
        customer_id: Some(customer_id.clone()),
        status: "PAID".into(),
        total: 900,
        refunded_amount: 0,
        refunded_now: 0,
        paid_at: Some(at),
    };
    let paid = OutboxEvent::new(OutboxId::fresh(&mut ids), &project, DomainEvent::OrderPaid(order), at);
    let segment = SegmentPayload { segment_id: SegmentId::fresh(&mut ids), customer_id };
    let entered = OutboxEvent::new(OutboxId::fresh(&mut ids), &project, DomainEvent::SegmentEntered(segment), at);
    OldOutbox { project, paid, entered }
}

/// The old rows as `(id, project, topic, customer, subject, payload, created_at)`.
fn old_rows(old: &OldOutbox) -> Vec<[String; 7]> {
    let row = |e: &OutboxEvent, payload: String| {
        [
            e.id.to_string(),
            e.project_id.to_string(),
            e.topic.as_str().to_owned(),
            e.customer_id.as_ref().map(|c| c.to_string()).unwrap_or_default(),
            e.subject_id.clone(),
            payload,
            e.created_at.as_microsecond().to_string(),
        ]
    };
    let DomainEvent::OrderPaid(p) = &old.paid.event else { unreachable!() };
    vec![row(&old.paid, serde_json::to_string(p).unwrap()), row(&old.entered, "{}".to_owned())]
}

const INSERT_OLD: &str = "INSERT INTO outbox (id, project_id, topic, customer_id, subject_id, payload, created_at, version) \
                          VALUES ($1, $2, $3, $4, $5, $6, $7, 1)";

async fn reads_back(database: &Database, old: &OldOutbox) {
    let backend = Backend::open(database).await.expect("migrates");
    let page = backend.reads().outbox_page(&old.project, &PageRequest { limit: 10, before: None }).await.unwrap();
    assert_eq!(page, vec![old.entered.clone(), old.paid.clone()], "same ids, typed payloads, newest first");
    assert_eq!(page[0].topic, Topic::SegmentEntered);
}

fn before_chunks(all: &[Migration]) -> &[Migration] {
    &all[..5]
}

#[tokio::test]
async fn an_sqlite_outbox_of_one_row_per_event_becomes_chunks_of_one_with_the_same_ids_and_payloads() {
    let dir = tempfile::tempdir().unwrap();
    let old = old_outbox();
    {
        let conn = rusqlite::Connection::open(dir.path().join(fidelis_store::sqlite::DATABASE_FILE)).unwrap();
        conn.execute_batch(CREATE_MIGRATIONS_TABLE).unwrap();
        for (version, name, sql) in before_chunks(SQLITE) {
            conn.execute_batch(sql).unwrap();
            conn.execute("INSERT INTO fidelis_migrations VALUES (?1, ?2, 0)", rusqlite::params![version, name])
                .unwrap();
        }
        let insert = INSERT_OLD.replace('$', "?");
        for row in old_rows(&old) {
            let [id, project, topic, customer, subject, payload, at] = row;
            let at: i64 = at.parse().unwrap();
            conn.execute(&insert, rusqlite::params![id, project, topic, customer, subject, payload, at]).unwrap();
        }
    }
    reads_back(&Database::Sqlite { data_dir: dir.path().to_path_buf() }, &old).await;
}

#[tokio::test]
async fn a_postgres_outbox_of_one_row_per_event_becomes_chunks_of_one_with_the_same_ids_and_payloads() {
    let Some(url) = fidelis_testkit::postgres_url_or_skip("outbox migration") else { return };
    let old = old_outbox();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    let driver = tokio::spawn(connection);
    client.batch_execute(CREATE_MIGRATIONS_TABLE).await.unwrap();
    for (version, name, sql) in before_chunks(POSTGRES) {
        client.batch_execute(sql).await.unwrap();
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [version, name];
        client.execute("INSERT INTO fidelis_migrations VALUES ($1, $2, 0)", &params).await.unwrap();
    }
    for row in old_rows(&old) {
        let [id, project, topic, customer, subject, payload, at] = row;
        let at: i64 = at.parse().unwrap();
        client.execute(INSERT_OLD, &[&id, &project, &topic, &customer, &subject, &payload, &at]).await.unwrap();
    }
    drop(client);
    let _ = driver.await;
    reads_back(&Database::Postgres { url, writers: 1 }, &old).await;
}
