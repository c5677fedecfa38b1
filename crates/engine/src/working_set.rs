//! The working set of one batch: journaled tables of the rows its commands loaded and changed, with the
//! secondary indexes (source ids, card codes, a customer's memberships, a membership's lots). Loaders
//! (`load_*`, async) fetch what is not known yet, in bulk; getters borrow; mutations are journaled, so
//! `rollback_command` undoes a rejected command exactly. Adding a table is one field, one line in
//! `journals` and one in `changes`.

use crate::port::{
    ChangeSet, CounterDelta, CounterKey, CustomerRef, IdempotencyRecord, Loads, MemberRef, OrderRef, OutboxEvent,
    StoreResult,
};
use crate::table::{Journal, Log, Table};
use fidelis_core::NewIds;
use fidelis_core::counter::Counter;
use fidelis_core::customer::Customer;
use fidelis_core::domain_event::DomainEvent;
use fidelis_core::earning::RuleSet;
use fidelis_core::event::CustomEvent;
use fidelis_core::ids::{CustomerId, HoldId, LotId, MembershipId, OrderId, OutboxId, ProgramId, ProjectId, SegmentId};
use fidelis_core::ledger::hold::Hold;
use fidelis_core::ledger::{Entry, Lot, Membership, Posting};
use fidelis_core::order::Order;
use fidelis_core::program::Program;
use fidelis_core::segment::{CompiledSegment, Segment};
use jiff::Timestamp;
use jiff::civil::Date;
use std::collections::{HashMap, HashSet};

use std::sync::Arc;

pub type SourceKey = (ProjectId, String);

/// A membership's indexed due columns as loaded: next expiry, tier status end, next occasion.
type DueColumns = (Option<Date>, Option<Date>, Option<jiff::Timestamp>);

#[derive(Default)]
pub struct WorkingSet {
    pub customers: Table<CustomerId, Customer>,
    pub customer_by_source: Table<SourceKey, CustomerId>,
    pub orders: Table<OrderId, Order>,
    pub order_by_source: Table<SourceKey, OrderId>,
    pub events: Log<CustomEvent>,
    pub event_by_client: Table<SourceKey, CustomEvent>,
    pub programs: Table<ProgramId, Program>,
    pub memberships: Table<MembershipId, Membership>,
    /// `next_expiry` of memberships as loaded: the flush writes it only where it changed.
    expiry_loaded: HashMap<MembershipId, DueColumns>,
    /// Memberships of customers as loaded (complete lists), and those the batch created.
    memberships_loaded: HashMap<CustomerId, Vec<MembershipId>>,
    pub memberships_new: Table<CustomerId, Vec<MembershipId>>,
    pub membership_by_card: Table<SourceKey, MembershipId>,
    pub lots: Table<LotId, Lot>,
    /// Open lots of memberships as loaded, and lots the batch created.
    lots_loaded: HashMap<MembershipId, Vec<LotId>>,
    pub lots_new: Table<MembershipId, Vec<LotId>>,
    /// Holds (pending points) of the memberships in `holds_loaded`, and those the batch placed.
    pub holds: Table<HoldId, Hold>,
    holds_loaded: HashSet<MembershipId>,
    pub entries: Log<Entry>,
    /// Rule-set versions the batch made.
    pub rule_sets: Log<RuleSet>,
    pub tier_moves: Log<fidelis_core::tier::TierHistoryEntry>,
    pub idempotency: Table<SourceKey, IdempotencyRecord>,
    pub pruned: Log<SourceKey>,
    /// Events for the outbox, in the order they happened; ids are drawn when the batch is sealed.
    outbox: Log<(ProjectId, DomainEvent, Timestamp)>,
    /// The outbox events with their ids (`seal_outbox`).
    sealed: Vec<OutboxEvent>,
    pub erased: Log<CustomerId>,
    pub segments: Table<SegmentId, Segment>,
    /// Net membership changes of the batch: `Some(since)` entered, `None` left.
    pub segment_members: Table<(SegmentId, CustomerId), Option<Timestamp>>,
    /// Segment lists of customers the batch holds only without their aggregates.
    pub segment_only: Table<CustomerId, Vec<SegmentId>>,
    pub counters: Table<CounterKey, Counter>,
    /// `used` of each counter as loaded: the flush writes the difference.
    counters_loaded: HashMap<CounterKey, i64>,
    programs_loaded: HashSet<ProjectId>,
    segments_loaded: HashSet<ProjectId>,
    /// Compiled dynamic segments per project, for this batch (dropped when a segment changes).
    pub compiled: HashMap<ProjectId, Arc<Vec<CompiledSegment>>>,
    /// Whether the batch's prefetch is done: customer loads after it lock out of the global order.
    prefetch_done: bool,
    /// Customer loads after the prefetch (on PostgreSQL: locks out of order; should stay rare).
    pub late_customer_loads: u64,
}

