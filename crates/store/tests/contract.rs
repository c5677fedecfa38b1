//! The storage port's contract, run against SQLite and PostgreSQL: what one adapter does, the other must.

use fidelis_core::customer::{Customer, Profile};
use fidelis_core::domain_event::{CustomerPayload, DomainEvent, OrderPayload, SegmentPayload, Topic};
use fidelis_core::earning::{
    Amount, Caps, EarningRule, HourRange, ItemFilter, PerItem, RuleRef, RuleSet, RuleStatus, RuleUsage, Trigger,
    Validity, WeekdayName,
};
use fidelis_core::event::CustomEvent;
use fidelis_core::expiry::ExpiryPolicy;
use fidelis_core::ids::{
    CustomerId, EarningRuleId, EntryId, EventId, HoldId, LotId, MembershipId, NewIds, OrderId, OutboxId, ProgramId,
    ProjectId, SegmentId, SequentialIds,
};
use fidelis_core::ledger::hold::{Hold, HoldKind, HoldState};
use fidelis_core::ledger::{Cause, Entry, EntryKind, Lot, LotTake, Membership, Totals};
use fidelis_core::metadata::{Metadata, RawMeta};
use fidelis_core::money::Points;
use fidelis_core::money::{Currency, Money};
use fidelis_core::order::{Order, OrderEarning, OrderLines, OrderStatus};
use fidelis_core::program::{EarningRate, JoinPolicy, Program};
use fidelis_core::segment::{Segment, SegmentKind};
use fidelis_core::stats::CustomerStats;
use fidelis_core::tier::{TierBasis, TierConfig, TierLevel, TierWindow};
use fidelis_engine::port::*;
use fidelis_engine::project::{Project, new_api_key};
use fidelis_store::{Backend, Database};
use jiff::Timestamp;
use jiff::civil::date;
use std::sync::Arc;

struct Fixture {
    reads: Arc<dyn ReadPort>,
    admin: Arc<dyn AdminPort>,
    writer: Box<dyn WriteSession>,
    project: Project,
    ids: SequentialIds,
    _dir: tempfile::TempDir,
}

fn p(n: i64) -> Points {
    Points::from_stored(n)
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
    let admin = backend.admin();
    admin.create_project(&project).await.unwrap();
    Some(Fixture { reads, admin, writer: writers.remove(0).session, project, ids, _dir: dir })
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
        earnings: vec![
            OrderEarning {
                program_id: ProgramId::fresh(&mut f.ids),
                membership_id: MembershipId::fresh(&mut f.ids),
                entry_id: Some(EntryId::fresh(&mut f.ids)),
                hold_id: None,
                points: 9,
                clawed_back: 1,
            },
            OrderEarning {
                program_id: ProgramId::fresh(&mut f.ids),
                membership_id: MembershipId::fresh(&mut f.ids),
                entry_id: None,
                hold_id: Some(HoldId::fresh(&mut f.ids)),
                points: 4,
                clawed_back: 0,
            },
        ],
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
        earning_rules: vec![earning_rule(f)],
        rules_version: 4,
        tiers: Some(TierConfig {
            basis: TierBasis::Spend(TierWindow::Rolling12Months),
            levels: vec![TierLevel { name: "Gold".into(), threshold: 5000, multiplier: None, expiry: None }],
            downgrade_one_level: true,
            grace_days: 7,
        }),
        created_at: now(),
        updated_at: now(),
    }
}

/// A rule using every part of the stored form.
fn earning_rule(f: &mut Fixture) -> EarningRule {
    EarningRule {
        id: EarningRuleId::fresh(&mut f.ids),
        name: "Shoes on weekends".into(),
        status: RuleStatus::Paused,
        trigger: Trigger::OrderPaid,
        amount: Amount::PerItem {
            items: ItemFilter { collections: vec!["shoes".into()], ..ItemFilter::default() },
            per: PerItem::Amount { every: Money::new(1000).unwrap(), points: p(2) },
        },
        condition: Some("{\"op\":\">=\",\"left\":{\"field\":\"order.amount\"},\"right\":{\"money\":\"5.00\"}}".into()),
        segments: vec![SegmentId::fresh(&mut f.ids)],
        validity: Validity {
            starts_at: Some(now()),
            ends_at: None,
            days_of_week: vec![WeekdayName(5), WeekdayName(6)],
            hours: Some(HourRange { from: 22, to: 2 }),
        },
        caps: Caps {
            per_event: Some(p(100)),
            per_customer_day: Some(p(300)),
            budget: Some(p(5000)),
            ..Caps::default()
        },
        expiry: Some(ExpiryPolicy::AfterDays { days: 30, round_to: None }),
        pending_days: Some(14),
        version: 4,
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
        balance: p(70),
        debt: p(0),
        pending: p(5),
        reserved: p(3),
        next_expiry: Some(date(2025, 6, 30)),
        totals: Totals {
            earned: p(100),
            removed: p(30),
            transferred_in: p(4),
            transferred_out: p(4),
            ..Totals::default()
        },
        rule_usage: {
            let mut usage = RuleUsage::default();
            usage.record(&EarningRuleId::fresh(&mut f.ids), 40, date(2025, 6, 1));
            usage
        },
        tier: {
            let mut tier = fidelis_core::tier::MemberTier::default();
            tier.record_earned(12, date(2025, 6, 1));
            tier
        },
        occasions: fidelis_core::occasion::Occasions {
            birthday: Some(date(2026, 3, 14)),
            anniversary: Some((date(2026, 6, 1), 1)),
            birthday_celebrated: Some(2025),
        },
        celebrate_at: Some(now()),
        created_at: now(),
        updated_at: now(),
    }
}

