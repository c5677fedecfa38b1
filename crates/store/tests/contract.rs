//! The storage port's contract, run against SQLite and PostgreSQL: what one adapter does, the other must.

use fidelis_core::customer::{Customer, Profile};
use fidelis_core::event::CustomEvent;
use fidelis_core::expiry::ExpiryPolicy;
use fidelis_core::ids::{
    CustomerId, EntryId, EventId, LotId, MembershipId, NewIds, OrderId, ProgramId, ProjectId, SequentialIds,
};
use fidelis_core::ledger::{Cause, Entry, EntryKind, Lot, LotTake, Membership, Totals};
use fidelis_core::metadata::{Metadata, RawMeta};
use fidelis_core::money::{Currency, Money};
use fidelis_core::order::{Order, OrderEarning, OrderLines, OrderStatus};
use fidelis_core::program::{EarningRate, JoinPolicy, Program};
use fidelis_core::stats::CustomerStats;
use fidelis_engine::port::*;
use fidelis_engine::project::{Project, new_api_key};
use fidelis_store::{Backend, Database};
use jiff::Timestamp;
use jiff::civil::date;
use std::sync::Arc;

struct Fixture {
    reads: Arc<dyn ReadPort>,
    writer: Box<dyn WriteSession>,
    project: Project,
    ids: SequentialIds,
    _dir: tempfile::TempDir,
}

fn now() -> Timestamp {
    "2025-03-01T08:30:00.123456Z".parse().unwrap()
}

async fn fixture(sqlite: bool) -> Option<Fixture> {
    let dir = tempfile::tempdir().unwrap();
    let database = if sqlite {
        Database::Sqlite { data_dir: dir.path().to_path_buf() }
    } else {
        Database::Postgres { url: fidelis_testkit::postgres_url_or_skip("store contract")?, writers: 1 }
    };
    let backend = Backend::open(&database).await.expect("opens and migrates");
    let mut writers = backend.writers(&database).await.expect("writer");
    let reads = backend.reads();
    let mut ids = SequentialIds::starting_at(1_740_000_000_000);
    let project = Project {
        id: ProjectId::fresh(&mut ids),
        name: "contract".into(),
        currency: Currency::parse("EUR").unwrap(),
        time_zone: "Europe/Berlin".into(),
        created_at: now(),
    };
    reads.create_project(&project).await.unwrap();
    Some(Fixture { reads, writer: writers.remove(0).session, project, ids, _dir: dir })
}

fn customer(f: &mut Fixture, source: &str) -> Customer {
    let raw =
        vec![("tier".to_owned(), RawMeta::Str("gold".into())), ("since".to_owned(), RawMeta::Str("2020-01-02".into()))];
    let mut stats = CustomerStats::default();
    stats.record_paid(1_000, now(), date(2025, 3, 1), date(2025, 3, 1));
    stats.record_event("login", date(2025, 3, 1), date(2025, 3, 1));
    Customer {
        id: CustomerId::fresh(&mut f.ids),
        project_id: f.project.id.clone(),
        source_id: Some(source.to_owned()),
        profile: Profile { name: Some("Zoë".into()), birthdate: Some(date(1990, 4, 21)), ..Profile::default() },
        metadata: Metadata::parse("/m", raw).unwrap(),
        stats,
        segments: Vec::new(),
        created_at: now(),
        updated_at: now(),
        erased_at: None,
    }
}