fn source(project: &ProjectId, text: &str) -> SourceKey {
    (project.clone(), text.to_owned())
}

impl WorkingSet {
    pub fn new() -> WorkingSet {
        WorkingSet::default()
    }

    fn journals(&mut self) -> Vec<&mut dyn Journal> {
        vec![
            &mut self.customers,
            &mut self.customer_by_source,
            &mut self.orders,
            &mut self.order_by_source,
            &mut self.events,
            &mut self.event_by_client,
            &mut self.programs,
            &mut self.memberships,
            &mut self.memberships_new,
            &mut self.membership_by_card,
            &mut self.lots,
            &mut self.lots_new,
            &mut self.holds,
            &mut self.entries,
            &mut self.rule_sets,
            &mut self.tier_moves,
            &mut self.idempotency,
            &mut self.pruned,
            &mut self.outbox,
            &mut self.erased,
            &mut self.segments,
            &mut self.segment_members,
            &mut self.segment_only,
            &mut self.counters,
        ]
    }

    /// Starts a command: everything it changes can be undone until the next `begin_command`.
    pub fn begin_command(&mut self) {
        self.journals().into_iter().for_each(|j| j.begin());
    }

    pub fn rollback_command(&mut self) {
        self.journals().into_iter().for_each(|j| j.undo());
        self.compiled.clear();
    }

    /// Marks the end of the batch's prefetch.
    pub fn prefetched(&mut self) {
        self.prefetch_done = true;
    }

    // ---- customers ---------------------------------------------------------------------------------

    /// The id a reference names, when the batch knows it.
    pub fn customer_id(&self, project: &ProjectId, reference: &CustomerRef) -> Option<CustomerId> {
        match reference {
            CustomerRef::Id(id) => Some(id.clone()),
            CustomerRef::Source(s) => self.customer_by_source.get(&source(project, s)).cloned(),
        }
    }

    pub fn customer(&self, project: &ProjectId, reference: &CustomerRef) -> Option<&Customer> {
        let id = self.customer_id(project, reference)?;
        self.customers.get(&id).filter(|c| &c.project_id == project)
    }

    fn knows_customer(&self, project: &ProjectId, reference: &CustomerRef) -> bool {
        match reference {
            CustomerRef::Id(id) => self.customers.knows(id),
            CustomerRef::Source(s) => self.customer_by_source.knows(&source(project, s)),
        }
    }

    /// Loads the customers named (by id or source id) that the batch does not know yet, in one call.
    pub async fn load_customers(&mut self, s: &mut dyn Loads, named: &[(ProjectId, CustomerRef)]) -> StoreResult<()> {
        let (mut ids, mut sources) = (Vec::new(), Vec::new());
        for (project, reference) in named.iter().filter(|(p, r)| !self.knows_customer(p, r)) {
            match reference {
                CustomerRef::Id(id) => ids.push(id.clone()),
                CustomerRef::Source(text) => sources.push(source(project, text)),
            }
        }
        if ids.is_empty() && sources.is_empty() {
            return Ok(());
        }
        ids.sort();
        ids.dedup();
        sources.sort();
        sources.dedup();
        if self.prefetch_done {
            self.late_customer_loads += 1;
        }
        let rows = s.customers(&ids, &sources).await?;
        self.absorb_customers(rows);
        ids.into_iter().for_each(|id| self.customers.absorb(id, None));
        sources.into_iter().for_each(|key| self.customer_by_source.absorb(key, None));
        Ok(())
    }

    pub async fn load_customer(
        &mut self,
        s: &mut dyn Loads,
        project: &ProjectId,
        reference: &CustomerRef,
    ) -> StoreResult<()> {
        self.load_customers(s, &[(project.clone(), reference.clone())]).await
    }

