//! The working set of one writer batch: rows loaded for the batch's commands, overlaid with the changes
//! of the commands decided so far, and an undo journal so that a rejected command leaves no trace.
//!
//! Loads go to the database only for keys the batch has not seen; the batch's own writes stay here until
//! the single `flush` at the end. Every mutation records how to undo it; `rollback_command` replays the
//! journal backwards to the command's checkpoint.

use crate::port::{
    ChangeSet, CustomerRef, IdempotencyRecord, MemberRef, OrderRef, OutboxEvent, StoreResult, WriteSession,
};
use fidelis_core::customer::Customer;
use fidelis_core::event::CustomEvent;
use fidelis_core::ids::{CustomerId, LotId, MembershipId, OrderId, ProgramId, ProjectId, SegmentId};
use fidelis_core::ledger::{Entry, Lot, Membership, Posting};
use fidelis_core::order::Order;
use fidelis_core::program::Program;
use fidelis_core::segment::Segment;
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap, HashSet};

type SourceKey = (ProjectId, String);

/// A row as the batch sees it: `dirty` rows are written at flush.
#[derive(Clone, Debug)]
pub(crate) struct Row<T> {
    pub value: T,
    pub dirty: bool,
}

/// The open lots of one membership. `loaded` says whether the committed lots were read; lots created by
/// the batch are here either way.
#[derive(Clone, Debug, Default)]
pub(crate) struct LotSet {
    pub loaded: bool,
    pub lots: BTreeMap<LotId, Row<Lot>>,
}

#[derive(Default)]
pub(crate) struct Tables {
    pub customers: HashMap<CustomerId, Row<Customer>>,
    pub customer_by_source: HashMap<SourceKey, Option<CustomerId>>,
    pub orders: HashMap<OrderId, Row<Order>>,
    pub order_by_source: HashMap<SourceKey, Option<OrderId>>,
    pub event_by_client: HashMap<SourceKey, Option<CustomEvent>>,
    pub new_events: Vec<CustomEvent>,
    pub programs_loaded: HashSet<ProjectId>,
    pub programs: HashMap<ProgramId, Row<Program>>,
    pub memberships: HashMap<MembershipId, Row<Membership>>,
    pub memberships_of: HashMap<CustomerId, Vec<MembershipId>>,
    pub membership_by_card: HashMap<SourceKey, Option<MembershipId>>,
    pub lots: HashMap<MembershipId, LotSet>,
    pub entries: Vec<Entry>,
    pub idempotency: HashMap<SourceKey, Option<IdempotencyRecord>>,
    pub new_idempotency: Vec<IdempotencyRecord>,
    pub outbox: Vec<OutboxEvent>,
    pub erased: Vec<CustomerId>,
    pub segments_loaded: HashSet<ProjectId>,
    pub segments: HashMap<SegmentId, Row<Segment>>,
    /// Net membership changes of the batch: `Some(since)` entered, `None` left.
    pub member_changes: HashMap<(SegmentId, CustomerId), Option<Timestamp>>,
    /// Segment lists of customers the batch holds only without their aggregates.
    pub segment_only: HashMap<CustomerId, Vec<SegmentId>>,
    /// Compiled dynamic segments per project, for this batch (dropped when a segment changes).
    pub compiled: HashMap<ProjectId, std::sync::Arc<Vec<fidelis_core::segment::CompiledSegment>>>,
}

/// Customers one command changed, with their state before it (for segment upkeep).
#[derive(Default)]
pub struct Touched {
    pub customers: Vec<(CustomerId, Option<Customer>)>,
    pub loyalty: HashSet<CustomerId>,
}

type Undo = Box<dyn FnOnce(&mut Tables) + Send>;

#[derive(Default)]
pub struct WorkingSet {
    pub(crate) t: Tables,
    journal: Vec<Undo>,
    touched: Touched,
}

fn remember<K, V>(journal: &mut Vec<Undo>, map: fn(&mut Tables) -> &mut HashMap<K, V>, key: K, old: Option<V>)
where
    K: std::hash::Hash + Eq + Send + 'static,
    V: Send + 'static,
{
    journal.push(Box::new(move |t| {
        let m = map(t);
        match old {
            Some(v) => m.insert(key, v),
            None => m.remove(&key),
        };
    }));
}

impl WorkingSet {
    pub fn new() -> WorkingSet {
        WorkingSet::default()
    }