fn order(f: &mut Fixture, customer: &Customer, source: &str) -> Order {
    let item = fidelis_core::order::ItemInput {
        product_id: Some("p".into()),
        price: Some(500),
        quantity: Some(2),
        ..Default::default()
    };
    Order {
        id: OrderId::fresh(&mut f.ids),
        project_id: f.project.id.clone(),
        source_id: Some(source.to_owned()),
        customer_id: Some(customer.id.clone()),
        status: OrderStatus::Paid,
        lines: OrderLines::parse(None, Some(100), vec![item]).unwrap(),
        metadata: Metadata::parse("/m", vec![("note".into(), RawMeta::Str("x".into()))]).unwrap(),
        refunded_amount: Money::new(50).unwrap(),
        paid_at: Some(now()),
        paid_on: Some(date(2025, 3, 1)),
        earnings: vec![OrderEarning {
            program_id: ProgramId::fresh(&mut f.ids),
            membership_id: MembershipId::fresh(&mut f.ids),
            entry_id: EntryId::fresh(&mut f.ids),
            points: 9,
            clawed_back: 1,
        }],
        created_at: now(),
        updated_at: now(),
    }
}

fn program(f: &mut Fixture) -> Program {
    Program {
        id: ProgramId::fresh(&mut f.ids),
        project_id: f.project.id.clone(),
        name: "P".into(),
        points_label: "stars".into(),
        time_zone: Some("Asia/Tokyo".into()),
        expiry: ExpiryPolicy::AfterMonths { months: 3, round_to: Some(fidelis_core::calendar::Period::Quarter) },
        earning: Some(EarningRate::new(100, 3).unwrap()),
        join_policy: JoinPolicy::AutoOnFirstOrder,
        allow_negative_balance: true,
        paused: false,
        created_at: now(),
        updated_at: now(),
    }
}

fn membership(f: &mut Fixture, program: &Program, customer: &Customer) -> Membership {
    Membership {
        id: MembershipId::fresh(&mut f.ids),
        project_id: f.project.id.clone(),
        program_id: program.id.clone(),
        customer_id: customer.id.clone(),
        card_code: f.ids.code(12),
        balance: 70,
        debt: 0,
        totals: Totals { earned: 100, added: 0, removed: 30, expired: 0, clawed_back: 0, unrecovered: 0 },
        created_at: now(),
        updated_at: now(),
    }
}

fn lot(f: &mut Fixture, m: &Membership, remaining: i64, expires_on: Option<jiff::civil::Date>) -> Lot {
    Lot {
        id: LotId::fresh(&mut f.ids),
        program_id: m.program_id.clone(),
        membership_id: m.id.clone(),
        points: 50,
        remaining,
        expires_on,
        created_at: now(),
    }
}

fn entry(f: &mut Fixture, m: &Membership, lot: &Lot) -> Entry {
    Entry {
        id: EntryId::fresh(&mut f.ids),
        project_id: f.project.id.clone(),
        program_id: m.program_id.clone(),
        membership_id: m.id.clone(),
        customer_id: m.customer_id.clone(),
        kind: EntryKind::ManualRemove,
        points: -30,
        balance_after: 70,
        lot_id: None,
        expires_on: None,
        consumed: vec![LotTake { lot_id: lot.id.clone(), points: 30 }],
        unrecovered: 0,
        debt_repaid: 0,
        cause: Cause::Admin { reason: "support".into(), actor: "key_x".into() },
        created_at: now(),
    }
}

async fn write(f: &mut Fixture, changes: ChangeSet<'_>) -> StoreResult<()> {
    f.writer.begin().await?;
    match f.writer.flush(&changes).await {
        Ok(()) => f.writer.commit().await,
        Err(e) => {
            f.writer.rollback().await?;
            Err(e)
        }
    }
}

macro_rules! contract {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                super::$name(super::fixture(true).await.unwrap()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                if let Some(f) = super::fixture(false).await {
                    super::$name(f).await;
                }
            }
        }
    };
}