    pub fn absorb_customers(&mut self, rows: Vec<Customer>) {
        for mut c in rows {
            if self.customers.knows(&c.id) {
                continue;
            }
            // An earlier command of the batch may have changed this customer's segments without loading it.
            if let Some(segments) = self.segment_only.get(&c.id) {
                c.segments = segments.clone();
            }
            if let Some(text) = &c.source_id {
                self.customer_by_source.absorb(source(&c.project_id, text), Some(c.id.clone()));
            }
            self.customers.absorb(c.id.clone(), Some(c));
        }
    }

    pub fn put_customer(&mut self, c: Customer) {
        if let Some(text) = &c.source_id {
            let key = source(&c.project_id, text);
            if self.customer_by_source.get(&key) != Some(&c.id) {
                self.customer_by_source.put(key, c.id.clone());
            }
        }
        self.customers.put(c.id.clone(), c);
    }

    /// Records an erasure: the old `source_id` stops naming the customer, and the flush clears the
    /// metadata of their events (orders are rewritten by the decision).
    pub fn erase_customer(&mut self, erased: Customer, old_source: Option<&str>) {
        if let Some(text) = old_source {
            self.customer_by_source.remove(source(&erased.project_id, text));
        }
        self.erased.push(erased.id.clone());
        self.put_customer(erased);
    }

    // ---- orders ------------------------------------------------------------------------------------

    pub fn order_id(&self, project: &ProjectId, reference: &OrderRef) -> Option<OrderId> {
        match reference {
            OrderRef::Id(id) => Some(id.clone()),
            OrderRef::Source(s) => self.order_by_source.get(&source(project, s)).cloned(),
        }
    }

    pub fn order(&self, project: &ProjectId, reference: &OrderRef) -> Option<&Order> {
        let id = self.order_id(project, reference)?;
        self.orders.get(&id).filter(|o| &o.project_id == project)
    }

    /// Loads the named orders the batch does not know yet.
    pub async fn load_orders(&mut self, s: &mut dyn Loads, named: &[(ProjectId, OrderRef)]) -> StoreResult<()> {
        let (mut ids, mut sources) = (Vec::new(), Vec::new());
        for (project, reference) in named {
            match reference {
                OrderRef::Id(id) if !self.orders.knows(id) => ids.push(id.clone()),
                OrderRef::Source(text) if !self.order_by_source.knows(&source(project, text)) => {
                    sources.push(source(project, text));
                }
                _ => {}
            }
        }
        if ids.is_empty() && sources.is_empty() {
            return Ok(());
        }
        ids.sort();
        ids.dedup();
        sources.sort();
        sources.dedup();
        let rows = s.orders(&ids, &sources).await?;
        self.absorb_orders(rows);
        ids.into_iter().for_each(|id| self.orders.absorb(id, None));
        sources.into_iter().for_each(|key| self.order_by_source.absorb(key, None));
        Ok(())
    }

    pub fn absorb_orders(&mut self, rows: Vec<Order>) {
        for o in rows {
            if let Some(text) = &o.source_id {
                self.order_by_source.absorb(source(&o.project_id, text), Some(o.id.clone()));
            }
            self.orders.absorb(o.id.clone(), Some(o));
        }
    }

    pub fn put_order(&mut self, o: Order) {
        if let Some(text) = &o.source_id {
            let key = source(&o.project_id, text);
            if self.order_by_source.get(&key) != Some(&o.id) {
                self.order_by_source.put(key, o.id.clone());
            }
        }
        self.orders.put(o.id.clone(), o);
    }

    // ---- events ------------------------------------------------------------------------------------

    pub fn event_by_client_id(&self, project: &ProjectId, client_id: &str) -> Option<&CustomEvent> {
        self.event_by_client.get(&source(project, client_id))
    }

    pub async fn load_events(&mut self, s: &mut dyn Loads, keys: &[SourceKey]) -> StoreResult<()> {
        let mut missing: Vec<SourceKey> = keys.iter().filter(|k| !self.event_by_client.knows(k)).cloned().collect();
        if missing.is_empty() {
            return Ok(());
        }
        missing.sort();
        missing.dedup();
        for e in s.events_by_client_id(&missing).await? {
            if let Some(client) = &e.client_event_id {
                self.event_by_client.absorb(source(&e.project_id, client), Some(e.clone()));
            }
        }
        missing.into_iter().for_each(|k| self.event_by_client.absorb(k, None));
        Ok(())
    }

