//! Conversions between the store's values and the driver's: how each value binds, and how
//! each column type reads back.

use ::oracle::sql_type::{OracleType, Timestamp};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc};

use crate::store::Value;

/// Text up to this many bytes binds as VARCHAR2; longer text binds as a LOB (the crate then
/// sends it as LONG, which Oracle accepts for CLOB columns).
pub(crate) const MAX_VARCHAR_BIND: usize = 4000;
/// Binary data up to this many bytes binds as RAW (usable anywhere in SQL); longer data binds
/// as a BLOB (sent as LONG RAW, accepted for BLOB columns). A bare RAW bind is limited to
/// 32767 bytes.
pub(crate) const MAX_RAW_BIND: usize = 2000;

/// How one value binds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BindKind {
    /// A NULL typed VARCHAR2: Oracle converts it implicitly for NUMBER, DATE, TIMESTAMP, CLOB
    /// and BLOB columns alike.
    Null,
    Int(i64),
    Float(f64),
    Varchar(u32),
    Clob,
    Raw(u32),
    Blob,
    Time,
}

impl BindKind {
    /// The Oracle type the bind variable is created with.
    pub(crate) fn oracle_type(&self) -> OracleType {
        match *self {
            BindKind::Null => OracleType::Varchar2(1),
            BindKind::Int(_) | BindKind::Float(_) => OracleType::Number(0, 0),
            BindKind::Varchar(n) => OracleType::Varchar2(n.max(1)),
            BindKind::Clob => OracleType::CLOB,
            BindKind::Raw(n) => OracleType::Raw(n.max(1)),
            BindKind::Blob => OracleType::BLOB,
            BindKind::Time => OracleType::TimestampTZ(9),
        }
    }
}

pub(crate) fn bind_kind(v: &Value) -> BindKind {
    match v.normalized() {
        Value::Null => BindKind::Null,
        Value::Int(i) => BindKind::Int(*i),
        Value::Float(f) => BindKind::Float(*f),
        Value::Text(s) if s.len() <= MAX_VARCHAR_BIND => BindKind::Varchar(s.len() as u32),
        Value::Text(_) => BindKind::Clob,
        Value::Blob(b) if b.is_empty() => BindKind::Null, // Oracle stores an empty RAW as NULL
        Value::Blob(b) if b.len() <= MAX_RAW_BIND => BindKind::Raw(b.len() as u32),
        Value::Blob(_) => BindKind::Blob,
        Value::Time(_) => BindKind::Time,
    }
}

/// A UTC time as a `TIMESTAMP WITH TIME ZONE` value (offset +00:00).
pub(crate) fn time_to_timestamp(t: &DateTime<Utc>) -> Result<Timestamp, String> {
    Timestamp::new(
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second().min(59),
        t.nanosecond().min(999_999_999),
    )
    .and_then(|ts| ts.and_tz_offset(0))
    .map_err(|e| format!("time {t} cannot be stored: {e}"))
}

/// A DATE / TIMESTAMP [WITH [LOCAL] TIME ZONE] value as UTC: a value without a time zone is
/// taken as UTC (the store writes UTC and its sessions run with TIME_ZONE '+00:00').
pub(crate) fn timestamp_to_time(ts: &Timestamp) -> Option<DateTime<Utc>> {
    let local = NaiveDate::from_ymd_opt(ts.year(), ts.month(), ts.day())?.and_hms_nano_opt(
        ts.hour(),
        ts.minute(),
        ts.second(),
        ts.nanosecond(),
    )?;
    let utc = local - chrono::Duration::seconds(ts.tz_offset() as i64);
    Some(Utc.from_utc_datetime(&utc))
}

/// How a column of this type reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadAs {
    /// NUMBER(p, 0), INTEGER, native integers.
    Int,
    /// NUMBER without precision and scale (e.g. COUNT(*), MAX(id)), FLOAT, NUMBER(p, -s): the
    /// value's own text decides (integer or not).
    Number,
    /// NUMBER(p, s > 0), BINARY_FLOAT, BINARY_DOUBLE.
    Float,
    Text,
    Bytes,
    Time,
    Bool,
    Unsupported,
}

pub(crate) fn read_as(t: &OracleType) -> ReadAs {
    match t {
        OracleType::Number(_, 0) | OracleType::Int64 | OracleType::UInt64 => ReadAs::Int,
        OracleType::Number(_, s) if *s > 0 => ReadAs::Float,
        OracleType::Number(_, _) | OracleType::Float(_) => ReadAs::Number,
        OracleType::BinaryFloat | OracleType::BinaryDouble => ReadAs::Float,
        OracleType::Varchar2(_)
        | OracleType::NVarchar2(_)
        | OracleType::Char(_)
        | OracleType::NChar(_)
        | OracleType::CLOB
        | OracleType::NCLOB
        | OracleType::Long
        | OracleType::Rowid
        | OracleType::Xml
        | OracleType::IntervalDS(_, _)
        | OracleType::IntervalYM(_) => ReadAs::Text,
        OracleType::Raw(_) | OracleType::BLOB | OracleType::LongRaw => ReadAs::Bytes,
        OracleType::Date
        | OracleType::Timestamp(_)
        | OracleType::TimestampTZ(_)
        | OracleType::TimestampLTZ(_) => ReadAs::Time,
        OracleType::Boolean => ReadAs::Bool,
        _ => ReadAs::Unsupported,
    }
}