async fn every_row_reads_back_exactly_as_written(mut f: Fixture) {
    let c = customer(&mut f, "c-1");
    let o = order(&mut f, &c, "o-1");
    let p = program(&mut f);
    let m = membership(&mut f, &p, &c);
    let l = lot(&mut f, &m, 20, Some(date(2025, 6, 30)));
    let e = entry(&mut f, &m, &l);
    let ev = CustomEvent {
        id: EventId::fresh(&mut f.ids),
        project_id: f.project.id.clone(),
        customer_id: c.id.clone(),
        name: "login".into(),
        client_event_id: Some("e-1".into()),
        metadata: Metadata::default(),
        occurred_at: now(),
        created_at: now(),
    };
    let idem = IdempotencyRecord {
        project_id: f.project.id.clone(),
        key: "k".into(),
        request_hash: "h".into(),
        status: 201,
        body: b"{\"a\":1}".to_vec(),
        created_at: now(),
    };
    let changes = ChangeSet {
        customers: vec![&c],
        orders: vec![&o],
        events: vec![&ev],
        programs: vec![&p],
        memberships: vec![&m],
        lots: vec![&l],
        entries: vec![&e],
        idempotency: vec![&idem],
        ..ChangeSet::default()
    };
    write(&mut f, changes).await.unwrap();
    let project = f.project.id.clone();
    assert_eq!(f.reads.customer(&project, &CustomerRef::Source("c-1".into())).await.unwrap(), Some(c.clone()));
    assert_eq!(f.reads.customer(&project, &CustomerRef::Id(c.id.clone())).await.unwrap(), Some(c.clone()));
    assert_eq!(f.reads.order(&project, &OrderRef::Source("o-1".into())).await.unwrap(), Some(o.clone()));
    assert_eq!(f.reads.program(&project, &p.id).await.unwrap(), Some(p.clone()));
    assert_eq!(
        f.reads.membership(&project, &p.id, &MemberRef::Card(m.card_code.clone())).await.unwrap(),
        Some(m.clone())
    );
    assert_eq!(
        f.reads.membership(&project, &p.id, &MemberRef::Customer(CustomerRef::Id(c.id.clone()))).await.unwrap(),
        Some(m.clone())
    );
    assert_eq!(f.reads.entry_list(&project, &m.id).await.unwrap(), vec![e.clone()]);
    assert_eq!(f.reads.open_lot_list(&project, &m.id).await.unwrap(), vec![l.clone()]);
    f.writer.begin().await.unwrap();
    let w = &mut f.writer;
    assert_eq!(w.customers_by_source(&[(project.clone(), "c-1".into())]).await.unwrap(), vec![c.clone()]);
    assert_eq!(w.orders(std::slice::from_ref(&o.id)).await.unwrap(), vec![o.clone()]);
    assert_eq!(w.events_by_client_id(&[(project.clone(), "e-1".into())]).await.unwrap(), vec![ev]);
    assert_eq!(w.memberships_of_customers(std::slice::from_ref(&c.id)).await.unwrap(), vec![m.clone()]);
    assert_eq!(w.idempotency(&[(project.clone(), "k".into())]).await.unwrap(), vec![idem]);
    assert_eq!(w.programs(std::slice::from_ref(&project)).await.unwrap(), vec![p]);
    assert_eq!(w.open_lots(std::slice::from_ref(&m.id)).await.unwrap(), vec![l]);
    assert!(w.customers(&[]).await.unwrap().is_empty(), "no keys, no rows");
    w.rollback().await.unwrap();
}
contract!(every_row_reads_back_exactly_as_written);

async fn upserts_overwrite_and_a_rolled_back_batch_leaves_nothing(mut f: Fixture) {
    let mut c = customer(&mut f, "c-2");
    write(&mut f, ChangeSet { customers: vec![&c], ..ChangeSet::default() }).await.unwrap();
    c.profile.name = Some("Renamed".into());
    c.stats.record_paid(5, now(), date(2025, 3, 2), date(2025, 3, 2));
    write(&mut f, ChangeSet { customers: vec![&c], ..ChangeSet::default() }).await.unwrap();
    let read = f.reads.customer(&f.project.id, &CustomerRef::Id(c.id.clone())).await.unwrap().unwrap();
    assert_eq!(read, c);
    let d = customer(&mut f, "c-3");
    f.writer.begin().await.unwrap();
    f.writer.flush(&ChangeSet { customers: vec![&d], ..ChangeSet::default() }).await.unwrap();
    f.writer.rollback().await.unwrap();
    assert_eq!(f.reads.customer(&f.project.id, &CustomerRef::Source("c-3".into())).await.unwrap(), None);
}
contract!(upserts_overwrite_and_a_rolled_back_batch_leaves_nothing);