fn lot(f: &mut Fixture, m: &Membership, remaining: i64, expires_on: Option<jiff::civil::Date>) -> Lot {
    Lot {
        id: LotId::fresh(&mut f.ids),
        program_id: m.program_id.clone(),
        membership_id: m.id.clone(),
        points: p(50),
        remaining: p(remaining),
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
        points: p(-30),
        balance_after: p(70),
        lot_id: None,
        expires_on: None,
        consumed: vec![LotTake { lot_id: lot.id.clone(), points: p(30) }],
        unrecovered: p(0),
        debt_repaid: p(0),
        cause: Cause::Admin { reason: "support".into(), actor: "key_x".into() },
        rule: Some(RuleRef { id: EarningRuleId::fresh(&mut f.ids), version: 3 }),
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

fn segment(f: &mut Fixture, kind: SegmentKind) -> Segment {
    Segment {
        id: SegmentId::fresh(&mut f.ids),
        project_id: f.project.id.clone(),
        name: "S".into(),
        kind,
        version: 2,
        time_dependent: true,
        swept_at: Some(now()),
        created_at: now(),
        updated_at: now(),
    }
}

fn event(f: &mut Fixture, customer: &Customer, client: &str) -> CustomEvent {
    CustomEvent {
        id: EventId::fresh(&mut f.ids),
        project_id: f.project.id.clone(),
        customer_id: customer.id.clone(),
        name: "login".into(),
        client_event_id: Some(client.into()),
        metadata: Metadata::parse("/m", vec![("device".into(), RawMeta::Str("ios".into()))]).unwrap(),
        occurred_at: now(),
        created_at: now(),
    }
}

fn record(f: &Fixture, key: &str, second: i64) -> IdempotencyRecord {
    IdempotencyRecord {
        project_id: f.project.id.clone(),
        key: key.into(),
        request_hash: "h".into(),
        status: 201,
        body: b"{\"a\":1}".to_vec(),
        created_at: Timestamp::from_second(second).unwrap(),
    }
}

/// A customer with an order, a program, a membership with a lot and an entry, an event and a stored
/// response, all written in one flush.
struct World {
    c: Customer,
    o: Order,
    p: Program,
    m: Membership,
    l: Lot,
    e: Entry,
    ev: CustomEvent,
    idem: IdempotencyRecord,
}

async fn world(f: &mut Fixture, n: usize) -> World {
    let c = customer(f, &format!("c-{n}"));
    let o = order(f, &c, &format!("o-{n}"));
    let p = program(f);
    let m = membership(f, &p, &c);
    let l = lot(f, &m, 20, Some(date(2025, 6, 30)));
    let e = entry(f, &m, &l);
    let ev = event(f, &c, &format!("e-{n}"));
    let idem = record(f, &format!("k-{n}"), 1_740_000_000);
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
    write(f, changes).await.unwrap();
    World { c, o, p, m, l, e, ev, idem }
}

async fn every_row_reads_back_exactly_as_written(mut f: Fixture) {
    let w = world(&mut f, 1).await;
    let project = f.project.id.clone();
    let r = &f.reads;
    r.ping().await.unwrap();
    assert_eq!(r.customer(&project, &CustomerRef::Source("c-1".into())).await.unwrap(), Some(w.c.clone()));
    assert_eq!(r.customer(&project, &CustomerRef::Id(w.c.id.clone())).await.unwrap(), Some(w.c.clone()));
    assert_eq!(r.order(&project, &OrderRef::Source("o-1".into())).await.unwrap(), Some(w.o.clone()));
    assert_eq!(r.order(&project, &OrderRef::Id(w.o.id.clone())).await.unwrap(), Some(w.o.clone()));
    assert_eq!(r.program(&project, &w.p.id).await.unwrap(), Some(w.p.clone()));
    assert_eq!(r.program_list(&project).await.unwrap(), vec![w.p.clone()]);
    for member in [
        MemberRef::Id(w.m.id.clone()),
        MemberRef::Card(w.m.card_code.clone()),
        MemberRef::Customer(CustomerRef::Id(w.c.id.clone())),
        MemberRef::Customer(CustomerRef::Source("c-1".into())),
    ] {
        assert_eq!(r.membership(&project, &w.p.id, &member).await.unwrap(), Some(w.m.clone()), "{member:?}");
    }
    assert_eq!(r.customer_memberships(&project, &w.c.id).await.unwrap(), vec![w.m.clone()]);
    assert_eq!(r.entry_list(&project, &w.m.id).await.unwrap(), vec![w.e.clone()]);
    assert_eq!(r.open_lot_list(&project, &w.m.id).await.unwrap(), vec![w.l.clone()]);
    assert_eq!(r.lot_list(&project, &w.m.id).await.unwrap(), vec![w.l.clone()]);
    let all = PageRequest { limit: 10, before: None };
    assert_eq!(r.order_page(&project, Some(&w.c.id), &all).await.unwrap(), vec![w.o.clone()]);
    assert_eq!(r.event_page(&project, None, &all).await.unwrap(), vec![w.ev.clone()]);
    assert_eq!(r.event_page(&project, Some(&w.c.id), &all).await.unwrap(), vec![w.ev.clone()]);
    assert_eq!(r.membership_page(&project, &w.p.id, &all).await.unwrap(), vec![w.m.clone()]);
    assert_eq!(r.entry_page(&project, &w.m.id, &all).await.unwrap(), vec![w.e.clone()]);
    assert_eq!(r.membership_scan(&project, None, 10).await.unwrap(), vec![w.m.clone()]);
    assert_eq!(r.customer_scan(&project, None, 10, Projection::Full).await.unwrap(), vec![w.c.clone()]);
    let light = r.customer_scan(&project, None, 10, Projection::WithoutStats).await.unwrap();
    assert_eq!((light[0].stats.orders_count, &light[0].profile), (0, &w.c.profile), "aggregates are left out");
}
contract!(every_row_reads_back_exactly_as_written);

async fn a_writer_loads_what_it_named_and_nothing_of_other_projects(mut f: Fixture) {
    let w = world(&mut f, 2).await;
    let project = f.project.id.clone();
    let other = ProjectId::fresh(&mut f.ids);
    let s = &mut f.writer;
    s.begin().await.unwrap();
    assert_eq!(s.idempotency(&[(project.clone(), "k-2".into())]).await.unwrap(), vec![w.idem.clone()]);
    assert_eq!(s.customers(&[], &[(project.clone(), "c-2".into())]).await.unwrap(), vec![w.c.clone()]);
    assert_eq!(s.customers(std::slice::from_ref(&w.c.id), &[]).await.unwrap(), vec![w.c.clone()]);
    assert!(s.customers(&[], &[(other.clone(), "c-2".into())]).await.unwrap().is_empty());
    assert!(s.customers(&[], &[]).await.unwrap().is_empty(), "no keys, no rows");
    assert_eq!(s.orders(std::slice::from_ref(&w.o.id), &[]).await.unwrap(), vec![w.o.clone()]);
    assert_eq!(s.orders(&[], &[(project.clone(), "o-2".into())]).await.unwrap(), vec![w.o.clone()]);
    let both = s.orders(std::slice::from_ref(&w.o.id), &[(project.clone(), "o-2".into())]).await.unwrap();
    assert_eq!(both.len(), if both.len() == 1 { 1 } else { 2 }, "the same row named twice is loaded at least once");
    assert_eq!(s.events_by_client_id(&[(project.clone(), "e-2".into())]).await.unwrap(), vec![w.ev.clone()]);
    assert_eq!(s.programs(std::slice::from_ref(&project), &[]).await.unwrap(), vec![w.p.clone()]);
    let locked = s.programs(&[], std::slice::from_ref(&w.p.id)).await.unwrap();
    assert!(locked.iter().all(|p| *p == w.p), "a locked config row reads as stored");
    assert_eq!(s.memberships(std::slice::from_ref(&w.m.id), &[], &[]).await.unwrap(), vec![w.m.clone()]);
    assert_eq!(s.memberships(&[], &[(project.clone(), w.m.card_code.clone())], &[]).await.unwrap(), vec![w.m.clone()]);
    assert_eq!(s.memberships(&[], &[], std::slice::from_ref(&w.c.id)).await.unwrap(), vec![w.m.clone()]);
    assert_eq!(s.open_lots(std::slice::from_ref(&w.m.id)).await.unwrap(), vec![w.l.clone()]);
    assert_eq!(s.order_ids_of_customer(&w.c.id).await.unwrap(), vec![w.o.id.clone()]);
    let owners = s
        .owners(
            &[(project.clone(), OrderRef::Source("o-2".into()))],
            &[(project.clone(), MemberRef::Id(w.m.id.clone()))],
        )
        .await
        .unwrap();
    assert_eq!(owners, vec![w.c.id.clone()], "an order and a member of one customer resolve to them once");
    let by_card = s.owners(&[], &[(project.clone(), MemberRef::Card(w.m.card_code.clone()))]).await.unwrap();
    assert_eq!(by_card, vec![w.c.id.clone()]);
    let after = s.customers_after(&project, None, 10, Projection::Full).await.unwrap();
    assert_eq!(after, vec![w.c.clone()]);
    assert!(s.customers_after(&project, Some(&w.c.id), 10, Projection::WithoutStats).await.unwrap().is_empty());
    s.rollback().await.unwrap();
}
contract!(a_writer_loads_what_it_named_and_nothing_of_other_projects);

async fn a_snapshot_loads_like_a_writer_and_sees_nothing_committed_after_it_began(mut f: Fixture) {
    let w = world(&mut f, 3).await;
    let project = f.project.id.clone();
    let mut snapshot = f.reads.snapshot().await.unwrap();
    assert_eq!(snapshot.customers(&[], &[(project.clone(), "c-3".into())]).await.unwrap(), vec![w.c.clone()]);
    let later = customer(&mut f, "c-3-later");
    write(&mut f, ChangeSet { customers: vec![&later], ..ChangeSet::default() }).await.unwrap();
    let seen = snapshot.customers(&[], &[(project.clone(), "c-3-later".into())]).await.unwrap();
    assert!(seen.is_empty(), "the snapshot is consistent");
    let key = CounterKey { project_id: project.clone(), name: CounterName::Programs };
    assert_eq!(snapshot.counters(std::slice::from_ref(&key)).await.unwrap(), vec![(key.clone(), 0)]);
    snapshot.finish().await.unwrap();
    assert_eq!(f.reads.counter(&key).await.unwrap(), 0, "a snapshot creates no counter");
}
contract!(a_snapshot_loads_like_a_writer_and_sees_nothing_committed_after_it_began);

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
    let mut m = membership(&mut f, &p, &c);
    m.next_expiry = Some(date(2025, 1, 1));
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
    let mut later = m.clone();
    later.next_expiry = Some(date(2025, 3, 1));
    later.tier.level = Some("Gold".into());
    later.tier.until = Some(date(2025, 2, 28));
    let changes = ChangeSet {
        memberships: vec![&later],
        membership_dues: vec![MembershipDue::of(&later)],
        ..ChangeSet::default()
    };
    write(&mut f, changes).await.unwrap();
    f.writer.begin().await.unwrap();
    assert!(f.writer.due_lots(&p.id, date(2025, 3, 1), 10).await.unwrap().is_empty(), "found by next_expiry");
    let reviews = f.writer.due_tier_reviews(&p.id, date(2025, 3, 1), 10).await.unwrap();
    assert_eq!(reviews, vec![later.clone()], "a status that ended is found by tier_until");
    assert!(f.writer.due_tier_reviews(&p.id, date(2025, 2, 28), 10).await.unwrap().is_empty());
    f.writer.rollback().await.unwrap();
    let read = f.reads.customer_memberships(&f.project.id, &c.id).await.unwrap();
    assert_eq!(read, vec![later.clone()], "a changed next_expiry is written");
}
contract!(due_lots_are_the_open_ones_past_their_last_day_soonest_first);

async fn an_upsert_keeps_next_expiry_unless_it_is_listed_as_changed(mut f: Fixture) {
    let c = customer(&mut f, "c-5");
    let prog = program(&mut f);
    let m = membership(&mut f, &prog, &c);
    write(&mut f, ChangeSet { memberships: vec![&m], ..ChangeSet::default() }).await.unwrap();
    let mut changed = m.clone();
    changed.balance = p(5);
    changed.next_expiry = Some(date(2030, 1, 1));
    write(&mut f, ChangeSet { memberships: vec![&changed], ..ChangeSet::default() }).await.unwrap();
    let read = f.reads.customer_memberships(&f.project.id, &c.id).await.unwrap();
    assert_eq!((read[0].balance, read[0].next_expiry), (p(5), m.next_expiry), "the rest is written");
}
contract!(an_upsert_keeps_next_expiry_unless_it_is_listed_as_changed);

async fn pages_run_newest_first_from_the_cursor(mut f: Fixture) {
    let customers: Vec<Customer> = (0..5).map(|i| customer(&mut f, &format!("p-{i}"))).collect();
    write(&mut f, ChangeSet { customers: customers.iter().collect(), ..ChangeSet::default() }).await.unwrap();
    let first = f.reads.customer_page(&f.project.id, &PageRequest { limit: 2, before: None }).await.unwrap();
    assert_eq!(first.iter().map(|c| c.source_id.clone().unwrap()).collect::<Vec<_>>(), ["p-4", "p-3"]);
    let next = PageRequest { limit: 10, before: Some(first[1].id.to_string()) };
    let rest = f.reads.customer_page(&f.project.id, &next).await.unwrap();
    assert_eq!(rest.iter().map(|c| c.source_id.clone().unwrap()).collect::<Vec<_>>(), ["p-2", "p-1", "p-0"]);
    let orders = f.reads.order_page(&f.project.id, None, &PageRequest { limit: 2, before: None }).await.unwrap();
    assert!(orders.is_empty());
}
contract!(pages_run_newest_first_from_the_cursor);

async fn erasure_clears_the_metadata_of_a_customers_events_and_their_source_id(mut f: Fixture) {
    let c = customer(&mut f, "c-5");
    let ev = event(&mut f, &c, "e-5");
    write(&mut f, ChangeSet { customers: vec![&c], events: vec![&ev], ..ChangeSet::default() }).await.unwrap();
    write(&mut f, ChangeSet { erased_customers: vec![&c.id], ..ChangeSet::default() }).await.unwrap();
    let page = f.reads.event_page(&f.project.id, Some(&c.id), &PageRequest { limit: 5, before: None }).await.unwrap();
    assert!(page[0].metadata.is_empty());
    let read = f.reads.customer(&f.project.id, &CustomerRef::Id(c.id.clone())).await.unwrap().unwrap();
    assert_eq!(read.source_id, None);
}
contract!(erasure_clears_the_metadata_of_a_customers_events_and_their_source_id);

async fn keys_are_found_by_hash_until_revoked_and_projects_stay_apart(mut f: Fixture) {
    let (key, secret) = new_api_key(&f.project.id, now(), &mut f.ids);
    f.admin.create_api_key(&key).await.unwrap();
    let hash = fidelis_engine::project::hash_secret(&secret);
    let (found, project) = f.reads.api_key_by_hash(&hash).await.unwrap().unwrap();
    assert_eq!((found.id.clone(), project.clone()), (key.id.clone(), f.project.clone()));
    assert_eq!(f.reads.api_key_list(&f.project.id).await.unwrap(), vec![key.clone()]);
    assert!(f.admin.revoke_api_key(&f.project.id, &key.id, now()).await.unwrap());
    assert!(!f.admin.revoke_api_key(&f.project.id, &key.id, now()).await.unwrap(), "revoking twice is a no-op");
    assert!(f.reads.api_key_by_hash(&hash).await.unwrap().unwrap().0.revoked_at.is_some());
    let other = Project { id: ProjectId::fresh(&mut f.ids), name: "other".into(), ..f.project.clone() };
    f.admin.create_project(&other).await.unwrap();
    let c = customer(&mut f, "shared-source");
    write(&mut f, ChangeSet { customers: vec![&c], ..ChangeSet::default() }).await.unwrap();
    assert_eq!(f.reads.customer(&other.id, &CustomerRef::Source("shared-source".into())).await.unwrap(), None);
    assert_eq!(f.reads.customer(&other.id, &CustomerRef::Id(c.id.clone())).await.unwrap(), None);
    assert_eq!(f.reads.project_by_name("other").await.unwrap(), Some(other.clone()));
    assert_eq!(f.reads.project_list().await.unwrap().len(), 2);
    assert!(f.admin.create_project(&other).await.is_err(), "project names are unique");
}
contract!(keys_are_found_by_hash_until_revoked_and_projects_stay_apart);

async fn stale_idempotency_records_are_listed_oldest_first_and_deleted_by_key(mut f: Fixture) {
    let records: Vec<IdempotencyRecord> = (0..3).map(|i| record(&f, &format!("k{i}"), 1_700_000_000 + i)).collect();
    write(&mut f, ChangeSet { idempotency: records.iter().collect(), ..ChangeSet::default() }).await.unwrap();
    f.writer.begin().await.unwrap();
    let stale = f.writer.stale_idempotency(Timestamp::from_second(1_700_000_002).unwrap(), 100).await.unwrap();
    f.writer.rollback().await.unwrap();
    let project = f.project.id.clone();
    assert_eq!(stale, vec![(project.clone(), "k0".to_owned()), (project.clone(), "k1".to_owned())]);
    write(&mut f, ChangeSet { idempotency_pruned: stale.iter().collect(), ..ChangeSet::default() }).await.unwrap();
    f.writer.begin().await.unwrap();
    let keys: Vec<_> = (0..3).map(|i| (project.clone(), format!("k{i}"))).collect();
    assert_eq!(f.writer.idempotency(&keys).await.unwrap(), vec![records[2].clone()]);
    f.writer.rollback().await.unwrap();
}
contract!(stale_idempotency_records_are_listed_oldest_first_and_deleted_by_key);

async fn counters_start_at_zero_and_refuse_an_increment_past_their_limit(mut f: Fixture) {
    let key = CounterKey { project_id: f.project.id.clone(), name: CounterName::Segments };
    f.writer.begin().await.unwrap();
    assert_eq!(f.writer.counters(std::slice::from_ref(&key)).await.unwrap(), vec![(key.clone(), 0)]);
    let up = CounterDelta { key: key.clone(), delta: 3, limit: Some(3) };
    f.writer.flush(&ChangeSet { counters: vec![up], ..ChangeSet::default() }).await.unwrap();
    f.writer.commit().await.unwrap();
    assert_eq!(f.reads.counter(&key).await.unwrap(), 3);
    f.writer.begin().await.unwrap();
    f.writer.counters(std::slice::from_ref(&key)).await.unwrap();
    let past = CounterDelta { key: key.clone(), delta: 1, limit: Some(3) };
    let err = f.writer.flush(&ChangeSet { counters: vec![past], ..ChangeSet::default() }).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    f.writer.rollback().await.unwrap();
    let back = CounterDelta { key: key.clone(), delta: -2, limit: None };
    write(&mut f, ChangeSet { counters: vec![back], ..ChangeSet::default() }).await.unwrap();
    assert_eq!(f.reads.counter(&key).await.unwrap(), 1, "a negative delta gives its share back");
}
contract!(counters_start_at_zero_and_refuse_an_increment_past_their_limit);

async fn rule_budgets_are_read_unlocked_and_created_by_their_first_increment(mut f: Fixture) {
    let name = CounterName::RuleBudget(EarningRuleId::fresh(&mut f.ids));
    let key = CounterKey { project_id: f.project.id.clone(), name };
    f.writer.begin().await.unwrap();
    assert_eq!(f.writer.counters_unlocked(std::slice::from_ref(&key)).await.unwrap(), vec![(key.clone(), 0)]);
    let up = CounterDelta { key: key.clone(), delta: 40, limit: Some(50) };
    f.writer.flush(&ChangeSet { counters: vec![up], ..ChangeSet::default() }).await.unwrap();
    f.writer.commit().await.unwrap();
    assert_eq!(f.reads.counter(&key).await.unwrap(), 40);
    f.writer.begin().await.unwrap();
    assert_eq!(f.writer.counters_unlocked(std::slice::from_ref(&key)).await.unwrap(), vec![(key.clone(), 40)]);
    let past = CounterDelta { key: key.clone(), delta: 11, limit: Some(50) };
    let err = f.writer.flush(&ChangeSet { counters: vec![past], ..ChangeSet::default() }).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "an increment past the budget fails the flush: {err:?}");
    f.writer.rollback().await.unwrap();
    assert_eq!(f.reads.counter(&key).await.unwrap(), 40);
}
contract!(rule_budgets_are_read_unlocked_and_created_by_their_first_increment);

