//! Model test of the points ledger: random sequences of earn / add / remove / expire / clawback / retry,
//! run through the real engine and database, checked after every step against a deliberately simple
//! reference model and against the ledger identities. Besides its rate, the program earns by a rule capped
//! per customer and day and by a rule whose points stay pending for a few days (activated by the jobs,
//! shrunk or voided by refunds inside the window). Failing cases are shrunk and their seed persisted
//! by proptest (`proptest-regressions/`); `PROPTEST_CASES` runs more.

use crate::support::{Db, database};
use fidelis::app;
use fidelis_api::ApiConfig;
use fidelis_core::customer::CustomerPatch;
use fidelis_core::earning::{Amount, AmountBase, Caps, RuleDraft, Trigger};
use fidelis_core::expiry::ExpiryPolicy;
use fidelis_core::ids::ProgramId;
use fidelis_core::ledger::check_identities;
use fidelis_core::money::{Money, Points};
use fidelis_core::order::{OrderDraft, OrderLines, OrderStatus};
use fidelis_core::program::{EarningRate, JoinPolicy, ProgramDraft};
use fidelis_engine::clock::{Clock, ManualClock};
use fidelis_engine::command::*;
use fidelis_engine::domains::customers::{CustomerInput, WhenMissing};
use fidelis_engine::domains::members::{self, Direction, PointsAdjustment};
use fidelis_engine::domains::orders::{self, OrderInput};
use fidelis_engine::domains::programs;
use fidelis_engine::port::{CustomerRef, MemberRef, OrderRef};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use std::sync::Arc;

const CUSTOMERS: usize = 3;
/// The capped rule: this many points per paid order, at most `BONUS_CAP` per customer and day.
const BONUS: i64 = 30;
const BONUS_CAP: i64 = 50;
/// The pending rule: 1 point per 10.00, pending this many days.
const HELD_EVERY: i64 = 1_000;
const HELD_DAYS: u8 = 3;

#[derive(Clone, Debug)]
enum Op {
    Earn { customer: usize, amount: i64 },
    Add { customer: usize, points: i64, expires_in_days: Option<i32> },
    Remove { customer: usize, points: i64 },
    Refund { order: usize, percent: i64 },
    Cancel { order: usize },
    Advance { days: i64 },
    Retry,
}

fn op() -> impl Strategy<Value = Op> {
    let customer = 0..CUSTOMERS;
    prop_oneof![
        4 => (customer.clone(), 0_i64..50_000).prop_map(|(customer, amount)| Op::Earn { customer, amount }),
        2 => (customer.clone(), 1_i64..300, proptest::option::of(-3_i32..40))
            .prop_map(|(customer, points, expires_in_days)| Op::Add { customer, points, expires_in_days }),
        3 => (customer, 1_i64..400).prop_map(|(customer, points)| Op::Remove { customer, points }),
        2 => (0_usize..20, 1_i64..=100).prop_map(|(order, percent)| Op::Refund { order, percent }),
        1 => (0_usize..20).prop_map(|order| Op::Cancel { order }),
        2 => (1_i64..45).prop_map(|days| Op::Advance { days }),
        1 => Just(Op::Retry),
    ]
}

#[derive(Clone, Debug)]
struct ModelLot {
    remaining: i64,
    expires_on: Option<Date>,
}

#[derive(Clone, Debug, Default)]
struct ModelMember {
    lots: Vec<ModelLot>,
    debt: i64,
    balance: i64,
    /// The capped rule's points by day.
    bonus_days: Vec<(Date, i64)>,
}

/// What one rule (or the rate) gave an order: credited, or pending in `hold`.
#[derive(Clone, Debug)]
struct ModelEarning {
    points: i64,
    clawed: i64,
    hold: Option<usize>,
}

#[derive(Clone, Debug)]
struct ModelOrder {
    customer: usize,
    total: i64,
    refunded: i64,
    earnings: Vec<ModelEarning>,
    void: bool,
    canceled: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum HoldState {
    Pending,
    Posted,
    Voided,
}

#[derive(Clone, Debug)]
struct ModelHold {
    customer: usize,
    points: i64,
    activates_on: Date,
    state: HoldState,
}

/// The reference: plain vectors and loops, no shortcuts shared with the engine.
#[derive(Default)]
struct Model {
    members: Vec<ModelMember>,
    orders: Vec<ModelOrder>,
    holds: Vec<ModelHold>,
    allow_debt: bool,
}

impl Model {
    fn credit(&mut self, customer: usize, points: i64, expires_on: Option<Date>) {
        let m = &mut self.members[customer];
        let repaid = m.debt.min(points);
        m.debt -= repaid;
        m.balance += points;
        m.lots.push(ModelLot { remaining: points - repaid, expires_on });
    }