async fn a_second_customer_with_the_same_source_id_is_a_conflict(mut f: Fixture) {
    let a = customer(&mut f, "dup");
    let b = customer(&mut f, "dup");
    write(&mut f, ChangeSet { customers: vec![&a], ..ChangeSet::default() }).await.unwrap();
    let err = write(&mut f, ChangeSet { customers: vec![&b], ..ChangeSet::default() }).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let p = program(&mut f);
    let m1 = membership(&mut f, &p, &a);
    let mut m2 = membership(&mut f, &p, &b);
    m2.card_code = m1.card_code.clone();
    write(&mut f, ChangeSet { memberships: vec![&m1], ..ChangeSet::default() }).await.unwrap();
    let err = write(&mut f, ChangeSet { memberships: vec![&m2], ..ChangeSet::default() }).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "card codes are unique per project");
}
contract!(a_second_customer_with_the_same_source_id_is_a_conflict);

async fn due_lots_are_the_open_ones_past_their_last_day_soonest_first(mut f: Fixture) {
    let c = customer(&mut f, "c-4");
    let p = program(&mut f);
    let m = membership(&mut f, &p, &c);
    let late = lot(&mut f, &m, 10, Some(date(2025, 2, 20)));
    let early = lot(&mut f, &m, 10, Some(date(2025, 2, 10)));
    let today = lot(&mut f, &m, 10, Some(date(2025, 3, 1)));
    let spent = lot(&mut f, &m, 0, Some(date(2025, 1, 1)));
    let never = lot(&mut f, &m, 10, None);
    let changes =
        ChangeSet { memberships: vec![&m], lots: vec![&late, &early, &today, &spent, &never], ..ChangeSet::default() };
    write(&mut f, changes).await.unwrap();
    f.writer.begin().await.unwrap();
    let due = f.writer.due_lots(&p.id, date(2025, 3, 1), 10).await.unwrap();
    assert_eq!(due.iter().map(|l| l.id.clone()).collect::<Vec<_>>(), vec![early.id.clone(), late.id.clone()]);
    assert_eq!(f.writer.due_lots(&p.id, date(2025, 3, 1), 1).await.unwrap().len(), 1);
    f.writer.rollback().await.unwrap();
    let open = f.reads.open_lot_list(&f.project.id, &m.id).await.unwrap();
    assert_eq!(open.len(), 4, "spent lots are not open");
    assert_eq!(f.reads.lot_list(&f.project.id, &m.id).await.unwrap().len(), 5);
}
contract!(due_lots_are_the_open_ones_past_their_last_day_soonest_first);

async fn pages_run_newest_first_from_the_cursor(mut f: Fixture) {
    let customers: Vec<Customer> = (0..5).map(|i| customer(&mut f, &format!("p-{i}"))).collect();
    write(&mut f, ChangeSet { customers: customers.iter().collect(), ..ChangeSet::default() }).await.unwrap();
    let first = f.reads.customer_page(&f.project.id, &PageRequest { limit: 2, before: None }).await.unwrap();
    assert_eq!(first.iter().map(|c| c.source_id.clone().unwrap()).collect::<Vec<_>>(), ["p-4", "p-3"]);
    let next = PageRequest { limit: 10, before: Some(first[1].id.to_string()) };
    let rest = f.reads.customer_page(&f.project.id, &next).await.unwrap();
    assert_eq!(rest.iter().map(|c| c.source_id.clone().unwrap()).collect::<Vec<_>>(), ["p-2", "p-1", "p-0"]);
}
contract!(pages_run_newest_first_from_the_cursor);