async fn segments_members_and_customer_lists_are_written_and_paged(mut f: Fixture) {
    let dynamic = segment(&mut f, SegmentKind::Dynamic { rule: "{\"all\":[]}".into() });
    let fixed = segment(&mut f, SegmentKind::Static);
    let a = customer(&mut f, "s-a");
    let b = customer(&mut f, "s-b");
    let since = now();
    let changes = ChangeSet {
        segments: vec![&dynamic, &fixed],
        customers: vec![&a, &b],
        members_added: vec![(&fixed.id, &a.id, since), (&fixed.id, &b.id, since)],
        ..ChangeSet::default()
    };
    write(&mut f, changes).await.unwrap();
    let project = f.project.id.clone();
    assert_eq!(f.reads.segment(&project, &dynamic.id).await.unwrap(), Some(dynamic.clone()));
    assert_eq!(f.reads.segment_list(&project).await.unwrap(), vec![dynamic.clone(), fixed.clone()]);
    assert_eq!(f.reads.segment_member_count(&project, &fixed.id).await.unwrap(), 2);
    let page = f.reads.segment_member_page(&project, &fixed.id, &PageRequest { limit: 1, before: None }).await.unwrap();
    assert_eq!(page, vec![(b.id.clone(), since)]);
    let lists = vec![fixed.id.clone()];
    let changes = ChangeSet {
        members_removed: vec![(&fixed.id, &b.id)],
        customer_segments: vec![(&a.id, lists.as_slice())],
        ..ChangeSet::default()
    };
    write(&mut f, changes).await.unwrap();
    assert_eq!(f.reads.segment_member_count(&project, &fixed.id).await.unwrap(), 1);
    let read = f.reads.customer(&project, &CustomerRef::Id(a.id.clone())).await.unwrap().unwrap();
    assert_eq!(read.segments, lists);
    f.writer.begin().await.unwrap();
    let locked = f.writer.segments(std::slice::from_ref(&project), std::slice::from_ref(&fixed.id)).await.unwrap();
    assert!(locked.contains(&fixed) && locked.contains(&dynamic));
    f.writer.rollback().await.unwrap();
    let other = ProjectId::fresh(&mut f.ids);
    assert_eq!(f.reads.segment_member_count(&other, &fixed.id).await.unwrap(), 0, "segments stay in their project");
}
contract!(segments_members_and_customer_lists_are_written_and_paged);

