//! Upgrades of databases that hold data: a database at an older schema version, with rows written the way
//! that version wrote them, is opened by the current code and reads back the same: the outbox before chunks
//! (migration 6) and a ledger entry before entries were keyed by project (migration 8 on PostgreSQL).

use fidelis_core::domain_event::{DomainEvent, OrderPayload, SegmentPayload, Topic};
use fidelis_core::ids::{
    CustomerId, EntryId, MembershipId, OrderId, OutboxId, ProgramId, ProjectId, SegmentId, SequentialIds,
};
use fidelis_core::ledger::{Cause, Entry, EntryKind};
use fidelis_core::money::Points;
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
    /// A manual credit, newest; its `points.credited` event is read in place from `entries`.
    entry: Entry,
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
    let entered =
        OutboxEvent::new(OutboxId::fresh(&mut ids), &project, DomainEvent::SegmentEntered(segment.clone()), at);
    let entry = Entry {
        id: EntryId::fresh(&mut ids),
        project_id: project.clone(),
        program_id: ProgramId::fresh(&mut ids),
        membership_id: MembershipId::fresh(&mut ids),
        customer_id: segment.customer_id,
        kind: EntryKind::ManualAdd,
        points: Points::from_stored(50),
        balance_after: Points::from_stored(50),
        lot_id: None,
        expires_on: None,
        consumed: Vec::new(),
        unrecovered: Points::from_stored(0),
        debt_repaid: Points::from_stored(0),
        cause: Cause::Admin { reason: "welcome".into(), actor: "support".into() },
        rule: None,
        created_at: at,
    };
    OldOutbox { project, paid, entered, entry }
}

/// The entry as the columns of schema version 5 (positional, as in `INSERT_ENTRY`): ids, points, created_at.
fn old_entry(e: &Entry) -> ([String; 5], i64, i64) {
    let ids =
        [e.id.as_str(), e.project_id.as_str(), e.program_id.as_str(), e.membership_id.as_str(), e.customer_id.as_str()];
    (ids.map(str::to_owned), e.points.value(), e.created_at.as_microsecond())
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

const INSERT_ENTRY: &str = "INSERT INTO entries (id, project_id, program_id, membership_id, customer_id, kind, points, \
                            balance_after, consumed, unrecovered, debt_repaid, cause_type, reason, actor, created_at) \
                            VALUES ($1, $2, $3, $4, $5, 'manual_add', $6, $6, '[]', 0, 0, 'admin', 'welcome', 'support', $7)";

async fn reads_back(database: &Database, old: &OldOutbox) {
    let backend = Backend::open(database).await.expect("migrates");
    let page = backend.reads().outbox_page(&old.project, &PageRequest { limit: 10, before: None }).await.unwrap();
    let e = &old.entry;
    let credited = OutboxEvent::in_place(&old.project, e.id.body(), DomainEvent::of_entry(e), e.created_at);
    assert_eq!(page, vec![credited, old.entered.clone(), old.paid.clone()], "same ids, typed payloads, newest first");
    assert_eq!((page[0].topic, page[1].topic), (Topic::PointsCredited, Topic::SegmentEntered));
    let ledger = backend.reads().outbox_page(&old.project, &PageRequest { limit: 1, before: None }).await.unwrap();
    assert_eq!(ledger[0].id, page[0].id, "the ledger entry pages by project");
}

fn before_chunks(all: &[Migration]) -> &[Migration] {
    &all[..5]
}

#[tokio::test]
async fn an_sqlite_database_at_version_5_reads_back_its_outbox_as_chunks_of_one_and_its_ledger_entry_in_place() {
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
        let ([id, project, program, membership, customer], points, at) = old_entry(&old.entry);
        let params = rusqlite::params![id, project, program, membership, customer, points, at];
        conn.execute(&INSERT_ENTRY.replace('$', "?"), params).unwrap();
    }
    reads_back(&Database::Sqlite { data_dir: dir.path().to_path_buf() }, &old).await;
}

#[tokio::test]
async fn a_postgres_database_at_version_5_reads_back_its_outbox_as_chunks_of_one_and_its_ledger_entry_in_place() {
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
    let ([id, project, program, membership, customer], points, at) = old_entry(&old.entry);
    client.execute(INSERT_ENTRY, &[&id, &project, &program, &membership, &customer, &points, &at]).await.unwrap();
    drop(client);
    let _ = driver.await;
    reads_back(&Database::Postgres { url, writers: 1 }, &old).await;
}
