//! The SQLite read side: queries for the API and administration on pooled read connections.

use super::{SqliteStore, map_error, query_all};
use crate::rows::{self, *};
use crate::sql;
use async_trait::async_trait;
use fidelis_core::customer::Customer;
use fidelis_core::event::CustomEvent;
use fidelis_core::ids::{ApiKeyId, CustomerId, MembershipId, ProgramId, ProjectId, SegmentId};
use fidelis_core::ledger::{Entry, Lot, Membership};
use fidelis_core::order::Order;
use fidelis_core::program::Program;
use fidelis_core::segment::Segment;
use fidelis_engine::port::{
    CustomerRef, MemberRef, OrderRef, OutboxEvent, PageRequest, Projection, ReadPort, StoreResult,
};
use fidelis_engine::project::{ApiKey, Project};
use jiff::Timestamp;
use rusqlite::{Connection, ToSql};

/// A newest-first page of `table` rows of a project (optionally of one customer).
fn page<T>(
    conn: &Connection,
    (table, columns): (&str, &str),
    scope: (&str, &str),
    page: &PageRequest,
    decode: impl Fn(&dyn RowLike) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let limit = i64::try_from(page.limit).unwrap_or(i64::MAX);
    let (column, value) = scope;
    match &page.before {
        Some(before) => query_all(
            conn,
            &format!("SELECT {columns} FROM {table} WHERE {column} = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3"),
            &[&value, before, &limit],
            decode,
        ),
        None => query_all(
            conn,
            &format!("SELECT {columns} FROM {table} WHERE {column} = ?1 ORDER BY id DESC LIMIT ?2"),
            &[&value, &limit],
            decode,
        ),
    }
}

