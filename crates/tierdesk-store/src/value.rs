//! The small value model that lets one SQL text run on both backends.

use chrono::{DateTime, Utc};

use crate::StoreError;

/// A parameter or column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// Any integer column.
    Int(i64),
    /// Float column.
    Float(f64),
    /// Text column.
    Text(String),
    /// Boolean (SQLite stores 0/1).
    Bool(bool),
    /// Timestamp (SQLite stores microseconds since the epoch; PostgreSQL `timestamptz`).
    Time(DateTime<Utc>),
    /// JSON document (SQLite stores text; PostgreSQL `jsonb`).
    Json(serde_json::Value),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Self {
        Value::Time(v)
    }
}
impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        Value::Json(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Microseconds since the epoch, SQLite's timestamp representation.
pub fn to_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// One result row.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Value>);

fn type_err(i: usize, want: &str, got: &Value) -> StoreError {
    StoreError::Decode(format!("column {i}: expected {want}, got {got:?}"))
}

impl Row {
    fn at(&self, i: usize) -> Result<&Value, StoreError> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::Decode(format!("column {i} out of range")))
    }

    /// Integer column, NULL allowed.
    pub fn opt_i64(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            Value::Bool(b) => Ok(Some(i64::from(*b))),
            other => Err(type_err(i, "integer", other)),
        }
    }

    /// Integer column.
    pub fn i64(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_i64(i)?
            .ok_or_else(|| StoreError::Decode(format!("column {i} is NULL")))
    }

    /// Text column, NULL allowed.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s.clone())),
            other => Err(type_err(i, "text", other)),
        }
    }

    /// Text column.
    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?
            .ok_or_else(|| StoreError::Decode(format!("column {i} is NULL")))
    }

    /// Floating-point column, NULL allowed (integers widen).
    pub fn opt_f64(&self, i: usize) -> Result<Option<f64>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Float(f) => Ok(Some(*f)),
            Value::Int(v) => Ok(Some(*v as f64)),
            other => Err(type_err(i, "float", other)),
        }
    }

    /// Boolean column.
    pub fn bool(&self, i: usize) -> Result<bool, StoreError> {
        match self.at(i)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(v) => Ok(*v != 0),
            other => Err(type_err(i, "bool", other)),
        }
    }

    /// Timestamp column, NULL allowed.
    pub fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Time(t) => Ok(Some(*t)),
            Value::Int(us) => DateTime::from_timestamp_micros(*us)
                .map(Some)
                .ok_or_else(|| StoreError::Decode(format!("column {i}: bad timestamp {us}"))),
            other => Err(type_err(i, "timestamp", other)),
        }
    }

    /// Timestamp column.
    pub fn time(&self, i: usize) -> Result<DateTime<Utc>, StoreError> {
        self.opt_time(i)?
            .ok_or_else(|| StoreError::Decode(format!("column {i} is NULL")))
    }

    /// JSON column.
    pub fn json(&self, i: usize) -> Result<serde_json::Value, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(serde_json::Value::Null),
            Value::Json(v) => Ok(v.clone()),
            Value::Text(s) => {
                serde_json::from_str(s).map_err(|e| StoreError::Decode(format!("column {i}: {e}")))
            }
            other => Err(type_err(i, "json", other)),
        }
    }

    /// JSON column decoded into a type.
    pub fn json_as<T: serde::de::DeserializeOwned>(&self, i: usize) -> Result<T, StoreError> {
        serde_json::from_value(self.json(i)?)
            .map_err(|e| StoreError::Decode(format!("column {i}: {e}")))
    }
}

/// Which SQL dialect a connection speaks; the few places SQL differs ask this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A connection (inside a transaction or not) that runs SQL written with `$1` placeholders.
pub trait Conn {
    /// The dialect.
    fn dialect(&self) -> Dialect;
    /// Runs a statement, returning the number of rows changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    /// Runs a query, returning all rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
    /// Runs several statements without parameters (migrations, savepoints).
    fn batch(&mut self, sql: &str) -> Result<(), StoreError>;
}