    /// Starts a command: everything it changes can be undone until `commit_command`.
    pub fn begin_command(&mut self) {
        self.journal.clear();
        self.touched = Touched::default();
        let lengths = (
            self.t.entries.len(),
            self.t.new_events.len(),
            self.t.outbox.len(),
            self.t.new_idempotency.len(),
            self.t.erased.len(),
        );
        self.journal.push(Box::new(move |t| {
            t.entries.truncate(lengths.0);
            t.new_events.truncate(lengths.1);
            t.outbox.truncate(lengths.2);
            t.new_idempotency.truncate(lengths.3);
            t.erased.truncate(lengths.4);
        }));
    }

    pub fn commit_command(&mut self) {
        self.journal.clear();
    }

    pub fn rollback_command(&mut self) {
        while let Some(undo) = self.journal.pop() {
            undo(&mut self.t);
        }
    }

    // ---- loads -------------------------------------------------------------------------------------

    pub async fn customer(
        &mut self,
        s: &mut dyn WriteSession,
        project: &ProjectId,
        reference: &CustomerRef,
    ) -> StoreResult<Option<Customer>> {
        let id = match reference {
            CustomerRef::Id(id) => {
                if !self.t.customers.contains_key(id) {
                    let rows = s.customers(std::slice::from_ref(id)).await?;
                    self.absorb_customers(rows);
                }
                Some(id.clone())
            }
            CustomerRef::Source(source) => {
                let key = (project.clone(), source.clone());
                if !self.t.customer_by_source.contains_key(&key) {
                    let rows = s.customers_by_source(std::slice::from_ref(&key)).await?;
                    self.absorb_customers(rows);
                    self.t.customer_by_source.entry(key.clone()).or_insert(None);
                }
                self.t.customer_by_source.get(&key).cloned().flatten()
            }
        };
        let found = id.and_then(|id| self.t.customers.get(&id)).map(|r| r.value.clone());
        Ok(found.filter(|c| &c.project_id == project))
    }

    pub(crate) fn absorb_customers(&mut self, rows: Vec<Customer>) {
        for mut c in rows {
            if self.t.customers.contains_key(&c.id) {
                continue;
            }
            // An earlier command of the batch may have changed this customer's segments without loading it.
            if let Some(segments) = self.t.segment_only.get(&c.id) {
                c.segments = segments.clone();
            }
            if let Some(source) = &c.source_id {
                self.t.customer_by_source.insert((c.project_id.clone(), source.clone()), Some(c.id.clone()));
            }
            self.t.customers.insert(c.id.clone(), Row { value: c, dirty: false });
        }
    }

    pub async fn order(
        &mut self,
        s: &mut dyn WriteSession,
        project: &ProjectId,
        reference: &OrderRef,
    ) -> StoreResult<Option<Order>> {
        let id = match reference {
            OrderRef::Id(id) => {
                if !self.t.orders.contains_key(id) {
                    let rows = s.orders(std::slice::from_ref(id)).await?;
                    self.absorb_orders(rows);
                }
                Some(id.clone())
            }
            OrderRef::Source(source) => {
                let key = (project.clone(), source.clone());
                if !self.t.order_by_source.contains_key(&key) {
                    let rows = s.orders_by_source(std::slice::from_ref(&key)).await?;
                    self.absorb_orders(rows);
                    self.t.order_by_source.entry(key.clone()).or_insert(None);
                }
                self.t.order_by_source.get(&key).cloned().flatten()
            }
        };
        let found = id.and_then(|id| self.t.orders.get(&id)).map(|r| r.value.clone());
        Ok(found.filter(|o| &o.project_id == project))
    }

    pub(crate) fn absorb_orders(&mut self, rows: Vec<Order>) {
        for o in rows {
            if self.t.orders.contains_key(&o.id) {
                continue;
            }
            if let Some(source) = &o.source_id {
                self.t.order_by_source.insert((o.project_id.clone(), source.clone()), Some(o.id.clone()));
            }
            self.t.orders.insert(o.id.clone(), Row { value: o, dirty: false });
        }
    }