    pub fn push_event(&mut self, e: CustomEvent) {
        if let Some(client) = &e.client_event_id {
            self.event_by_client.put(source(&e.project_id, client), e.clone());
        }
        self.events.push(e);
    }

    // ---- programs ----------------------------------------------------------------------------------

    /// Loads the projects' programs (once per batch), locking those in `lock`.
    pub async fn load_programs(
        &mut self,
        s: &mut dyn Loads,
        projects: &[ProjectId],
        lock: &[ProgramId],
    ) -> StoreResult<()> {
        let missing: Vec<ProjectId> = projects.iter().filter(|p| !self.programs_loaded.contains(*p)).cloned().collect();
        if missing.is_empty() && lock.is_empty() {
            return Ok(());
        }
        for p in s.programs(&missing, lock).await? {
            self.programs.absorb(p.id.clone(), Some(p));
        }
        self.programs_loaded.extend(missing);
        Ok(())
    }

    /// The project's programs in id order (loaded with `load_programs`).
    pub fn programs_of(&self, project: &ProjectId) -> Vec<&Program> {
        let mut list: Vec<&Program> = self.programs.values().filter(|p| &p.project_id == project).collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list
    }

    pub fn program(&self, project: &ProjectId, id: &ProgramId) -> Option<&Program> {
        self.programs.get(id).filter(|p| &p.project_id == project)
    }

    pub fn put_program(&mut self, p: Program) {
        self.programs.put(p.id.clone(), p);
    }

    // ---- memberships -------------------------------------------------------------------------------

    /// Loads the memberships of these customers, and those named by id or card code, that are unknown.
    pub async fn load_memberships(
        &mut self,
        s: &mut dyn Loads,
        customers: &[CustomerId],
        members: &[(ProjectId, MemberRef)],
    ) -> StoreResult<()> {
        let mut of: Vec<CustomerId> =
            customers.iter().filter(|c| !self.memberships_loaded.contains_key(*c)).cloned().collect();
        let (mut ids, mut cards) = (Vec::new(), Vec::new());
        for (project, member) in members {
            match member {
                MemberRef::Id(id) if !self.memberships.knows(id) => ids.push(id.clone()),
                MemberRef::Card(code) if !self.membership_by_card.knows(&source(project, code)) => {
                    cards.push(source(project, code));
                }
                MemberRef::Customer(reference) => {
                    if let Some(id) =
                        self.customer_id(project, reference).filter(|c| !self.memberships_loaded.contains_key(c))
                    {
                        of.push(id);
                    }
                }
                _ => {}
            }
        }
        if of.is_empty() && ids.is_empty() && cards.is_empty() {
            return Ok(());
        }
        of.sort_dedup();
        ids.sort_dedup();
        cards.sort_dedup();
        let rows = s.memberships(&ids, &cards, &of).await?;
        let mut lists: HashMap<&CustomerId, Vec<MembershipId>> = of.iter().map(|c| (c, Vec::new())).collect();
        for m in &rows {
            if let Some(list) = lists.get_mut(&m.customer_id) {
                list.push(m.id.clone());
            }
        }
        for (c, list) in lists {
            self.memberships_loaded.insert(c.clone(), list);
        }
        for m in rows {
            if !self.memberships.knows(&m.id) {
                self.expiry_loaded.insert(m.id.clone(), (m.next_expiry, m.tier.until, m.celebrate_at));
                self.membership_by_card.absorb(source(&m.project_id, &m.card_code), Some(m.id.clone()));
                self.memberships.absorb(m.id.clone(), Some(m));
            }
        }
        ids.into_iter().for_each(|id| self.memberships.absorb(id, None));
        cards.into_iter().for_each(|key| self.membership_by_card.absorb(key, None));
        Ok(())
    }

    /// A customer the batch created has no stored memberships: no need to ask.
    pub fn mark_without_memberships(&mut self, customer: &CustomerId) {
        self.memberships_loaded.entry(customer.clone()).or_default();
    }

    /// The customer's memberships (after `load_memberships` of the customer).
    pub fn memberships_of(&self, customer: &CustomerId) -> Vec<&Membership> {
        let loaded = self.memberships_loaded.get(customer).map(Vec::as_slice).unwrap_or(&[]);
        let new = self.memberships_new.get(customer).map(Vec::as_slice).unwrap_or(&[]);
        loaded.iter().chain(new).filter_map(|id| self.memberships.get(id)).collect()
    }

