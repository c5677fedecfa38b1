//! The read side and administration, written once for both databases over a connection source.

use crate::conn::{Source, one, rows};
use crate::row::Value;
use crate::schema::projects::{self, API_KEYS, PROJECTS};
use crate::schema::{counters, customers, entries, events, lots, memberships, orders, outbox, programs, segments};
use crate::session::{Session, limit_value};
use crate::sql;
use async_trait::async_trait;
use fidelis_core::customer::Customer;
use fidelis_core::domain_event::DomainEvent;
use fidelis_core::event::CustomEvent;
use fidelis_core::ids::{
    ApiKeyId, CustomerId, EntryId, EventId, MembershipId, OutboxId, ProgramId, ProjectId, SegmentId,
};
use fidelis_core::ledger::hold::Hold;
use fidelis_core::ledger::{Entry, Lot, Membership};
use fidelis_core::order::Order;
use fidelis_core::program::Program;
use fidelis_core::segment::Segment;
use fidelis_engine::port::{
    AdminPort, CounterKey, CustomerRef, MemberRef, OrderRef, OutboxEvent, PageRequest, Projection, ReadPort, Snapshot,
    StoreResult,
};
use fidelis_engine::project::{ApiKey, Project};
use jiff::Timestamp;
use std::sync::Arc;

pub struct Reads {
    source: Arc<dyn Source>,
}

impl Reads {
    pub fn new(source: Arc<dyn Source>) -> Reads {
        Reads { source }
    }

    async fn all<T: Send>(
        &self,
        sql: &str,
        params: &[Value],
        decode: fn(&dyn crate::row::RowLike) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let mut conn = self.source.conn().await?;
        rows(conn.as_mut(), sql, params, decode).await
    }

    async fn first<T: Send>(
        &self,
        sql: &str,
        params: &[Value],
        decode: fn(&dyn crate::row::RowLike) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let mut conn = self.source.conn().await?;
        one(conn.as_mut(), sql, params, decode).await
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> StoreResult<u64> {
        self.source.conn().await?.execute(sql, params).await
    }

    /// A newest-first page of a table's rows where `column = value`.
    async fn page<T: Send>(
        &self,
        schema: &crate::row::Schema,
        (column, value): (&str, &str),
        page: &PageRequest,
        decode: fn(&dyn crate::row::RowLike) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let limit = Value::Int(limit_value(page.limit));
        match &page.before {
            Some(before) => {
                let params = [Value::text(value), Value::Text(before.clone()), limit];
                self.all(&sql::page(schema, column, true), &params, decode).await
            }
            None => self.all(&sql::page(schema, column, false), &[Value::text(value), limit], decode).await,
        }
    }

    async fn customer_id(&self, project: &ProjectId, reference: &CustomerRef) -> StoreResult<Option<CustomerId>> {
        Ok(ReadPort::customer(self, project, reference).await?.map(|c| c.id))
    }
}

fn scoped(column: &'static str, value: &str) -> (&'static str, String) {
    (column, value.to_owned())
}

#[async_trait]
impl ReadPort for Reads {
    async fn ping(&self) -> StoreResult<()> {
        self.all("SELECT CAST(1 AS BIGINT)", &[], |r| r.int(0)).await.map(|_| ())
    }

    async fn snapshot(&self) -> StoreResult<Box<dyn Snapshot>> {
        Ok(Box::new(Session::snapshot(self.source.conn().await?).await?))
    }

    async fn project_by_name(&self, name: &str) -> StoreResult<Option<Project>> {
        let sql = format!("SELECT {} FROM projects WHERE name = $1", PROJECTS.list());
        self.first(&sql, &[Value::text(name)], projects::project).await
    }

    async fn project_list(&self) -> StoreResult<Vec<Project>> {
        self.all(&format!("SELECT {} FROM projects ORDER BY id", PROJECTS.list()), &[], projects::project).await
    }

    async fn api_key_list(&self, project: &ProjectId) -> StoreResult<Vec<ApiKey>> {
        let sql = format!("SELECT {} FROM api_keys WHERE project_id = $1 ORDER BY id", API_KEYS.list());
        self.all(&sql, &[Value::text(project)], projects::api_key).await
    }

    async fn api_key_by_hash(&self, secret_hash: &str) -> StoreResult<Option<(ApiKey, Project)>> {
        let decode =
            |r: &dyn crate::row::RowLike| Ok((projects::api_key(r)?, projects::project_at(r, API_KEYS.columns.len())?));
        self.first(&projects::key_by_hash_sql(), &[Value::text(secret_hash)], decode).await
    }