    pub async fn event_by_client_id(
        &mut self,
        s: &mut dyn WriteSession,
        project: &ProjectId,
        client_id: &str,
    ) -> StoreResult<Option<CustomEvent>> {
        let key = (project.clone(), client_id.to_owned());
        if !self.t.event_by_client.contains_key(&key) {
            let rows = s.events_by_client_id(std::slice::from_ref(&key)).await?;
            self.absorb_events(rows);
            self.t.event_by_client.entry(key.clone()).or_insert(None);
        }
        Ok(self.t.event_by_client.get(&key).cloned().flatten())
    }

    pub(crate) fn absorb_events(&mut self, rows: Vec<CustomEvent>) {
        for e in rows {
            if let Some(client) = &e.client_event_id {
                self.t.event_by_client.entry((e.project_id.clone(), client.clone())).or_insert(Some(e));
            }
        }
    }

    pub async fn programs(&mut self, s: &mut dyn WriteSession, project: &ProjectId) -> StoreResult<Vec<Program>> {
        if !self.t.programs_loaded.contains(project) {
            let rows = s.programs(std::slice::from_ref(project)).await?;
            self.absorb_programs(std::slice::from_ref(project), rows);
        }
        let mut list: Vec<Program> =
            self.t.programs.values().filter(|r| &r.value.project_id == project).map(|r| r.value.clone()).collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(list)
    }

    pub(crate) fn absorb_programs(&mut self, projects: &[ProjectId], rows: Vec<Program>) {
        for p in rows {
            self.t.programs.entry(p.id.clone()).or_insert(Row { value: p, dirty: false });
        }
        self.t.programs_loaded.extend(projects.iter().cloned());
    }

    pub async fn program(
        &mut self,
        s: &mut dyn WriteSession,
        project: &ProjectId,
        id: &ProgramId,
    ) -> StoreResult<Option<Program>> {
        Ok(self.programs(s, project).await?.into_iter().find(|p| &p.id == id))
    }

    pub async fn memberships_of(
        &mut self,
        s: &mut dyn WriteSession,
        customer: &CustomerId,
    ) -> StoreResult<Vec<Membership>> {
        if !self.t.memberships_of.contains_key(customer) {
            let rows = s.memberships_of_customers(std::slice::from_ref(customer)).await?;
            self.absorb_memberships_of(std::slice::from_ref(customer), rows);
        }
        let ids = self.t.memberships_of.get(customer).cloned().unwrap_or_default();
        Ok(ids.iter().filter_map(|id| self.t.memberships.get(id)).map(|r| r.value.clone()).collect())
    }

    pub(crate) fn absorb_memberships_of(&mut self, customers: &[CustomerId], rows: Vec<Membership>) {
        for c in customers {
            self.t.memberships_of.entry(c.clone()).or_default();
        }
        for m in rows {
            let list = self.t.memberships_of.entry(m.customer_id.clone()).or_default();
            if !list.contains(&m.id) {
                list.push(m.id.clone());
            }
            self.absorb_membership(m);
        }
    }

    fn absorb_membership(&mut self, m: Membership) {
        if self.t.memberships.contains_key(&m.id) {
            return;
        }
        self.t.membership_by_card.insert((m.project_id.clone(), m.card_code.clone()), Some(m.id.clone()));
        self.t.memberships.insert(m.id.clone(), Row { value: m, dirty: false });
    }

    /// A member of `program` by membership id, card code or customer.
    pub async fn membership(
        &mut self,
        s: &mut dyn WriteSession,
        project: &ProjectId,
        program: &ProgramId,
        member: &MemberRef,
    ) -> StoreResult<Option<Membership>> {
        let found = match member {
            MemberRef::Id(id) => self.membership_by_id(s, id).await?,
            MemberRef::Card(code) => {
                let key = (project.clone(), code.clone());
                if !self.t.membership_by_card.contains_key(&key) {
                    for m in s.memberships_by_card(std::slice::from_ref(&key)).await? {
                        self.absorb_membership(m);
                    }
                    self.t.membership_by_card.entry(key.clone()).or_insert(None);
                }
                let id = self.t.membership_by_card.get(&key).cloned().flatten();
                id.and_then(|id| self.t.memberships.get(&id)).map(|r| r.value.clone())
            }
            MemberRef::Customer(reference) => match self.customer(s, project, reference).await? {
                Some(c) => self.memberships_of(s, &c.id).await?.into_iter().find(|m| &m.program_id == program),
                None => None,
            },
        };
        Ok(found.filter(|m| &m.project_id == project && &m.program_id == program))
    }