/// One batch's outbox events of the fixture's project, with their ids drawn as one run (as the engine
/// seals a batch).
fn sealed(f: &mut Fixture, events: Vec<DomainEvent>) -> Vec<OutboxEvent> {
    let first = OutboxId::of_value(f.ids.run(events.len()));
    let project = f.project.id.clone();
    events.into_iter().enumerate().map(|(n, e)| OutboxEvent::new(first.nth(n).unwrap(), &project, e, now())).collect()
}

async fn the_outbox_pages_its_chunks_with_the_events_and_entries_it_reads_in_place_newest_first(mut f: Fixture) {
    let c = customer(&mut f, "ob");
    let order = order(&mut f, &c, "ob-1");
    let payload = CustomerPayload { customer_id: c.id.clone(), source_id: c.source_id.clone() };
    let first =
        sealed(&mut f, vec![DomainEvent::order(Topic::OrderPaid, &order, 0), DomainEvent::CustomerChanged(payload)]);
    write(&mut f, ChangeSet { outbox: first.iter().collect(), ..ChangeSet::default() }).await.unwrap();
    let w = world(&mut f, 1).await;
    let segment_id = SegmentId::fresh(&mut f.ids);
    let moved = SegmentPayload { segment_id, customer_id: c.id.clone() };
    let second = sealed(&mut f, vec![DomainEvent::SegmentEntered(moved.clone()), DomainEvent::SegmentLeft(moved)]);
    write(&mut f, ChangeSet { outbox: second.iter().collect(), ..ChangeSet::default() }).await.unwrap();
    let project = f.project.id.clone();
    let expected = vec![
        second[1].clone(),
        second[0].clone(),
        OutboxEvent::in_place(&project, w.ev.id.body(), DomainEvent::of_event(&w.ev), w.ev.created_at),
        OutboxEvent::in_place(&project, w.e.id.body(), DomainEvent::of_entry(&w.e), w.e.created_at),
        first[1].clone(),
        first[0].clone(),
    ];
    let page = f.reads.outbox_page(&project, &PageRequest { limit: 10, before: None }).await.unwrap();
    assert_eq!(page, expected);
    for limit in [1, 2, 3] {
        let (mut walked, mut before) = (Vec::new(), None);
        loop {
            let part = f.reads.outbox_page(&project, &PageRequest { limit, before: before.clone() }).await.unwrap();
            let Some(last) = part.last() else { break };
            assert!(part.len() == limit || walked.len() + part.len() == expected.len(), "pages are full");
            before = Some(last.id.to_string());
            walked.extend(part);
        }
        assert_eq!(
            walked, expected,
            "pages of {limit} walk the chunks and in-place rows, skipping and repeating nothing"
        );
    }
    assert_eq!(expected[3].topic, Topic::PointsDebited);
    let DomainEvent::OrderPaid(OrderPayload { total, refunded_amount, .. }) = &page[5].event else {
        panic!("order.paid")
    };
    assert_eq!((*total, *refunded_amount), (900, 50));
    let other = ProjectId::fresh(&mut f.ids);
    assert!(f.reads.outbox_page(&other, &PageRequest { limit: 10, before: None }).await.unwrap().is_empty());
}
contract!(the_outbox_pages_its_chunks_with_the_events_and_entries_it_reads_in_place_newest_first);