    /// A member of `program` by membership id, card code or customer (loaded with `load_memberships`).
    pub fn member(&self, project: &ProjectId, program: &ProgramId, member: &MemberRef) -> Option<&Membership> {
        let found = match member {
            MemberRef::Id(id) => self.memberships.get(id),
            MemberRef::Card(code) => {
                self.membership_by_card.get(&source(project, code)).and_then(|id| self.memberships.get(id))
            }
            MemberRef::Customer(reference) => {
                let customer = self.customer_id(project, reference)?;
                self.memberships_of(&customer).into_iter().find(|m| &m.program_id == program)
            }
        };
        found.filter(|m| &m.project_id == project && &m.program_id == program)
    }

    /// A card code is free when no committed or batch membership of the project holds it (after
    /// `load_memberships` with the card).
    pub fn card_code_is_free(&self, project: &ProjectId, code: &str) -> bool {
        self.membership_by_card.get(&source(project, code)).is_none()
    }

    pub fn put_membership(&mut self, m: Membership) {
        let card = source(&m.project_id, &m.card_code);
        if self.membership_by_card.get(&card) != Some(&m.id) {
            self.membership_by_card.put(card, m.id.clone());
        }
        if !self.memberships.knows(&m.id) {
            let customer = m.customer_id.clone();
            if !self.memberships_new.update(&customer, |l| l.push(m.id.clone())) {
                self.memberships_new.put(customer, vec![m.id.clone()]);
            }
        }
        self.memberships.put(m.id.clone(), m);
    }

    // ---- holds -------------------------------------------------------------------------------------

    /// Loads every hold of these memberships (once per membership and batch).
    pub async fn load_holds(&mut self, s: &mut dyn Loads, memberships: &[MembershipId]) -> StoreResult<()> {
        let missing: Vec<MembershipId> =
            memberships.iter().filter(|m| !self.holds_loaded.contains(*m)).cloned().collect();
        if missing.is_empty() {
            return Ok(());
        }
        for hold in s.holds(&missing).await? {
            if !self.holds.knows(&hold.id) {
                self.holds.absorb(hold.id.clone(), Some(hold));
            }
        }
        self.holds_loaded.extend(missing);
        Ok(())
    }

    /// Adds holds a scan found (a job's due holds), keeping the batch's own versions.
    pub fn absorb_holds(&mut self, holds: Vec<Hold>) {
        for hold in holds {
            if !self.holds.knows(&hold.id) {
                self.holds.absorb(hold.id.clone(), Some(hold));
            }
        }
    }

    pub fn hold(&self, id: &HoldId) -> Option<&Hold> {
        self.holds.get(id)
    }

    pub fn put_hold(&mut self, hold: Hold) {
        self.holds.put(hold.id.clone(), hold);
    }

    // ---- lots and postings -------------------------------------------------------------------------

    /// Loads the open lots of these memberships (once per membership and batch).
    pub async fn load_lots(&mut self, s: &mut dyn Loads, memberships: &[MembershipId]) -> StoreResult<()> {
        let mut missing: Vec<MembershipId> =
            memberships.iter().filter(|m| !self.lots_loaded.contains_key(*m)).cloned().collect();
        if missing.is_empty() {
            return Ok(());
        }
        missing.sort_dedup();
        let rows = s.open_lots(&missing).await?;
        self.absorb_lots(&missing, rows);
        Ok(())
    }

    /// Lots read for these memberships (all their open lots, or a job's due lots merged later).
    pub(crate) fn absorb_lots(&mut self, memberships: &[MembershipId], rows: Vec<Lot>) {
        for m in memberships {
            let list = rows.iter().filter(|l| &l.membership_id == m).map(|l| l.id.clone()).collect();
            self.lots_loaded.insert(m.clone(), list);
        }
        for lot in rows {
            self.lots.absorb(lot.id.clone(), Some(lot));
        }
    }

    /// Open lots of a membership (all of them after `load_lots`), the batch's versions.
    pub fn open_lots(&self, membership: &MembershipId) -> Vec<&Lot> {
        let loaded = self.lots_loaded.get(membership).map(Vec::as_slice).unwrap_or(&[]);
        let new = self.lots_new.get(membership).map(Vec::as_slice).unwrap_or(&[]);
        loaded.iter().chain(new).filter_map(|id| self.lots.get(id)).filter(|l| l.remaining.is_positive()).collect()
    }