    pub async fn membership_by_id(
        &mut self,
        s: &mut dyn WriteSession,
        id: &MembershipId,
    ) -> StoreResult<Option<Membership>> {
        if !self.t.memberships.contains_key(id) {
            for m in s.memberships(std::slice::from_ref(id)).await? {
                self.absorb_membership(m);
            }
        }
        Ok(self.t.memberships.get(id).map(|r| r.value.clone()))
    }

    /// A card code is free when no committed or batch membership of the project holds it.
    pub async fn card_code_is_free(
        &mut self,
        s: &mut dyn WriteSession,
        project: &ProjectId,
        code: &str,
    ) -> StoreResult<bool> {
        let key = (project.clone(), code.to_owned());
        if !self.t.membership_by_card.contains_key(&key) {
            for m in s.memberships_by_card(std::slice::from_ref(&key)).await? {
                self.absorb_membership(m);
            }
            self.t.membership_by_card.entry(key.clone()).or_insert(None);
        }
        Ok(self.t.membership_by_card.get(&key).is_none_or(Option::is_none))
    }

    /// Open lots of a membership: committed ones (read once) and the batch's own.
    pub async fn lots(&mut self, s: &mut dyn WriteSession, membership: &MembershipId) -> StoreResult<Vec<Lot>> {
        if !self.t.lots.get(membership).is_some_and(|set| set.loaded) {
            let rows = s.open_lots(std::slice::from_ref(membership)).await?;
            self.absorb_lots(std::slice::from_ref(membership), rows);
        }
        let set = self.t.lots.get(membership);
        Ok(set
            .map(|s| s.lots.values().map(|r| r.value.clone()).filter(|l| l.remaining > 0).collect())
            .unwrap_or_default())
    }

    pub(crate) fn absorb_lots(&mut self, memberships: &[MembershipId], rows: Vec<Lot>) {
        for m in memberships {
            self.t.lots.entry(m.clone()).or_default().loaded = true;
        }
        for lot in rows {
            let set = self.t.lots.entry(lot.membership_id.clone()).or_default();
            set.lots.entry(lot.id.clone()).or_insert(Row { value: lot, dirty: false });
        }
    }

    /// Lots from a due-lots query, with the batch's newer versions taking precedence.
    pub(crate) fn merge_due_lots(&mut self, rows: Vec<Lot>) -> Vec<Lot> {
        rows.into_iter()
            .map(|lot| {
                let set = self.t.lots.entry(lot.membership_id.clone()).or_default();
                set.lots.entry(lot.id.clone()).or_insert(Row { value: lot, dirty: false }).value.clone()
            })
            .collect()
    }

    pub async fn idempotency(
        &mut self,
        s: &mut dyn WriteSession,
        project: &ProjectId,
        key: &str,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        let k = (project.clone(), key.to_owned());
        if !self.t.idempotency.contains_key(&k) {
            let rows = s.idempotency(std::slice::from_ref(&k)).await?;
            self.absorb_idempotency(rows);
            self.t.idempotency.entry(k.clone()).or_insert(None);
        }
        Ok(self.t.idempotency.get(&k).cloned().flatten())
    }

    pub(crate) fn absorb_idempotency(&mut self, rows: Vec<IdempotencyRecord>) {
        for r in rows {
            self.t.idempotency.insert((r.project_id.clone(), r.key.clone()), Some(r));
        }
    }

    // ---- mutations (journaled) ---------------------------------------------------------------------

    pub fn put_customer(&mut self, c: Customer) {
        if let Some(source) = &c.source_id {
            let key = (c.project_id.clone(), source.clone());
            let old = self.t.customer_by_source.insert(key.clone(), Some(c.id.clone()));
            remember(&mut self.journal, |t| &mut t.customer_by_source, key, old);
        }
        let id = c.id.clone();
        let old = self.t.customers.insert(id.clone(), Row { value: c, dirty: true });
        if !self.touched.customers.iter().any(|(t, _)| *t == id) {
            self.touched.customers.push((id.clone(), old.as_ref().map(|r| r.value.clone())));
        }
        remember(&mut self.journal, |t| &mut t.customers, id, old);
    }

    /// The customers this command changed so far (and whose wallets it changed), handing them over.
    pub fn take_touched(&mut self) -> Touched {
        std::mem::take(&mut self.touched)
    }

    pub fn order_in_batch(&self, id: &OrderId) -> Option<&Order> {
        self.t.orders.get(id).map(|r| &r.value)
    }