/// Every method of the storage port is exercised above (a port method without a contract test fails here).
#[test]
fn the_contract_covers_every_port_method() {
    let port = include_str!("../../engine/src/port.rs");
    let suite = include_str!("contract.rs");
    let missing: Vec<&str> = port
        .lines()
        .filter_map(|l| l.trim().strip_prefix("async fn "))
        .filter_map(|rest| rest.split('(').next())
        .filter(|name| !suite.contains(&format!(".{name}(")))
        .collect();
    assert!(missing.is_empty(), "port methods without a contract test: {missing:?}");
}

fn pending_hold(f: &mut Fixture, m: &Membership, points: i64, until: jiff::civil::Date) -> Hold {
    Hold {
        id: HoldId::fresh(&mut f.ids),
        project_id: m.project_id.clone(),
        program_id: m.program_id.clone(),
        membership_id: m.id.clone(),
        customer_id: m.customer_id.clone(),
        kind: HoldKind::Credit,
        points: p(points),
        state: HoldState::Pending,
        until,
        cause: Cause::Order { order_id: OrderId::fresh(&mut f.ids) },
        rule: Some(RuleRef { id: EarningRuleId::fresh(&mut f.ids), version: 2 }),
        expiry: Some(ExpiryPolicy::AfterMonths { months: 6, round_to: None }),
        created_at: now(),
        resolved_at: None,
    }
}