/// A NUMBER's text as an integer when it is one, otherwise as a float.
pub(crate) fn number_text(s: &str) -> Option<Value> {
    let s = s.trim();
    if let Ok(i) = s.parse::<i64>() {
        return Some(Value::Int(i));
    }
    s.parse::<f64>().ok().map(Value::Float)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_kinds() {
        assert_eq!(bind_kind(&Value::Null), BindKind::Null);
        assert_eq!(bind_kind(&Value::from("")), BindKind::Null);
        assert_eq!(bind_kind(&Value::from("abc")), BindKind::Varchar(3));
        assert_eq!(bind_kind(&Value::from("é")), BindKind::Varchar(2));
        assert_eq!(bind_kind(&Value::from("x".repeat(4001))), BindKind::Clob);
        assert_eq!(bind_kind(&Value::Blob(vec![1, 2])), BindKind::Raw(2));
        assert_eq!(bind_kind(&Value::Blob(vec![0; 40_000])), BindKind::Blob);
        assert_eq!(bind_kind(&Value::Blob(vec![])), BindKind::Null);
        assert_eq!(bind_kind(&Value::Int(7)), BindKind::Int(7));
        assert_eq!(BindKind::Blob.oracle_type(), OracleType::BLOB);
        assert_eq!(BindKind::Varchar(0).oracle_type(), OracleType::Varchar2(1));
        assert_eq!(BindKind::Time.oracle_type(), OracleType::TimestampTZ(9));
    }

    #[test]
    fn times_round_trip() {
        let t = Utc.with_ymd_and_hms(2026, 11, 29, 10, 2, 3).unwrap()
            + chrono::Duration::microseconds(123_456);
        let ts = time_to_timestamp(&t).unwrap();
        assert!(ts.with_tz());
        assert_eq!(ts.tz_offset(), 0);
        assert_eq!((ts.year(), ts.month(), ts.day()), (2026, 11, 29));
        assert_eq!(ts.nanosecond(), 123_456_000);
        assert_eq!(timestamp_to_time(&ts), Some(t));
        // A value in another zone reads as the same instant in UTC.
        let east = Timestamp::new(2026, 11, 29, 12, 2, 3, 0)
            .unwrap()
            .and_tz_hm_offset(2, 0)
            .unwrap();
        assert_eq!(
            timestamp_to_time(&east),
            Some(Utc.with_ymd_and_hms(2026, 11, 29, 10, 2, 3).unwrap())
        );
        // DATE / TIMESTAMP without a zone read as UTC.
        let plain = Timestamp::new(2000, 1, 1, 0, 0, 0, 0).unwrap();
        assert_eq!(
            timestamp_to_time(&plain),
            Some(Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap())
        );
        // Out of Oracle's range: an error, not a panic.
        let far = Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap();
        assert!(time_to_timestamp(&far).is_err());
    }

    #[test]
    fn column_types() {
        assert_eq!(read_as(&OracleType::Number(10, 0)), ReadAs::Int);
        assert_eq!(read_as(&OracleType::Number(0, -127)), ReadAs::Number);
        assert_eq!(read_as(&OracleType::Number(10, 2)), ReadAs::Float);
        assert_eq!(read_as(&OracleType::Float(126)), ReadAs::Number);
        assert_eq!(read_as(&OracleType::BinaryDouble), ReadAs::Float);
        assert_eq!(read_as(&OracleType::Varchar2(10)), ReadAs::Text);
        assert_eq!(read_as(&OracleType::CLOB), ReadAs::Text);
        assert_eq!(read_as(&OracleType::NCLOB), ReadAs::Text);
        assert_eq!(read_as(&OracleType::Char(1)), ReadAs::Text);
        assert_eq!(read_as(&OracleType::BLOB), ReadAs::Bytes);
        assert_eq!(read_as(&OracleType::Raw(16)), ReadAs::Bytes);
        assert_eq!(read_as(&OracleType::Date), ReadAs::Time);
        assert_eq!(read_as(&OracleType::TimestampTZ(6)), ReadAs::Time);
        assert_eq!(read_as(&OracleType::TimestampLTZ(6)), ReadAs::Time);
    }

    #[test]
    fn number_texts() {
        assert_eq!(number_text("42"), Some(Value::Int(42)));
        assert_eq!(number_text("-7"), Some(Value::Int(-7)));
        assert_eq!(number_text("1.5"), Some(Value::Float(1.5)));
        assert_eq!(number_text(".5"), Some(Value::Float(0.5)));
        assert_eq!(number_text("1e30"), Some(Value::Float(1e30)));
        assert_eq!(number_text("x"), None);
    }
}