    pub fn customer_in_batch(&self, id: &CustomerId) -> Option<&Customer> {
        self.t.customers.get(id).map(|r| &r.value)
    }

    pub async fn segments(&mut self, s: &mut dyn WriteSession, project: &ProjectId) -> StoreResult<Vec<Segment>> {
        if !self.t.segments_loaded.contains(project) {
            let rows = s.segments(std::slice::from_ref(project)).await?;
            self.absorb_segments(std::slice::from_ref(project), rows);
        }
        let mut list: Vec<Segment> =
            self.t.segments.values().filter(|r| &r.value.project_id == project).map(|r| r.value.clone()).collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(list)
    }

    pub(crate) fn absorb_segments(&mut self, projects: &[ProjectId], rows: Vec<Segment>) {
        for segment in rows {
            self.t.segments.entry(segment.id.clone()).or_insert(Row { value: segment, dirty: false });
        }
        self.t.segments_loaded.extend(projects.iter().cloned());
    }

    pub fn put_segment(&mut self, segment: Segment) {
        self.t.compiled.remove(&segment.project_id);
        let id = segment.id.clone();
        let old = self.t.segments.insert(id.clone(), Row { value: segment, dirty: true });
        remember(&mut self.journal, |t| &mut t.segments, id, old);
    }

    /// Records a customer entering (`Some(since)`) or leaving (`None`) a segment.
    pub fn set_member(&mut self, segment: &SegmentId, customer: &CustomerId, entered: Option<Timestamp>) {
        let key = (segment.clone(), customer.clone());
        let old = self.t.member_changes.insert(key.clone(), entered);
        remember(&mut self.journal, |t| &mut t.member_changes, key, old);
    }

    pub fn push_outbox(&mut self, event: OutboxEvent) {
        self.t.outbox.push(event);
    }

    /// Sets the segment list of a customer the batch holds only without aggregates (not written whole).
    pub fn set_segment_only(&mut self, customer: &CustomerId, segments: Vec<SegmentId>) {
        let old = self.t.segment_only.insert(customer.clone(), segments);
        remember(&mut self.journal, |t| &mut t.segment_only, customer.clone(), old);
    }

    /// The segment list a customer has in this batch, if the batch changed it without loading them whole.
    pub fn segment_only(&self, customer: &CustomerId) -> Option<&Vec<SegmentId>> {
        self.t.segment_only.get(customer)
    }

    /// Records an erasure: the old `source_id` stops naming the customer, and the flush clears the
    /// metadata of their orders and events.
    pub fn erase_customer(&mut self, erased: Customer, old_source: Option<&str>) {
        if let Some(source) = old_source {
            let key = (erased.project_id.clone(), source.to_owned());
            let old = self.t.customer_by_source.insert(key.clone(), None);
            remember(&mut self.journal, |t| &mut t.customer_by_source, key, old);
        }
        for row in self.t.orders.values_mut().filter(|r| r.value.customer_id.as_ref() == Some(&erased.id)) {
            // Orders already in the batch are rewritten at flush, so they must lose their metadata here too.
            row.value.metadata = fidelis_core::metadata::Metadata::default();
        }
        self.t.erased.push(erased.id.clone());
        self.put_customer(erased);
    }

    pub fn put_order(&mut self, o: Order) {
        if let Some(source) = &o.source_id {
            let key = (o.project_id.clone(), source.clone());
            let old = self.t.order_by_source.insert(key.clone(), Some(o.id.clone()));
            remember(&mut self.journal, |t| &mut t.order_by_source, key, old);
        }
        let id = o.id.clone();
        let old = self.t.orders.insert(id.clone(), Row { value: o, dirty: true });
        remember(&mut self.journal, |t| &mut t.orders, id, old);
    }

    pub fn push_event(&mut self, e: CustomEvent) {
        if let Some(client) = &e.client_event_id {
            let key = (e.project_id.clone(), client.clone());
            let old = self.t.event_by_client.insert(key.clone(), Some(e.clone()));
            remember(&mut self.journal, |t| &mut t.event_by_client, key, old);
        }
        self.t.new_events.push(e);
    }

    pub fn put_program(&mut self, p: Program) {
        let id = p.id.clone();
        let old = self.t.programs.insert(id.clone(), Row { value: p, dirty: true });
        remember(&mut self.journal, |t| &mut t.programs, id, old);
    }