async fn holds_round_trip_change_state_and_are_found_when_due(mut f: Fixture) {
    let w = world(&mut f, 40).await;
    let early = pending_hold(&mut f, &w.m, 30, date(2025, 3, 1));
    let late = pending_hold(&mut f, &w.m, 20, date(2025, 3, 9));
    write(&mut f, ChangeSet { holds: vec![&early, &late], ..ChangeSet::default() }).await.unwrap();
    f.writer.begin().await.unwrap();
    let mut loaded = f.writer.holds(std::slice::from_ref(&w.m.id)).await.unwrap();
    loaded.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(loaded, vec![early.clone(), late.clone()]);
    let due = f.writer.due_holds(&w.p.id, date(2025, 3, 1), 10).await.unwrap();
    assert_eq!(due, vec![early.clone()], "due on their day, not before");
    f.writer.rollback().await.unwrap();
    let posted = Hold { state: HoldState::Posted, points: p(25), resolved_at: Some(now()), ..early.clone() };
    write(&mut f, ChangeSet { holds: vec![&posted], ..ChangeSet::default() }).await.unwrap();
    f.writer.begin().await.unwrap();
    assert!(f.writer.due_holds(&w.p.id, date(2025, 3, 20), 10).await.unwrap().iter().all(|h| h.id != early.id));
    f.writer.rollback().await.unwrap();
    let listed = f.reads.hold_list(&f.project.id, &w.m.id).await.unwrap();
    assert_eq!(listed, vec![late.clone(), posted], "newest first, as changed");
    let other = ProjectId::fresh(&mut f.ids);
    assert!(f.reads.hold_list(&other, &w.m.id).await.unwrap().is_empty());
}
contract!(holds_round_trip_change_state_and_are_found_when_due);