async fn erasure_clears_the_metadata_of_a_customers_orders_and_events(mut f: Fixture) {
    let c = customer(&mut f, "c-5");
    let o = order(&mut f, &c, "o-5");
    write(&mut f, ChangeSet { customers: vec![&c], orders: vec![&o], ..ChangeSet::default() }).await.unwrap();
    write(&mut f, ChangeSet { erased_customers: vec![&c.id], ..ChangeSet::default() }).await.unwrap();
    let read = f.reads.order(&f.project.id, &OrderRef::Id(o.id.clone())).await.unwrap().unwrap();
    assert!(read.metadata.is_empty());
    assert_eq!(read.lines, o.lines);
}
contract!(erasure_clears_the_metadata_of_a_customers_orders_and_events);

async fn keys_are_found_by_hash_until_revoked_and_projects_stay_apart(mut f: Fixture) {
    let (key, secret) = new_api_key(&f.project.id, now(), &mut f.ids);
    f.reads.create_api_key(&key).await.unwrap();
    let hash = fidelis_engine::project::hash_secret(&secret);
    let (found, project) = f.reads.api_key_by_hash(&hash).await.unwrap().unwrap();
    assert_eq!((found.id.clone(), project.id.clone()), (key.id.clone(), f.project.id.clone()));
    assert!(f.reads.revoke_api_key(&f.project.id, &key.id, now()).await.unwrap());
    assert!(!f.reads.revoke_api_key(&f.project.id, &key.id, now()).await.unwrap(), "revoking twice is a no-op");
    assert!(f.reads.api_key_by_hash(&hash).await.unwrap().unwrap().0.revoked_at.is_some());
    let other = Project { id: ProjectId::fresh(&mut f.ids), name: "other".into(), ..f.project.clone() };
    f.reads.create_project(&other).await.unwrap();
    let c = customer(&mut f, "shared-source");
    write(&mut f, ChangeSet { customers: vec![&c], ..ChangeSet::default() }).await.unwrap();
    assert_eq!(f.reads.customer(&other.id, &CustomerRef::Source("shared-source".into())).await.unwrap(), None);
    assert_eq!(f.reads.customer(&other.id, &CustomerRef::Id(c.id.clone())).await.unwrap(), None);
    assert!(f.reads.project_by_name("other").await.unwrap().is_some());
    assert!(f.reads.create_project(&other).await.is_err(), "project names are unique");
}
contract!(keys_are_found_by_hash_until_revoked_and_projects_stay_apart);

async fn old_idempotency_records_are_pruned(mut f: Fixture) {
    let records: Vec<IdempotencyRecord> = (0..3)
        .map(|i| IdempotencyRecord {
            project_id: f.project.id.clone(),
            key: format!("k{i}"),
            request_hash: "h".into(),
            status: 200,
            body: Vec::new(),
            created_at: Timestamp::from_second(1_700_000_000 + i).unwrap(),
        })
        .collect();
    write(&mut f, ChangeSet { idempotency: records.iter().collect(), ..ChangeSet::default() }).await.unwrap();
    f.writer.begin().await.unwrap();
    let pruned = f.writer.prune_idempotency(Timestamp::from_second(1_700_000_002).unwrap(), 100).await.unwrap();
    f.writer.commit().await.unwrap();
    assert_eq!(pruned, 2);
    f.writer.begin().await.unwrap();
    let keys: Vec<_> = (0..3).map(|i| (f.project.id.clone(), format!("k{i}"))).collect();
    assert_eq!(f.writer.idempotency(&keys).await.unwrap().len(), 1);
    f.writer.rollback().await.unwrap();
}
contract!(old_idempotency_records_are_pruned);