    pub fn put_membership(&mut self, m: Membership) {
        self.touched.loyalty.insert(m.customer_id.clone());
        let card_key = (m.project_id.clone(), m.card_code.clone());
        let old_card = self.t.membership_by_card.insert(card_key.clone(), Some(m.id.clone()));
        remember(&mut self.journal, |t| &mut t.membership_by_card, card_key, old_card);
        let customer = m.customer_id.clone();
        let old_list = self.t.memberships_of.get(&customer).cloned();
        if let Some(list) = self.t.memberships_of.get_mut(&customer)
            && !list.contains(&m.id)
        {
            list.push(m.id.clone());
        }
        remember(&mut self.journal, |t| &mut t.memberships_of, customer, old_list);
        let id = m.id.clone();
        let old = self.t.memberships.insert(id.clone(), Row { value: m, dirty: true });
        remember(&mut self.journal, |t| &mut t.memberships, id, old);
    }

    fn put_lot(&mut self, lot: Lot) {
        let membership = lot.membership_id.clone();
        let lot_id = lot.id.clone();
        let set = self.t.lots.entry(membership.clone()).or_default();
        let old = set.lots.insert(lot_id.clone(), Row { value: lot, dirty: true });
        self.journal.push(Box::new(move |t| {
            if let Some(set) = t.lots.get_mut(&membership) {
                match old {
                    Some(row) => set.lots.insert(lot_id, row),
                    None => set.lots.remove(&lot_id),
                };
            }
        }));
    }

    /// Applies a ledger posting: the new lot, the consumed lots' remainders, the wallet and the entry.
    pub fn apply_posting(&mut self, posting: Posting) {
        if let Some(lot) = posting.new_lot {
            self.put_lot(lot);
        }
        for update in &posting.lot_updates {
            let current = self
                .t
                .lots
                .get(&posting.membership.id)
                .and_then(|set| set.lots.get(&update.lot_id))
                .map(|r| r.value.clone());
            if let Some(mut lot) = current {
                lot.remaining = update.points;
                self.put_lot(lot);
            }
        }
        self.put_membership(posting.membership);
        self.t.entries.push(posting.entry);
    }

    pub fn put_idempotency(&mut self, record: IdempotencyRecord) {
        let key = (record.project_id.clone(), record.key.clone());
        let old = self.t.idempotency.insert(key.clone(), Some(record.clone()));
        remember(&mut self.journal, |t| &mut t.idempotency, key, old);
        self.t.new_idempotency.push(record);
    }

    /// Entries appended since `from` (a length of the entry list taken earlier in the command).
    pub fn entries_since(&self, from: usize) -> &[Entry] {
        self.t.entries.get(from..).unwrap_or(&[])
    }

    pub fn entry_count(&self) -> usize {
        self.t.entries.len()
    }

    // ---- flush ---------------------------------------------------------------------------------------

    pub fn changes(&self) -> ChangeSet<'_> {
        fn dirty<K, T>(map: &HashMap<K, Row<T>>) -> Vec<&T> {
            map.values().filter(|r| r.dirty).map(|r| &r.value).collect()
        }
        ChangeSet {
            customers: dirty(&self.t.customers),
            orders: dirty(&self.t.orders),
            events: self.t.new_events.iter().collect(),
            programs: dirty(&self.t.programs),
            memberships: dirty(&self.t.memberships),
            lots: self.t.lots.values().flat_map(|s| s.lots.values()).filter(|r| r.dirty).map(|r| &r.value).collect(),
            entries: self.t.entries.iter().collect(),
            idempotency: self.t.new_idempotency.iter().collect(),
            outbox: self.t.outbox.iter().collect(),
            erased_customers: self.t.erased.iter().collect(),
            segments: dirty(&self.t.segments),
            customer_segments: self
                .t
                .segment_only
                .iter()
                .filter(|(id, _)| !self.t.customers.get(*id).is_some_and(|r| r.dirty))
                .map(|(id, s)| (id, s.as_slice()))
                .collect(),
            members_added: self
                .t
                .member_changes
                .iter()
                .filter_map(|((s, c), since)| since.map(|at| (s, c, at)))
                .collect(),
            members_removed: self
                .t
                .member_changes
                .iter()
                .filter(|(_, since)| since.is_none())
                .map(|((s, c), _)| (s, c))
                .collect(),
        }
    }
}