    /// Debits soonest expiry first; returns false (changing nothing) when refused.
    fn debit(&mut self, customer: usize, points: i64, today: Date, refuse_shortfall: bool) -> bool {
        let allow_debt = self.allow_debt;
        let m = &mut self.members[customer];
        let mut order: Vec<usize> = (0..m.lots.len())
            .filter(|&i| m.lots[i].remaining > 0 && m.lots[i].expires_on.is_none_or(|d| d >= today))
            .collect();
        order.sort_by_key(|&i| (m.lots[i].expires_on.is_none(), m.lots[i].expires_on, i));
        let spendable: i64 = order.iter().map(|&i| m.lots[i].remaining).sum::<i64>() - m.debt;
        let missing = (points - spendable.max(0)).max(0);
        if missing > 0 && refuse_shortfall && !allow_debt {
            return false;
        }
        let mut left = points - missing;
        for i in order {
            let take = m.lots[i].remaining.min(left);
            m.lots[i].remaining -= take;
            left -= take;
        }
        let debt = if allow_debt { missing } else { 0 };
        m.debt += debt;
        m.balance -= points - missing + debt;
        true
    }

    fn expire(&mut self, today: Date) {
        for m in &mut self.members {
            for lot in &mut m.lots {
                if lot.remaining > 0 && lot.expires_on.is_some_and(|d| d < today) {
                    m.balance -= lot.remaining;
                    lot.remaining = 0;
                }
            }
        }
    }

    /// Each earning of the order separately, in the order they were made: pending points shrink (all of them:
    /// voided), credited ones are debited.
    fn claw_back(&mut self, index: usize, today: Date) {
        let o = self.orders[index].clone();
        for (e, earning) in o.earnings.iter().enumerate() {
            let target = if o.void || o.total == 0 { earning.points } else { earning.points * o.refunded / o.total };
            let due = target - earning.clawed;
            if due <= 0 {
                continue;
            }
            match earning.hold.map(|h| self.holds[h].state.clone()) {
                Some(HoldState::Pending) => {
                    let h = &mut self.holds[earning.hold.unwrap_or_default()];
                    h.points -= due.min(h.points);
                    if h.points == 0 {
                        h.state = HoldState::Voided;
                    }
                }
                Some(HoldState::Voided) => continue,
                Some(HoldState::Posted) | None => {
                    self.debit(o.customer, due, today, false);
                }
            }
            self.orders[index].earnings[e].clawed += due;
        }
    }

    /// What the capped rule gives a customer today.
    fn bonus(&mut self, customer: usize, today: Date) -> i64 {
        let days = &mut self.members[customer].bonus_days;
        let used: i64 = days.iter().filter(|(d, _)| *d == today).map(|(_, p)| p).sum();
        let given = BONUS.min(BONUS_CAP - used).max(0);
        days.push((today, given));
        given
    }

    fn pending(&self, customer: usize) -> i64 {
        self.holds.iter().filter(|h| h.customer == customer && h.state == HoldState::Pending).map(|h| h.points).sum()
    }