    async fn customer(&self, project: &ProjectId, reference: &CustomerRef) -> StoreResult<Option<Customer>> {
        let (column, key) = match reference {
            CustomerRef::Id(id) => ("id", id.to_string()),
            CustomerRef::Source(s) => ("source_id", s.clone()),
        };
        let sql = format!("SELECT {} FROM customers WHERE project_id = $1 AND {column} = $2", customers::SCHEMA.list());
        self.first(&sql, &[Value::text(project), Value::Text(key)], customers::row).await
    }

    async fn customer_page(&self, project: &ProjectId, page: &PageRequest) -> StoreResult<Vec<Customer>> {
        self.page(&customers::SCHEMA, ("project_id", project.as_str()), page, customers::row).await
    }

    async fn order(&self, project: &ProjectId, reference: &OrderRef) -> StoreResult<Option<Order>> {
        let (column, key) = match reference {
            OrderRef::Id(id) => ("id", id.to_string()),
            OrderRef::Source(s) => ("source_id", s.clone()),
        };
        let sql = format!("SELECT {} FROM orders WHERE project_id = $1 AND {column} = $2", orders::SCHEMA.list());
        self.first(&sql, &[Value::text(project), Value::Text(key)], orders::row).await
    }

    async fn order_page(
        &self,
        project: &ProjectId,
        customer: Option<&CustomerId>,
        page: &PageRequest,
    ) -> StoreResult<Vec<Order>> {
        let (column, value) =
            customer.map_or(scoped("project_id", project.as_str()), |c| scoped("customer_id", c.as_str()));
        let rows = self.page(&orders::SCHEMA, (column, &value), page, orders::row).await?;
        Ok(rows.into_iter().filter(|o| &o.project_id == project).collect())
    }

    async fn event_page(
        &self,
        project: &ProjectId,
        customer: Option<&CustomerId>,
        page: &PageRequest,
    ) -> StoreResult<Vec<CustomEvent>> {
        let (column, value) =
            customer.map_or(scoped("project_id", project.as_str()), |c| scoped("customer_id", c.as_str()));
        let rows = self.page(&events::SCHEMA, (column, &value), page, events::row).await?;
        Ok(rows.into_iter().filter(|e| &e.project_id == project).collect())
    }

    async fn program(&self, project: &ProjectId, program: &ProgramId) -> StoreResult<Option<Program>> {
        let sql = format!("SELECT {} FROM programs WHERE project_id = $1 AND id = $2", programs::SCHEMA.list());
        self.first(&sql, &[Value::text(project), Value::text(program)], programs::row).await
    }

    async fn program_list(&self, project: &ProjectId) -> StoreResult<Vec<Program>> {
        let sql = format!("SELECT {} FROM programs WHERE project_id = $1 ORDER BY id", programs::SCHEMA.list());
        self.all(&sql, &[Value::text(project)], programs::row).await
    }

    async fn membership(
        &self,
        project: &ProjectId,
        program: &ProgramId,
        member: &MemberRef,
    ) -> StoreResult<Option<Membership>> {
        let (column, key) = match member {
            MemberRef::Id(id) => ("id", id.to_string()),
            MemberRef::Card(code) => ("card_code", code.clone()),
            MemberRef::Customer(reference) => match self.customer_id(project, reference).await? {
                Some(id) => ("customer_id", id.to_string()),
                None => return Ok(None),
            },
        };
        let sql = format!(
            "SELECT {} FROM memberships WHERE project_id = $1 AND program_id = $2 AND {column} = $3",
            memberships::SCHEMA.list()
        );
        self.first(&sql, &[Value::text(project), Value::text(program), Value::Text(key)], memberships::row).await
    }

    async fn membership_page(
        &self,
        project: &ProjectId,
        program: &ProgramId,
        page: &PageRequest,
    ) -> StoreResult<Vec<Membership>> {
        let rows = self.page(&memberships::SCHEMA, ("program_id", program.as_str()), page, memberships::row).await?;
        Ok(rows.into_iter().filter(|m| &m.project_id == project).collect())
    }

    async fn customer_memberships(&self, project: &ProjectId, customer: &CustomerId) -> StoreResult<Vec<Membership>> {
        let sql = format!(
            "SELECT {} FROM memberships WHERE project_id = $1 AND customer_id = $2 ORDER BY id",
            memberships::SCHEMA.list()
        );
        self.all(&sql, &[Value::text(project), Value::text(customer)], memberships::row).await
    }

    async fn entry_page(
        &self,
        project: &ProjectId,
        membership: &MembershipId,
        page: &PageRequest,
    ) -> StoreResult<Vec<Entry>> {
        let rows = self.page(&entries::SCHEMA, ("membership_id", membership.as_str()), page, entries::row).await?;
        Ok(rows.into_iter().filter(|e| &e.project_id == project).collect())
    }