    pub fn lots_loaded(&self, membership: &MembershipId) -> bool {
        self.lots_loaded.contains_key(membership)
    }

    /// Applies a ledger posting: the new lot, the consumed lots' remainders, the wallet and the entry.
    pub fn apply_posting(&mut self, posting: Posting) {
        if let Some(lot) = posting.new_lot {
            let (membership, id) = (lot.membership_id.clone(), lot.id.clone());
            if !self.lots_new.update(&membership, |l| l.push(id.clone())) {
                self.lots_new.put(membership, vec![id.clone()]);
            }
            self.lots.put(id, lot);
        }
        for r in posting.remainders {
            self.lots.update(&r.lot_id, |lot| lot.remaining = r.remaining);
        }
        self.put_membership(posting.membership);
        self.entries.push(posting.entry);
    }

    // ---- idempotency, outbox -----------------------------------------------------------------------

    pub async fn load_idempotency(&mut self, s: &mut dyn Loads, keys: &[SourceKey]) -> StoreResult<()> {
        let mut missing: Vec<SourceKey> = keys.iter().filter(|k| !self.idempotency.knows(k)).cloned().collect();
        if missing.is_empty() {
            return Ok(());
        }
        missing.sort();
        missing.dedup();
        for r in s.idempotency(&missing).await? {
            self.idempotency.absorb((r.project_id.clone(), r.key.clone()), Some(r));
        }
        missing.into_iter().for_each(|k| self.idempotency.absorb(k, None));
        Ok(())
    }

    pub fn idempotency(&self, project: &ProjectId, key: &str) -> Option<&IdempotencyRecord> {
        self.idempotency.get(&source(project, key))
    }

    pub fn put_idempotency(&mut self, record: IdempotencyRecord) {
        self.idempotency.put((record.project_id.clone(), record.key.clone()), record);
    }

    pub fn push_outbox(&mut self, project: &ProjectId, event: DomainEvent, at: Timestamp) {
        self.outbox.push((project.clone(), event, at));
    }

    /// Gives the batch's outbox events their ids, once every command has run: per project one run of
    /// consecutive ids (`NewIds::run`) in the order the events happened, so that the store keeps each
    /// project's events of the batch as one chunk row, found by its first id.
    pub fn seal_outbox(&mut self, ids: &mut dyn NewIds) {
        let mut projects: Vec<&ProjectId> = Vec::new();
        for (project, _, _) in self.outbox.all() {
            if !projects.contains(&project) {
                projects.push(project);
            }
        }
        let mut sealed = Vec::with_capacity(self.outbox.all().len());
        for project in projects {
            let events: Vec<_> = self.outbox.all().iter().filter(|(p, _, _)| p == project).collect();
            let first = ids.run(events.len());
            for (n, (p, event, at)) in (0u128..).zip(events) {
                sealed.push(OutboxEvent::new(OutboxId::of_value(first + n), p, event.clone(), *at));
            }
        }
        self.sealed = sealed;
    }

    // ---- segments ----------------------------------------------------------------------------------

    pub async fn load_segments(
        &mut self,
        s: &mut dyn Loads,
        projects: &[ProjectId],
        lock: &[SegmentId],
    ) -> StoreResult<()> {
        let missing: Vec<ProjectId> = projects.iter().filter(|p| !self.segments_loaded.contains(*p)).cloned().collect();
        if missing.is_empty() && lock.is_empty() {
            return Ok(());
        }
        for segment in s.segments(&missing, lock).await? {
            self.segments.absorb(segment.id.clone(), Some(segment));
        }
        self.segments_loaded.extend(missing);
        Ok(())
    }

    /// The project's segments in id order (loaded with `load_segments`).
    pub fn segments_of(&self, project: &ProjectId) -> Vec<&Segment> {
        let mut list: Vec<&Segment> = self.segments.values().filter(|s| &s.project_id == project).collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list
    }

    pub fn put_segment(&mut self, segment: Segment) {
        self.compiled.remove(&segment.project_id);
        self.segments.put(segment.id.clone(), segment);
    }

    /// Records a customer entering (`Some(since)`) or leaving (`None`) a segment.
    pub fn set_member(&mut self, segment: &SegmentId, customer: &CustomerId, entered: Option<Timestamp>) {
        self.segment_members.put((segment.clone(), customer.clone()), entered);
    }