pub(crate) fn customer_by_ref(
    conn: &Connection,
    project: &ProjectId,
    reference: &CustomerRef,
) -> StoreResult<Option<Customer>> {
    let (sql, key): (String, &str) = match reference {
        CustomerRef::Id(id) => {
            (format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE project_id = ?1 AND id = ?2"), id.as_str())
        }
        CustomerRef::Source(s) => {
            (format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE project_id = ?1 AND source_id = ?2"), s.as_str())
        }
    };
    Ok(query_all(conn, &sql, &[&project.as_str(), &key], rows::customer)?.pop())
}

pub(crate) fn order_by_ref(conn: &Connection, project: &ProjectId, reference: &OrderRef) -> StoreResult<Option<Order>> {
    let (sql, key): (String, &str) = match reference {
        OrderRef::Id(id) => {
            (format!("SELECT {ORDER_COLUMNS} FROM orders WHERE project_id = ?1 AND id = ?2"), id.as_str())
        }
        OrderRef::Source(s) => {
            (format!("SELECT {ORDER_COLUMNS} FROM orders WHERE project_id = ?1 AND source_id = ?2"), s.as_str())
        }
    };
    Ok(query_all(conn, &sql, &[&project.as_str(), &key], rows::order)?.pop())
}

fn membership_by_ref(
    conn: &Connection,
    project: &ProjectId,
    program: &ProgramId,
    member: &MemberRef,
) -> StoreResult<Option<Membership>> {
    let base = format!("SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE project_id = ?1 AND program_id = ?2");
    let (sql, key): (String, String) = match member {
        MemberRef::Id(id) => (format!("{base} AND id = ?3"), id.to_string()),
        MemberRef::Card(code) => (format!("{base} AND card_code = ?3"), code.clone()),
        MemberRef::Customer(reference) => match customer_by_ref(conn, project, reference)? {
            Some(c) => (format!("{base} AND customer_id = ?3"), c.id.to_string()),
            None => return Ok(None),
        },
    };
    Ok(query_all(conn, &sql, &[&project.as_str(), &program.as_str(), &key], rows::membership)?.pop())
}

fn execute(conn: &Connection, sql: &str, values: &[Value]) -> StoreResult<usize> {
    let params: Vec<&dyn ToSql> = values.iter().map(|v| v as &dyn ToSql).collect();
    let sql = sql.replace('$', "?");
    conn.prepare_cached(&sql).and_then(|mut s| s.execute(params.as_slice())).map_err(map_error)
}

#[async_trait]
impl ReadPort for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(map_error))
    }

    async fn create_project(&self, project: &Project) -> StoreResult<()> {
        self.read(|c| execute(c, &sql::INSERT_PROJECT, &project_values(project)).map(|_| ()))
    }

    async fn project_by_name(&self, name: &str) -> StoreResult<Option<Project>> {
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE name = ?1");
        self.read(|c| Ok(query_all(c, &sql, &[&name], |r| rows::project(r, 0))?.pop()))
    }

    async fn project_list(&self) -> StoreResult<Vec<Project>> {
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects ORDER BY id");
        self.read(|c| query_all(c, &sql, &[], |r| rows::project(r, 0)))
    }

    async fn create_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        self.read(|c| execute(c, &sql::INSERT_API_KEY, &api_key_values(key)).map(|_| ()))
    }

    async fn revoke_api_key(&self, project: &ProjectId, key: &ApiKeyId, at: Timestamp) -> StoreResult<bool> {
        let values = [Value::Int(at.as_microsecond()), Value::Text(project.to_string()), Value::Text(key.to_string())];
        self.read(|c| execute(c, sql::REVOKE_API_KEY, &values).map(|n| n > 0))
    }

    async fn api_key_list(&self, project: &ProjectId) -> StoreResult<Vec<ApiKey>> {
        let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE project_id = ?1 ORDER BY id");
        self.read(|c| query_all(c, &sql, &[&project.as_str()], rows::api_key))
    }

    async fn api_key_by_hash(&self, secret_hash: &str) -> StoreResult<Option<(ApiKey, Project)>> {
        let key_columns = API_KEY_COLUMNS.split(", ").map(|c| format!("k.{c}")).collect::<Vec<_>>().join(", ");
        let project_columns = PROJECT_COLUMNS.split(", ").map(|c| format!("p.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {key_columns}, {project_columns} FROM api_keys k JOIN projects p ON p.id = k.project_id \
             WHERE k.secret_hash = ?1"
        );
        self.read(|c| Ok(query_all(c, &sql, &[&secret_hash], |r| Ok((rows::api_key(r)?, rows::project(r, 6)?)))?.pop()))
    }

    async fn customer(&self, project: &ProjectId, customer: &CustomerRef) -> StoreResult<Option<Customer>> {
        self.read(|c| customer_by_ref(c, project, customer))
    }

    async fn customer_page(&self, project: &ProjectId, p: &PageRequest) -> StoreResult<Vec<Customer>> {
        self.read(|c| page(c, ("customers", CUSTOMER_COLUMNS), ("project_id", project.as_str()), p, rows::customer))
    }

    async fn order(&self, project: &ProjectId, order: &OrderRef) -> StoreResult<Option<Order>> {
        self.read(|c| order_by_ref(c, project, order))
    }

    async fn order_page(
        &self,
        project: &ProjectId,
        customer: Option<&CustomerId>,
        p: &PageRequest,
    ) -> StoreResult<Vec<Order>> {
        let scope = customer.map_or(("project_id", project.as_str()), |c| ("customer_id", c.as_str()));
        let rows = self.read(|c| page(c, ("orders", ORDER_COLUMNS), scope, p, rows::order))?;
        Ok(rows.into_iter().filter(|o| &o.project_id == project).collect())
    }

    async fn event_page(
        &self,
        project: &ProjectId,
        customer: Option<&CustomerId>,
        p: &PageRequest,
    ) -> StoreResult<Vec<CustomEvent>> {
        let scope = customer.map_or(("project_id", project.as_str()), |c| ("customer_id", c.as_str()));
        let rows = self.read(|c| page(c, ("events", EVENT_COLUMNS), scope, p, rows::event))?;
        Ok(rows.into_iter().filter(|e| &e.project_id == project).collect())
    }

    async fn program(&self, project: &ProjectId, program: &ProgramId) -> StoreResult<Option<Program>> {
        let sql = format!("SELECT {PROGRAM_COLUMNS} FROM programs WHERE project_id = ?1 AND id = ?2");
        self.read(|c| Ok(query_all(c, &sql, &[&project.as_str(), &program.as_str()], rows::program)?.pop()))
    }

    async fn program_list(&self, project: &ProjectId) -> StoreResult<Vec<Program>> {
        let sql = format!("SELECT {PROGRAM_COLUMNS} FROM programs WHERE project_id = ?1 ORDER BY id");
        self.read(|c| query_all(c, &sql, &[&project.as_str()], rows::program))
    }

    async fn membership(
        &self,
        project: &ProjectId,
        program: &ProgramId,
        member: &MemberRef,
    ) -> StoreResult<Option<Membership>> {
        self.read(|c| membership_by_ref(c, project, program, member))
    }

    async fn membership_page(
        &self,
        project: &ProjectId,
        program: &ProgramId,
        p: &PageRequest,
    ) -> StoreResult<Vec<Membership>> {
        let rows = self.read(|c| {
            page(c, ("memberships", MEMBERSHIP_COLUMNS), ("program_id", program.as_str()), p, rows::membership)
        })?;
        Ok(rows.into_iter().filter(|m| &m.project_id == project).collect())
    }

    async fn customer_memberships(&self, project: &ProjectId, customer: &CustomerId) -> StoreResult<Vec<Membership>> {
        let sql = format!(
            "SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE project_id = ?1 AND customer_id = ?2 ORDER BY id"
        );
        self.read(|c| query_all(c, &sql, &[&project.as_str(), &customer.as_str()], rows::membership))
    }

    async fn entry_page(
        &self,
        project: &ProjectId,
        membership: &MembershipId,
        p: &PageRequest,
    ) -> StoreResult<Vec<Entry>> {
        let rows =
            self.read(|c| page(c, ("entries", ENTRY_COLUMNS), ("membership_id", membership.as_str()), p, rows::entry))?;
        Ok(rows.into_iter().filter(|e| &e.project_id == project).collect())
    }

    async fn open_lot_list(&self, project: &ProjectId, membership: &MembershipId) -> StoreResult<Vec<Lot>> {
        let sql = format!(
            "SELECT {LOT_COLUMNS} FROM lots WHERE membership_id = ?1 AND remaining > 0 \
             AND EXISTS (SELECT 1 FROM memberships m WHERE m.id = lots.membership_id AND m.project_id = ?2) ORDER BY id"
        );
        self.read(|c| query_all(c, &sql, &[&membership.as_str(), &project.as_str()], rows::lot))
    }

    async fn lot_list(&self, project: &ProjectId, membership: &MembershipId) -> StoreResult<Vec<Lot>> {
        let sql = format!(
            "SELECT {LOT_COLUMNS} FROM lots WHERE membership_id = ?1 \
             AND EXISTS (SELECT 1 FROM memberships m WHERE m.id = lots.membership_id AND m.project_id = ?2) ORDER BY id"
        );
        self.read(|c| query_all(c, &sql, &[&membership.as_str(), &project.as_str()], rows::lot))
    }

    async fn entry_list(&self, project: &ProjectId, membership: &MembershipId) -> StoreResult<Vec<Entry>> {
        let sql =
            format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE membership_id = ?1 AND project_id = ?2 ORDER BY id");
        self.read(|c| query_all(c, &sql, &[&membership.as_str(), &project.as_str()], rows::entry))
    }

    async fn outbox_page(&self, project: &ProjectId, p: &PageRequest) -> StoreResult<Vec<OutboxEvent>> {
        self.read(|c| page(c, ("outbox", OUTBOX_COLUMNS), ("project_id", project.as_str()), p, rows::outbox))
    }

    async fn segment(&self, project: &ProjectId, segment: &SegmentId) -> StoreResult<Option<Segment>> {
        let sql = format!("SELECT {SEGMENT_COLUMNS} FROM segments WHERE project_id = ?1 AND id = ?2");
        self.read(|c| Ok(query_all(c, &sql, &[&project.as_str(), &segment.as_str()], rows::segment)?.pop()))
    }

    async fn segment_list(&self, project: &ProjectId) -> StoreResult<Vec<Segment>> {
        let sql = format!("SELECT {SEGMENT_COLUMNS} FROM segments WHERE project_id = ?1 ORDER BY id");
        self.read(|c| query_all(c, &sql, &[&project.as_str()], rows::segment))
    }

    async fn segment_member_page(
        &self,
        project: &ProjectId,
        segment: &SegmentId,
        p: &PageRequest,
    ) -> StoreResult<Vec<(CustomerId, Timestamp)>> {
        let limit = i64::try_from(p.limit).unwrap_or(i64::MAX);
        let scope = "EXISTS (SELECT 1 FROM segments s WHERE s.id = ?1 AND s.project_id = ?2)";
        let before = p.before.clone().unwrap_or_else(|| "~".to_owned());
        let sql = format!(
            "SELECT {SEGMENT_MEMBER_COLUMNS} FROM segment_members WHERE segment_id = ?1 AND {scope} \
             AND customer_id < ?3 ORDER BY customer_id DESC LIMIT ?4"
        );
        self.read(|c| {
            query_all(c, &sql, &[&segment.as_str(), &project.as_str(), &before, &limit], rows::segment_member)
        })
    }

    async fn segment_member_count(&self, project: &ProjectId, segment: &SegmentId) -> StoreResult<i64> {
        let sql = "SELECT count(*) FROM segment_members WHERE segment_id = ?1 \
                   AND EXISTS (SELECT 1 FROM segments s WHERE s.id = ?1 AND s.project_id = ?2)";
        self.read(|c| Ok(query_all(c, sql, &[&segment.as_str(), &project.as_str()], |r| r.int(0))?.pop().unwrap_or(0)))
    }

    async fn customer_scan(
        &self,
        project: &ProjectId,
        after: Option<&CustomerId>,
        limit: usize,
        projection: Projection,
    ) -> StoreResult<Vec<Customer>> {
        self.read(|c| super::customer_scan(c, project, after, limit, projection))
    }

    async fn membership_scan(
        &self,
        project: &ProjectId,
        after: Option<&MembershipId>,
        limit: usize,
    ) -> StoreResult<Vec<Membership>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let after = after.map_or("", |a| a.as_str());
        let sql = format!(
            "SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE project_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
        );
        self.read(|c| query_all(c, &sql, &[&project.as_str(), &after, &limit], rows::membership))
    }
}