async fn rule_set_versions_are_kept_whole_and_listed_newest_first(mut f: Fixture) {
    let w = world(&mut f, 41).await;
    let sets: Vec<RuleSet> = (1..=3)
        .map(|version| RuleSet {
            project_id: f.project.id.clone(),
            program_id: w.p.id.clone(),
            version,
            rules: w.p.earning_rules.iter().take(usize::try_from(version).unwrap_or(0) % 2).cloned().collect(),
            tiers: w.p.tiers.clone().filter(|_| version == 3),
            created_at: now(),
        })
        .collect();
    write(&mut f, ChangeSet { rule_sets: sets.iter().collect(), ..ChangeSet::default() }).await.unwrap();
    let newest = f.reads.rule_set_list(&f.project.id, &w.p.id, None, 2).await.unwrap();
    assert_eq!(newest, vec![sets[2].clone(), sets[1].clone()]);
    let older = f.reads.rule_set_list(&f.project.id, &w.p.id, Some(2), 10).await.unwrap();
    assert_eq!(older, vec![sets[0].clone()]);
    assert_eq!(f.reads.rule_set(&f.project.id, &w.p.id, 3).await.unwrap(), Some(sets[2].clone()));
    assert_eq!(f.reads.rule_set(&f.project.id, &w.p.id, 4).await.unwrap(), None);
    let other = ProjectId::fresh(&mut f.ids);
    assert_eq!(f.reads.rule_set(&other, &w.p.id, 3).await.unwrap(), None);
    let again = write(&mut f, ChangeSet { rule_sets: vec![&sets[0]], ..ChangeSet::default() }).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "a version is written once: {again:?}");
}
contract!(rule_set_versions_are_kept_whole_and_listed_newest_first);

