//! Values bound to and read from statements, the same on both dialects.
//!
//! Oracle stores `''` as NULL; so that the embedded store behaves exactly like Oracle, an empty
//! text binds as NULL on both.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use super::StoreError;

/// A bind value or a column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
    Time(DateTime<Utc>),
}

impl Value {
    /// The value as it is bound: empty text becomes NULL (Oracle's rule, applied everywhere).
    pub fn normalized(&self) -> &Value {
        match self {
            Value::Text(s) if s.is_empty() => &Value::Null,
            v => v,
        }
    }
}

/// Fixed-width ISO-8601 UTC text: how the embedded store keeps times (it sorts like time).
pub fn time_to_text(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn text_to_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|n| Utc.from_utc_datetime(&n))
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v as i64)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(v as i64)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(v as i64)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
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
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Self {
        Value::Time(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Value::Null)
    }
}

/// One result row: values in select-list order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> Result<&Value, StoreError> {
        self.0.get(i).ok_or_else(|| {
            StoreError::Decode(format!("no column {i} in a row of {}", self.0.len()))
        })
    }

    pub fn opt_i64(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            Value::Float(f) if f.fract() == 0.0 => Ok(Some(*f as i64)),
            Value::Text(s) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| StoreError::Decode(format!("column {i}: {s:?} is not an integer"))),
            v => Err(StoreError::Decode(format!(
                "column {i}: {v:?} is not an integer"
            ))),
        }
    }

    pub fn i64(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_i64(i)?
            .ok_or_else(|| StoreError::Decode(format!("column {i} is NULL")))
    }

    pub fn opt_f64(&self, i: usize) -> Result<Option<f64>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v as f64)),
            Value::Float(f) => Ok(Some(*f)),
            v => Err(StoreError::Decode(format!(
                "column {i}: {v:?} is not a number"
            ))),
        }
    }

    pub fn opt_str(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s.clone())),
            Value::Int(v) => Ok(Some(v.to_string())),
            Value::Float(v) => Ok(Some(v.to_string())),
            Value::Time(t) => Ok(Some(time_to_text(t))),
            Value::Blob(b) => Ok(Some(String::from_utf8_lossy(b).into_owned())),
        }
    }

    /// Text column; NULL reads as the empty string (Oracle cannot tell them apart).
    pub fn str(&self, i: usize) -> Result<String, StoreError> {
        Ok(self.opt_str(i)?.unwrap_or_default())
    }

    pub fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Time(t) => Ok(Some(*t)),
            Value::Text(s) => text_to_time(s)
                .map(Some)
                .ok_or_else(|| StoreError::Decode(format!("column {i}: {s:?} is not a time"))),
            v => Err(StoreError::Decode(format!(
                "column {i}: {v:?} is not a time"
            ))),
        }
    }

    pub fn blob(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        match self.at(i)? {
            Value::Null => Ok(Vec::new()),
            Value::Blob(b) => Ok(b.clone()),
            Value::Text(s) => Ok(s.as_bytes().to_vec()),
            v => Err(StoreError::Decode(format!(
                "column {i}: {v:?} is not binary"
            ))),
        }
    }
}

/// Builds a bind list: `binds![":name" => value, ...]` (the leading colon is optional).
#[macro_export]
macro_rules! binds {
    () => { Vec::<(&'static str, $crate::store::Value)>::new() };
    ($($name:expr => $val:expr),+ $(,)?) => {{
        // a Vec, so that callers may extend it; most just borrow it as a slice
        #[allow(clippy::useless_vec)]
        let binds = vec![$(($name, $crate::store::Value::from($val))),+];
        binds
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_text_binds_as_null() {
        assert_eq!(Value::from("").normalized(), &Value::Null);
        assert_eq!(Value::from("x").normalized(), &Value::from("x"));
    }

    #[test]
    fn times_round_trip_through_text() {
        let t = Utc.with_ymd_and_hms(2026, 11, 29, 10, 2, 3).unwrap();
        let s = time_to_text(&t);
        assert_eq!(s, "2026-11-29T10:02:03.000000Z");
        assert_eq!(text_to_time(&s), Some(t));
    }
}