    /// The job: pending points whose day has come become lots expiring from today.
    fn activate(&mut self, today: Date, expires_on: Option<Date>) {
        let mut due: Vec<usize> = (0..self.holds.len())
            .filter(|&i| self.holds[i].state == HoldState::Pending && self.holds[i].activates_on <= today)
            .collect();
        due.sort_by_key(|&i| (self.holds[i].activates_on, i));
        for i in due {
            self.holds[i].state = HoldState::Posted;
            let (customer, points) = (self.holds[i].customer, self.holds[i].points);
            self.credit(customer, points, expires_on);
        }
    }
}

struct Harness {
    app: app::App,
    clock: Arc<ManualClock>,
    scope: Scope,
    program: ProgramId,
    last_keyed: Option<(Command, Stored, Timestamp)>,
    sequence: usize,
    expiry_days: i32,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn new(db: Db, allow_debt: bool, expiry_days: i32) -> Option<Harness> {
        let dir = tempfile::tempdir().unwrap();
        let database = database(db, dir.path(), "ledger model")?;
        let clock = Arc::new(ManualClock::at("2025-01-01T12:00:00Z".parse().unwrap()));
        let app = app::start(&database, clock.clone(), Default::default(), ApiConfig::default(), None).await.unwrap();
        let project =
            fidelis::admin::create_project(fidelis::admin::Ports::of_engine(&app.engine), "model", "EUR", "UTC")
                .await
                .unwrap();
        let scope = Scope { project: Arc::new(project), actor: "model".into(), request_id: String::new() };
        let mut h = Harness {
            app,
            clock,
            scope,
            program: ProgramId::from_trusted(String::new()),
            last_keyed: None,
            sequence: 0,
            expiry_days,
            _dir: dir,
        };
        let draft = ProgramDraft {
            name: Some("Model".into()),
            earning: Some(Some(EarningRate::new(100, 1).unwrap())),
            join_policy: Some(JoinPolicy::AutoOnFirstOrder),
            expiry: Some(ExpiryPolicy::AfterDays { days: expiry_days, round_to: None }),
            allow_negative_balance: Some(allow_debt),
            ..ProgramDraft::default()
        };
        let Outcome::Programs(programs::Outcome { program, .. }) =
            h.run(Action::Programs(programs::Command::Create(draft))).await
        else {
            panic!("program")
        };
        h.program = program.id;
        let capped = RuleDraft {
            name: Some("Capped".into()),
            trigger: Some(Trigger::OrderPaid),
            amount: Some(Amount::Fixed { points: Points::from_stored(BONUS) }),
            caps: Some(Caps { per_customer_day: Some(Points::from_stored(BONUS_CAP)), ..Caps::default() }),
            ..RuleDraft::default()
        };
        let held = RuleDraft {
            name: Some("Held".into()),
            trigger: Some(Trigger::OrderPaid),
            amount: Some(Amount::Proportional {
                every: Money::new(HELD_EVERY).unwrap(),
                points: Points::from_stored(1),
                base: AmountBase::AfterDiscounts,
            }),
            pending_days: Some(Some(HELD_DAYS)),
            ..RuleDraft::default()
        };
        for draft in [capped, held] {
            let command = programs::Command::CreateRule { program: h.program.clone(), draft: Box::new(draft) };
            let outcome = h.run(Action::Programs(command)).await;
            assert!(matches!(outcome, Outcome::Programs(_)), "rule: {outcome:?}");
        }
        for c in 0..CUSTOMERS {
            let customer = CustomerInput {
                reference: Some(source(c)),
                patch: CustomerPatch::default(),
                when_missing: WhenMissing::Create,
            };
            h.run(Action::Members(members::Command::Enrol {
                program: h.program.clone(),
                customer: Box::new(customer),
                card_code: None,
            }))
            .await;
        }
        Some(h)
    }

    /// Runs an action with a fresh idempotency key, remembering it for `Op::Retry`.
    async fn run(&mut self, action: Action) -> Outcome {
        self.sequence += 1;
        let idempotency =
            Some(IdempotencyRequest { key: format!("k-{}", self.sequence), request_hash: format!("{action:?}") });
        let command = Command { scope: self.scope.clone(), idempotency, action };
        let answer = self.app.engine.execute(command.clone()).await.expect("the engine answers");
        let stored = answer.stored.clone().expect("a keyed answer is stored");
        self.last_keyed = Some((command, stored, self.clock.now()));
        answer.outcome
    }

    /// The last usable day of points earned `today` under the program's policy.
    fn expiry(&self, today: Date) -> Option<Date> {
        fidelis_core::calendar::add_days(today, self.expiry_days)
    }

    fn today(&self) -> Date {
        self.clock.now_date()
    }

