//! Multi-row statements for PostgreSQL: a flush step's rows become one array per column, and one
//! `INSERT … SELECT * FROM UNNEST(…)` writes them all (one parse, one plan, one reply per table).

use crate::row::Value;
use crate::sql::{Step, Write, conflict_clause};
use bytes::BytesMut;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

/// One column of a step, as the array PostgreSQL unnests.
#[derive(Debug)]
pub enum ColumnArray {
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Flag(Vec<bool>),
    Bytes(Vec<Vec<u8>>),
}

impl ColumnArray {
    fn of(rows: &[Vec<Value>], column: usize) -> ColumnArray {
        let cell = |row: &Vec<Value>| row.get(column).cloned();
        match rows.first().and_then(cell) {
            Some(Value::Int(_) | Value::OptInt(_)) => ColumnArray::Int(
                rows.iter()
                    .map(|r| match cell(r) {
                        Some(Value::Int(i) | Value::OptInt(Some(i))) => Some(i),
                        _ => None,
                    })
                    .collect(),
            ),
            Some(Value::Flag(_)) => {
                ColumnArray::Flag(rows.iter().map(|r| matches!(cell(r), Some(Value::Flag(true)))).collect())
            }
            Some(Value::Bytes(_)) => ColumnArray::Bytes(
                rows.iter()
                    .map(|r| match cell(r) {
                        Some(Value::Bytes(b)) => b,
                        _ => Vec::new(),
                    })
                    .collect(),
            ),
            _ => ColumnArray::Text(
                rows.iter()
                    .map(|r| match cell(r) {
                        Some(Value::Text(s) | Value::OptText(Some(s))) => Some(s),
                        _ => None,
                    })
                    .collect(),
            ),
        }
    }

    fn sql_type(&self) -> &'static str {
        match self {
            ColumnArray::Text(_) => "text[]",
            ColumnArray::Int(_) => "int8[]",
            ColumnArray::Flag(_) => "bool[]",
            ColumnArray::Bytes(_) => "bytea[]",
        }
    }
}

impl ToSql for ColumnArray {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            ColumnArray::Text(v) => v.to_sql(ty, out),
            ColumnArray::Int(v) => v.to_sql(ty, out),
            ColumnArray::Flag(v) => v.to_sql(ty, out),
            ColumnArray::Bytes(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        [Type::TEXT_ARRAY, Type::INT8_ARRAY, Type::BOOL_ARRAY, Type::BYTEA_ARRAY].contains(ty)
    }

    to_sql_checked!();
}

/// Whether the step's statement has one plan whatever the tables hold: inserts from arrays (the
/// conflict target names its index). Updates and deletes join a table and could be planned as scans.
pub fn plan_is_fixed(write: Write) -> bool {
    matches!(write, Write::Insert | Write::InsertIgnore | Write::Upsert { .. })
}

/// The statement and its parameters for a whole step.
pub fn statement(step: &Step) -> (String, Vec<ColumnArray>) {
    let count = step.columns.len();
    let arrays: Vec<ColumnArray> = (0..count).map(|c| ColumnArray::of(&step.rows, c)).collect();
    let unnest: Vec<String> = arrays.iter().enumerate().map(|(i, a)| format!("${}::{}", i + 1, a.sql_type())).collect();
    let insert =
        format!("INSERT INTO {} ({}) SELECT * FROM UNNEST({})", step.table, step.columns.join(", "), unnest.join(", "));
    let cols = &step.columns;
    let sql = match step.write {
        Write::Insert => insert,
        Write::InsertIgnore => format!("{insert} ON CONFLICT DO NOTHING"),
        Write::Upsert { key, fixed } => format!("{insert}{}", conflict_clause(&step.columns, key, fixed)),
        Write::Erase { set, key_column } => {
            format!("UPDATE {} SET {set} WHERE {key_column} = ANY($1::text[])", step.table)
        }
        Write::Update => {
            let sets: Vec<String> = cols.iter().skip(1).map(|c| format!("{c} = u.{c}")).collect();
            format!(
                "UPDATE {table} SET {} FROM UNNEST({}) AS u({}) WHERE {table}.{key} = u.{key}",
                sets.join(", "),
                unnest.join(", "),
                cols.join(", "),
                table = step.table,
                key = cols[0]
            )
        }
        Write::Delete => format!(
            "DELETE FROM {} WHERE ({}) IN (SELECT * FROM UNNEST({}))",
            step.table,
            cols.join(", "),
            unnest.join(", ")
        ),
    };
    (sql, arrays)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_becomes_one_statement_with_a_typed_array_per_column() {
        let step = Step {
            table: "t",
            columns: vec!["id", "n", "f"],
            write: Write::Upsert { key: "id", fixed: &[] },
            rows: vec![
                vec![Value::Text("a".into()), Value::OptInt(None), Value::Flag(true)],
                vec![Value::Text("b".into()), Value::Int(2), Value::Flag(false)],
            ],
        };
        let (sql, arrays) = statement(&step);
        assert_eq!(
            sql,
            "INSERT INTO t (id, n, f) SELECT * FROM UNNEST($1::text[], $2::int8[], $3::bool[]) \
             ON CONFLICT (id) DO UPDATE SET n = excluded.n, f = excluded.f"
        );
        assert!(matches!(&arrays[1], ColumnArray::Int(v) if v == &vec![None, Some(2)]));
    }
}