    async fn tier_history_page(
        &self,
        project: &ProjectId,
        membership: &MembershipId,
        page: &PageRequest,
    ) -> StoreResult<Vec<fidelis_core::tier::TierHistoryEntry>> {
        use crate::schema::tier_history;
        let key = ("membership_id", membership.as_str());
        let rows = self.page(&tier_history::SCHEMA, key, page, tier_history::row).await?;
        Ok(rows.into_iter().filter(|e| &e.project_id == project).collect())
    }

    async fn open_lot_list(&self, project: &ProjectId, membership: &MembershipId) -> StoreResult<Vec<Lot>> {
        let sql = format!(
            "SELECT {} FROM lots WHERE membership_id = $1 AND remaining > 0 \
             AND EXISTS (SELECT 1 FROM memberships m WHERE m.id = lots.membership_id AND m.project_id = $2) ORDER BY id",
            lots::SCHEMA.list()
        );
        self.all(&sql, &[Value::text(membership), Value::text(project)], lots::row).await
    }

    async fn lot_list(&self, project: &ProjectId, membership: &MembershipId) -> StoreResult<Vec<Lot>> {
        let sql = format!(
            "SELECT {} FROM lots WHERE membership_id = $1 \
             AND EXISTS (SELECT 1 FROM memberships m WHERE m.id = lots.membership_id AND m.project_id = $2) ORDER BY id",
            lots::SCHEMA.list()
        );
        self.all(&sql, &[Value::text(membership), Value::text(project)], lots::row).await
    }

