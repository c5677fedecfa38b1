//! Rows, whatever the database: positional access implemented by both drivers (`RowLike`), named access
//! over a table's schema (`Cols`), and values to bind (`Value`, including the arrays PostgreSQL unnests).

use fidelis_engine::port::{StoreError, StoreResult};

/// Read access to one result row by column index.
pub trait RowLike {
    fn text(&self, i: usize) -> StoreResult<String>;
    fn opt_text(&self, i: usize) -> StoreResult<Option<String>>;
    fn int(&self, i: usize) -> StoreResult<i64>;
    fn opt_int(&self, i: usize) -> StoreResult<Option<i64>>;
    fn flag(&self, i: usize) -> StoreResult<bool>;
    fn bytes(&self, i: usize) -> StoreResult<Vec<u8>>;
}

/// A value to bind.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Flag(bool),
    Bytes(Vec<u8>),
    /// PostgreSQL only: an array parameter (`$1::text[]`).
    Texts(Vec<String>),
}

impl Value {
    pub fn text(s: impl ToString) -> Value {
        Value::Text(s.to_string())
    }
}

/// A table: its name and columns, in the order every statement selects and writes them.
#[derive(Debug)]
pub struct Schema {
    pub table: &'static str,
    pub columns: &'static [&'static str],
}

impl Schema {
    /// The column list for a SELECT or INSERT.
    pub fn list(&self) -> String {
        self.columns.join(", ")
    }

    /// The column list with a table alias (`c.id, c.name, …`).
    pub fn list_as(&self, alias: &str) -> String {
        self.columns.iter().map(|c| format!("{alias}.{c}")).collect::<Vec<_>>().join(", ")
    }

    /// The index of `name`, looked for first at `hint`: codecs read and write columns mostly in schema
    /// order, so one comparison usually finds it (a search over every name, per value, cost ~3 % of the
    /// writer's time).
    fn at_from(&self, name: &str, hint: usize) -> StoreResult<usize> {
        if self.columns.get(hint).is_some_and(|c| *c == name) {
            return Ok(hint);
        }
        self.columns
            .iter()
            .position(|c| *c == name)
            .ok_or_else(|| StoreError::Corrupt(format!("{} has no column {name}", self.table)))
    }

    /// Values for a row, set by column name (every column must be set once).
    pub fn values(&self, set: impl FnOnce(&mut Named<'_>)) -> Vec<Value> {
        let mut named = Named { schema: self, values: vec![Value::OptText(None); self.columns.len()], next: 0, set: 0 };
        set(&mut named);
        debug_assert!(
            self.columns.len() >= 64 || named.set == (1u64 << self.columns.len()) - 1,
            "{}: a column was not set",
            self.table
        );
        named.values
    }
}

/// Values of one row being written, by column name.
pub struct Named<'a> {
    schema: &'a Schema,
    values: Vec<Value>,
    /// Where the next column is looked for first.
    next: usize,
    /// Columns set so far, one bit each (checked in debug builds).
    set: u64,
}

impl Named<'_> {
    pub fn set(&mut self, name: &str, value: Value) -> &mut Self {
        match self.schema.at_from(name, self.next) {
            Ok(i) => {
                self.values[i] = value;
                self.next = i + 1;
                self.set |= 1u64.checked_shl(i as u32).unwrap_or(0);
            }
            Err(e) => debug_assert!(false, "{e}"),
        }
        self
    }
}

/// A row read by column name: the columns are those of `schema`, in its order.
pub struct Cols<'r> {
    schema: &'static Schema,
    row: &'r dyn RowLike,
    /// Where the table's columns start (joins select several tables).
    offset: usize,
    /// Where the next column is looked for first.
    next: std::cell::Cell<usize>,
}

impl<'r> Cols<'r> {
    pub fn new(schema: &'static Schema, row: &'r dyn RowLike) -> Cols<'r> {
        Cols { schema, row, offset: 0, next: std::cell::Cell::new(0) }
    }

    pub fn at(schema: &'static Schema, row: &'r dyn RowLike, offset: usize) -> Cols<'r> {
        Cols { schema, row, offset, next: std::cell::Cell::new(0) }
    }

    fn i(&self, name: &str) -> StoreResult<usize> {
        let at = self.schema.at_from(name, self.next.get())?;
        self.next.set(at + 1);
        Ok(self.offset + at)
    }

    pub fn text(&self, name: &str) -> StoreResult<String> {
        self.row.text(self.i(name)?)
    }

    pub fn opt_text(&self, name: &str) -> StoreResult<Option<String>> {
        self.row.opt_text(self.i(name)?)
    }

    pub fn int(&self, name: &str) -> StoreResult<i64> {
        self.row.int(self.i(name)?)
    }

    pub fn opt_int(&self, name: &str) -> StoreResult<Option<i64>> {
        self.row.opt_int(self.i(name)?)
    }

    pub fn flag(&self, name: &str) -> StoreResult<bool> {
        self.row.flag(self.i(name)?)
    }

    pub fn bytes(&self, name: &str) -> StoreResult<Vec<u8>> {
        self.row.bytes(self.i(name)?)
    }

    pub fn points(&self, name: &str) -> StoreResult<fidelis_core::money::Points> {
        Ok(fidelis_core::money::Points::from_stored(self.int(name)?))
    }
}