    /// Sets the segment list of a customer the batch holds only without aggregates (not written whole).
    pub fn set_segment_only(&mut self, customer: &CustomerId, segments: Vec<SegmentId>) {
        self.segment_only.put(customer.clone(), segments);
    }

    // ---- counters ----------------------------------------------------------------------------------

    /// Loads (and on PostgreSQL locks, except those read unlocked: `CounterName::is_unlocked`) counters, with
    /// the limit each is checked against.
    pub async fn load_counters(&mut self, s: &mut dyn Loads, keys: &[(CounterKey, Option<i64>)]) -> StoreResult<()> {
        let mut missing: Vec<CounterKey> =
            keys.iter().map(|(k, _)| k.clone()).filter(|k| !self.counters.knows(k)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        missing.sort();
        missing.dedup();
        let (unlocked, locked): (Vec<CounterKey>, Vec<CounterKey>) =
            missing.into_iter().partition(|k| k.name.is_unlocked());
        let mut found = if locked.is_empty() { Vec::new() } else { s.counters(&locked).await? };
        if !unlocked.is_empty() {
            found.extend(s.counters_unlocked(&unlocked).await?);
        }
        for (key, used) in found {
            let limit = keys.iter().find(|(k, _)| *k == key).and_then(|(_, l)| *l);
            self.counters_loaded.insert(key.clone(), used);
            self.counters.absorb(key, Some(Counter::new(used, limit)));
        }
        Ok(())
    }

    pub fn counter(&self, key: &CounterKey) -> Option<Counter> {
        self.counters.get(key).copied()
    }

    pub fn put_counter(&mut self, key: CounterKey, counter: Counter) {
        self.counters.put(key, counter);
    }

    // ---- flush -------------------------------------------------------------------------------------

    pub fn changes(&self) -> ChangeSet<'_> {
        ChangeSet {
            customers: self.customers.dirty().map(|(_, v)| v).collect(),
            orders: self.orders.dirty().map(|(_, v)| v).collect(),
            events: self.events.all().iter().collect(),
            programs: self.programs.dirty().map(|(_, v)| v).collect(),
            memberships: self.memberships.dirty().map(|(_, v)| v).collect(),
            membership_dues: self
                .memberships
                .dirty()
                .filter(|(id, m)| {
                    let now = (m.next_expiry, m.tier.until, m.celebrate_at);
                    self.expiry_loaded.get(*id).is_some_and(|loaded| *loaded != now)
                })
                .map(|(_, m)| crate::port::MembershipDue::of(m))
                .collect(),
            lots: self.lots.dirty().map(|(_, v)| v).collect(),
            holds: self.holds.dirty().map(|(_, v)| v).collect(),
            entries: self.entries.all().iter().collect(),
            rule_sets: self.rule_sets.all().iter().collect(),
            tier_moves: self.tier_moves.all().iter().collect(),
            idempotency: self.idempotency.dirty().map(|(_, v)| v).collect(),
            idempotency_pruned: self.pruned.all().iter().collect(),
            outbox: self.sealed.iter().collect(),
            erased_customers: self.erased.all().iter().collect(),
            segments: self.segments.dirty().map(|(_, v)| v).collect(),
            customer_segments: self
                .segment_only
                .dirty()
                .filter(|(id, _)| !self.customers.is_dirty(id))
                .map(|(id, s)| (id, s.as_slice()))
                .collect(),
            members_added: self
                .segment_members
                .dirty()
                .filter_map(|((s, c), since)| since.map(|at| (s, c, at)))
                .collect(),
            members_removed: self
                .segment_members
                .dirty()
                .filter(|(_, since)| since.is_none())
                .map(|((s, c), _)| (s, c))
                .collect(),
            counters: self
                .counters
                .dirty()
                .map(|(key, counter)| CounterDelta {
                    key: key.clone(),
                    delta: counter.used - self.counters_loaded.get(key).copied().unwrap_or(0),
                    limit: counter.limit,
                })
                .filter(|d| d.delta != 0)
                .collect(),
        }
    }
}

trait SortDedup {
    fn sort_dedup(&mut self);
}

impl<T: Ord> SortDedup for Vec<T> {
    fn sort_dedup(&mut self) {
        self.sort();
        self.dedup();
    }
}