    async fn check(&self, model: &Model) {
        let reads = self.app.engine.reads();
        let project = &self.scope.project.id;
        for (c, expected) in model.members.iter().enumerate() {
            let member =
                reads.membership(project, &self.program, &MemberRef::Customer(source(c))).await.unwrap().unwrap();
            let lots = reads.lot_list(project, &member.id).await.unwrap();
            check_identities(&member, &lots).unwrap();
            let entries = reads.entry_list(project, &member.id).await.unwrap();
            assert_eq!(
                entries.iter().map(|e| e.points.value()).sum::<i64>(),
                member.balance.value(),
                "entries add up to the balance"
            );
            assert_eq!(
                (member.balance.value(), member.debt.value()),
                (expected.balance, expected.debt),
                "customer {c}"
            );
            let remaining: Vec<i64> = lots.iter().map(|l| l.remaining.value()).collect();
            let modelled: Vec<i64> = expected.lots.iter().map(|l| l.remaining).collect();
            assert_eq!(remaining, modelled, "lots of customer {c}");
            assert_eq!(member.pending.value(), model.pending(c), "pending points of customer {c}");
        }
    }
}

trait LocalDate {
    fn now_date(&self) -> Date;
}

impl LocalDate for ManualClock {
    fn now_date(&self) -> Date {
        self.now().to_zoned(jiff::tz::TimeZone::UTC).date()
    }
}

fn source(c: usize) -> CustomerRef {
    CustomerRef::Source(format!("m-{c}"))
}

async fn step(h: &mut Harness, model: &mut Model, op: &Op) {
    let today = h.today();
    match op {
        Op::Earn { customer, amount } => {
            let n = model.orders.len();
            let draft = OrderDraft {
                source_id: Some(format!("o-{n}")),
                status: Some(OrderStatus::Paid),
                lines: Some(OrderLines::parse(Some(*amount), None, vec![]).unwrap().into()),
                ..OrderDraft::default()
            };
            let customer_input = CustomerInput {
                reference: Some(source(*customer)),
                patch: CustomerPatch::default(),
                when_missing: WhenMissing::Create,
            };
            let input = OrderInput { reference: None, customer: Some(customer_input), draft, explain: false };
            h.run(Action::Orders(orders::Command::Upsert(Box::new(input)))).await;
            let mut earnings = Vec::new();
            let earned = amount / 100;
            if earned > 0 {
                model.credit(*customer, earned, h.expiry(today));
                earnings.push(ModelEarning { points: earned, clawed: 0, hold: None });
            }
            let bonus = model.bonus(*customer, today);
            if bonus > 0 {
                model.credit(*customer, bonus, h.expiry(today));
                earnings.push(ModelEarning { points: bonus, clawed: 0, hold: None });
            }
            let held = amount / HELD_EVERY;
            if held > 0 {
                let activates_on = fidelis_core::calendar::add_days(today, i32::from(HELD_DAYS)).unwrap();
                model.holds.push(ModelHold {
                    customer: *customer,
                    points: held,
                    activates_on,
                    state: HoldState::Pending,
                });
                earnings.push(ModelEarning { points: held, clawed: 0, hold: Some(model.holds.len() - 1) });
            }
            model.orders.push(ModelOrder {
                customer: *customer,
                total: *amount,
                refunded: 0,
                earnings,
                void: false,
                canceled: false,
            });
        }
        Op::Add { customer, points, expires_in_days } => {
            let expires_on = expires_in_days.and_then(|d| fidelis_core::calendar::add_days(today, d));
            let adjustment = PointsAdjustment {
                program: h.program.clone(),
                member: MemberRef::Customer(source(*customer)),
                direction: Direction::Add,
                points: Points::positive(*points).unwrap(),
                reason: "model".into(),
                expires_on,
            };
            let outcome = h.run(Action::Members(members::Command::Adjust(adjustment))).await;
            // A last usable day already past is refused; today or later is credited.
            let accepted = expires_in_days.is_none_or(|d| d >= 0);
            assert_eq!(
                matches!(outcome, Outcome::Members(members::Outcome::Points { .. })),
                accepted,
                "add expiring in {expires_in_days:?}"
            );
            if accepted {
                model.credit(*customer, *points, expires_on.or(h.expiry(today)));
            }
        }
        Op::Remove { customer, points } => {
            let adjustment = PointsAdjustment {
                program: h.program.clone(),
                member: MemberRef::Customer(source(*customer)),
                direction: Direction::Remove,
                points: Points::positive(*points).unwrap(),
                reason: "model".into(),
                expires_on: None,
            };
            let outcome = h.run(Action::Members(members::Command::Adjust(adjustment))).await;
            let applied = model.debit(*customer, *points, today, true);
            assert_eq!(
                matches!(outcome, Outcome::Members(members::Outcome::Points { .. })),
                applied,
                "remove {points}: {outcome:?}"
            );
        }
        Op::Refund { order, percent } => {
            let Some(o) = model.orders.get(*order).cloned() else { return };
            let amount = (o.total - o.refunded) * percent / 100;
            if amount == 0 {
                return;
            }
            let outcome = h
                .run(Action::Orders(orders::Command::Refund {
                    order: OrderRef::Source(format!("o-{order}")),
                    amount: Money::new(amount).unwrap(),
                }))
                .await;
            let accepted = !o.void && o.refunded + amount <= o.total;
            assert_eq!(matches!(outcome, Outcome::Orders(_)), accepted, "refund {amount} of {o:?}: {outcome:?}");
            if accepted {
                model.orders[*order].refunded += amount;
                model.orders[*order].void = model.orders[*order].refunded == o.total;
                model.claw_back(*order, today);
            }
        }
        Op::Cancel { order } => {
            let Some(o) = model.orders.get(*order).cloned() else { return };
            let draft = OrderDraft {
                source_id: Some(format!("o-{order}")),
                status: Some(OrderStatus::Canceled),
                ..OrderDraft::default()
            };
            let outcome = h
                .run(Action::Orders(orders::Command::Upsert(Box::new(OrderInput {
                    reference: None,
                    customer: None,
                    draft,
                    explain: false,
                }))))
                .await;
            let fully_refunded = o.void && !o.canceled;
            assert_eq!(matches!(outcome, Outcome::Orders(_)), !fully_refunded, "cancel {o:?}: {outcome:?}");
            if !o.void {
                model.orders[*order].void = true;
                model.orders[*order].canceled = true;
                model.claw_back(*order, today);
            }
        }
        Op::Advance { days } => {
            let next = h.clock.now().checked_add(SignedDuration::from_hours(24 * days)).unwrap();
            h.clock.set(next);
            h.app.engine.run_due_jobs().await.unwrap();
            let today = h.today();
            model.activate(today, h.expiry(today));
            model.expire(today);
        }
        Op::Retry => {
            let Some((command, first, at)) = h.last_keyed.clone() else { return };
            if h.clock.now().duration_since(at) > SignedDuration::from_hours(24) {
                return; // Keys are promised for 24 hours; older ones may have been pruned by the jobs.
            }
            match h.app.engine.execute(command).await.unwrap().outcome {
                Outcome::Replayed(stored) => assert_eq!(stored, first, "a retry replays the first answer"),
                other => panic!("a retry must replay, got {other:?}"),
            }
        }
    }
}

fn run_case(db: Db, allow_debt: bool, expiry_days: i32, ops: &[Op]) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let Some(mut h) = Harness::new(db, allow_debt, expiry_days).await else { return };
        let members = vec![ModelMember::default(); CUSTOMERS];
        let mut model = Model { members, orders: Vec::new(), holds: Vec::new(), allow_debt };
        for op in ops {
            step(&mut h, &mut model, op).await;
            h.check(&model).await;
        }
        h.app.shutdown().await;
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_ledger_matches_the_reference_model_after_every_step_on_sqlite(
        allow_debt in any::<bool>(), expiry_days in 1_i32..60, ops in proptest::collection::vec(op(), 1..40)
    ) {
        run_case(Db::Sqlite, allow_debt, expiry_days, &ops);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn the_ledger_matches_the_reference_model_after_every_step_on_postgres(
        allow_debt in any::<bool>(), expiry_days in 1_i32..60, ops in proptest::collection::vec(op(), 1..30)
    ) {
        run_case(Db::Postgres, allow_debt, expiry_days, &ops);
    }
}

#[test]
fn the_model_debits_soonest_expiry_first() {
    let mut m = Model { members: vec![ModelMember::default()], ..Model::default() };
    let today = Date::constant(2025, 1, 1);
    m.credit(0, 10, None);
    m.credit(0, 10, Some(Date::constant(2025, 2, 1)));
    assert!(m.debit(0, 15, today, true));
    assert_eq!(m.members[0].lots.iter().map(|l| l.remaining).collect::<Vec<_>>(), vec![5, 0]);
    assert!(!m.debit(0, 6, today, true));
}