async fn occasions_are_due_from_their_instant_and_unplanned_members_always(mut f: Fixture) {
    let c = customer(&mut f, "c-occ");
    let p = program(&mut f);
    let mut planned = membership(&mut f, &p, &c);
    planned.celebrate_at = Some("2026-03-14T00:00:00Z".parse().unwrap());
    let other = customer(&mut f, "c-occ-2");
    let mut unplanned = membership(&mut f, &p, &other);
    unplanned.celebrate_at = None;
    unplanned.occasions = Default::default();
    write(
        &mut f,
        ChangeSet { customers: vec![&c, &other], memberships: vec![&planned, &unplanned], ..ChangeSet::default() },
    )
    .await
    .unwrap();
    let before: Timestamp = "2026-03-13T23:59:59Z".parse().unwrap();
    f.writer.begin().await.unwrap();
    let early = f.writer.due_occasions(&p.id, before, 10).await.unwrap();
    assert_eq!(early, vec![unplanned.clone()], "never planned: due at once");
    let due = f.writer.due_occasions(&p.id, "2026-03-14T00:00:00Z".parse().unwrap(), 10).await.unwrap();
    assert_eq!(due, vec![unplanned.clone(), planned.clone()], "unplanned first, then by instant");
    assert_eq!(f.writer.due_occasions(&p.id, before, 0).await.unwrap().len(), 0);
    f.writer.rollback().await.unwrap();
    let mut moved = planned.clone();
    moved.celebrate_at = Some("2027-03-14T00:00:00Z".parse().unwrap());
    let changes = ChangeSet {
        memberships: vec![&moved],
        membership_dues: vec![MembershipDue::of(&moved)],
        ..ChangeSet::default()
    };
    write(&mut f, changes).await.unwrap();
    f.writer.begin().await.unwrap();
    let due = f.writer.due_occasions(&p.id, "2026-12-31T00:00:00Z".parse().unwrap(), 10).await.unwrap();
    assert_eq!(due, vec![unplanned.clone()], "a moved instant is written");
    f.writer.rollback().await.unwrap();
}
contract!(occasions_are_due_from_their_instant_and_unplanned_members_always);

async fn the_tier_history_keeps_every_move_newest_first(mut f: Fixture) {
    use fidelis_core::tier::{TierHistoryEntry, TierMove};
    let c = customer(&mut f, "c-th");
    let p = program(&mut f);
    let m = membership(&mut f, &p, &c);
    let moves: Vec<TierHistoryEntry> = [TierMove::Joined, TierMove::Upgraded, TierMove::Downgraded]
        .into_iter()
        .map(|kind| TierHistoryEntry {
            id: fidelis_core::ids::TierMoveId::fresh(&mut f.ids),
            project_id: f.project.id.clone(),
            program_id: p.id.clone(),
            membership_id: m.id.clone(),
            kind,
            from: (kind != TierMove::Joined).then(|| "Silver".to_owned()),
            to: Some("Gold".to_owned()),
            until: Some(date(2027, 12, 31)),
            created_at: now(),
        })
        .collect();
    write(
        &mut f,
        ChangeSet {
            customers: vec![&c],
            memberships: vec![&m],
            tier_moves: moves.iter().collect(),
            ..ChangeSet::default()
        },
    )
    .await
    .unwrap();
    let all = f.reads.tier_history_page(&f.project.id, &m.id, &PageRequest { limit: 10, before: None }).await.unwrap();
    assert_eq!(all, moves.iter().rev().cloned().collect::<Vec<_>>());
    let before = Some(moves[1].id.to_string());
    let older = f.reads.tier_history_page(&f.project.id, &m.id, &PageRequest { limit: 10, before }).await.unwrap();
    assert_eq!(older, vec![moves[0].clone()]);
    let stranger = ProjectId::fresh(&mut f.ids);
    let page = PageRequest { limit: 10, before: None };
    assert!(f.reads.tier_history_page(&stranger, &m.id, &page).await.unwrap().is_empty(), "other projects see nothing");
}
contract!(the_tier_history_keeps_every_move_newest_first);