    async fn rule_set_list(
        &self,
        project: &ProjectId,
        program: &ProgramId,
        before: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<fidelis_core::earning::RuleSet>> {
        use crate::schema::rule_sets;
        let sql = format!(
            "SELECT {} FROM rule_sets WHERE program_id = $1 AND project_id = $2 AND version < $3 \
             ORDER BY version DESC LIMIT $4",
            rule_sets::SCHEMA.list()
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let params =
            [Value::text(program), Value::text(project), Value::Int(before.unwrap_or(i64::MAX)), Value::Int(limit)];
        self.all(&sql, &params, rule_sets::row).await
    }

    async fn rule_set(
        &self,
        project: &ProjectId,
        program: &ProgramId,
        version: i64,
    ) -> StoreResult<Option<fidelis_core::earning::RuleSet>> {
        use crate::schema::rule_sets;
        let sql = format!(
            "SELECT {} FROM rule_sets WHERE program_id = $1 AND project_id = $2 AND version = $3",
            rule_sets::SCHEMA.list()
        );
        self.first(&sql, &[Value::text(program), Value::text(project), Value::Int(version)], rule_sets::row).await
    }

    async fn hold_list(&self, project: &ProjectId, membership: &MembershipId) -> StoreResult<Vec<Hold>> {
        let sql = format!(
            "SELECT {} FROM holds WHERE membership_id = $1 AND project_id = $2 ORDER BY id DESC",
            crate::schema::holds::SCHEMA.list()
        );
        let params = [Value::text(membership), Value::text(project)];
        self.all(&sql, &params, crate::schema::holds::row).await
    }

    async fn entry_list(&self, project: &ProjectId, membership: &MembershipId) -> StoreResult<Vec<Entry>> {
        let sql = format!(
            "SELECT {} FROM entries WHERE membership_id = $1 AND project_id = $2 ORDER BY id",
            entries::SCHEMA.list()
        );
        self.all(&sql, &[Value::text(membership), Value::text(project)], entries::row).await
    }

    /// The outbox's chunks merged with the rows it reads in place (custom events, ledger entries), each
    /// source paged by project with the cursor's body under its own prefix. Chunks never overlap (their
    /// ids are runs), so the `limit` newest chunks starting below the cursor hold every chunk event of the
    /// page: each has at least one event below the cursor.
    async fn outbox_page(&self, project: &ProjectId, page: &PageRequest) -> StoreResult<Vec<OutboxEvent>> {
        let scope = ("project_id", project.as_str());
        let under = |prefix: &str| PageRequest {
            limit: page.limit,
            before: page.before.as_deref().map(|b| format!("{prefix}_{}", b.split_once('_').map_or(b, |(_, x)| x))),
        };
        let (recorded_page, posted_page) = (under(EventId::PREFIX), under(EntryId::PREFIX));
        let (chunks, recorded, posted) = futures::try_join!(
            self.page(&outbox::SCHEMA, scope, page, outbox::chunk),
            self.page(&events::SCHEMA, scope, &recorded_page, events::row),
            self.page(&entries::SCHEMA, scope, &posted_page, entries::row),
        )?;
        let below = |id: &OutboxId| page.before.as_deref().is_none_or(|b| id.as_str() < b);
        let mut all: Vec<OutboxEvent> = chunks.into_iter().flatten().filter(|e| below(&e.id)).collect();
        all.extend(
            recorded
                .iter()
                .map(|e| OutboxEvent::in_place(project, e.id.body(), DomainEvent::of_event(e), e.created_at)),
        );
        all.extend(
            posted.iter().map(|e| OutboxEvent::in_place(project, e.id.body(), DomainEvent::of_entry(e), e.created_at)),
        );
        all.sort_by(|a, b| b.id.cmp(&a.id));
        all.truncate(page.limit);
        Ok(all)
    }

    async fn counter(&self, key: &CounterKey) -> StoreResult<i64> {
        let sql = format!("SELECT {} FROM counters WHERE project_id = $1 AND name = $2", counters::SCHEMA.list());
        let found =
            self.first(&sql, &[Value::text(&key.project_id), Value::Text(key.name.text())], counters::row).await?;
        Ok(found.map_or(0, |(_, used)| used))
    }

    async fn segment(&self, project: &ProjectId, segment: &SegmentId) -> StoreResult<Option<Segment>> {
        let sql = format!("SELECT {} FROM segments WHERE project_id = $1 AND id = $2", segments::SCHEMA.list());
        self.first(&sql, &[Value::text(project), Value::text(segment)], segments::row).await
    }

    async fn segment_list(&self, project: &ProjectId) -> StoreResult<Vec<Segment>> {
        let sql = format!("SELECT {} FROM segments WHERE project_id = $1 ORDER BY id", segments::SCHEMA.list());
        self.all(&sql, &[Value::text(project)], segments::row).await
    }

    async fn segment_member_page(
        &self,
        project: &ProjectId,
        segment: &SegmentId,
        page: &PageRequest,
    ) -> StoreResult<Vec<(CustomerId, Timestamp)>> {
        let before = page.before.clone().unwrap_or_else(|| "~".to_owned());
        let sql = format!(
            "SELECT {} FROM segment_members WHERE segment_id = $1 \
             AND EXISTS (SELECT 1 FROM segments s WHERE s.id = $1 AND s.project_id = $2) \
             AND customer_id < $3 ORDER BY customer_id DESC LIMIT $4",
            segments::MEMBERS.list()
        );
        let params =
            [Value::text(segment), Value::text(project), Value::Text(before), Value::Int(limit_value(page.limit))];
        self.all(&sql, &params, segments::member).await
    }

    async fn segment_member_count(&self, project: &ProjectId, segment: &SegmentId) -> StoreResult<i64> {
        let sql = "SELECT count(*) FROM segment_members WHERE segment_id = $1 \
                   AND EXISTS (SELECT 1 FROM segments s WHERE s.id = $1 AND s.project_id = $2)";
        Ok(self.first(sql, &[Value::text(segment), Value::text(project)], |r| r.int(0)).await?.unwrap_or(0))
    }

    async fn customer_scan(
        &self,
        project: &ProjectId,
        after: Option<&CustomerId>,
        limit: usize,
        projection: Projection,
    ) -> StoreResult<Vec<Customer>> {
        let after = after.map_or(String::new(), ToString::to_string);
        let params = [Value::text(project), Value::Text(after), Value::Int(limit_value(limit))];
        self.all(&customers::scan_sql(projection), &params, customers::row).await
    }

    async fn membership_scan(
        &self,
        project: &ProjectId,
        after: Option<&MembershipId>,
        limit: usize,
    ) -> StoreResult<Vec<Membership>> {
        let after = after.map_or(String::new(), ToString::to_string);
        let sql = format!(
            "SELECT {} FROM memberships WHERE project_id = $1 AND id > $2 ORDER BY id LIMIT $3",
            memberships::SCHEMA.list()
        );
        self.all(&sql, &[Value::text(project), Value::Text(after), Value::Int(limit_value(limit))], memberships::row)
            .await
    }
}

#[async_trait]
impl AdminPort for Reads {
    async fn create_project(&self, project: &Project) -> StoreResult<()> {
        self.execute(&sql::insert(&PROJECTS), &projects::project_values(project)).await.map(|_| ())
    }

    async fn create_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        self.execute(&sql::insert(&API_KEYS), &projects::api_key_values(key)).await.map(|_| ())
    }

    async fn revoke_api_key(&self, project: &ProjectId, key: &ApiKeyId, at: Timestamp) -> StoreResult<bool> {
        let values = [Value::Int(at.as_microsecond()), Value::text(project), Value::text(key)];
        Ok(self.execute(projects::REVOKE_API_KEY, &values).await? > 0)
    }
}
