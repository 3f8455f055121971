//! Typed reads of JSON values with errors that name what was expected and
//! what was found (`expected integer, found string "abc"`).
//!
//! Payload envelopes are deserialised into typed structs; the values a
//! record is made of stay [`Value`]s until one record is converted, so one
//! wrong-typed field quarantines that record and nothing else.

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// A field whose value does not have the expected type or form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: expected {expected}, found {found}")]
pub struct FieldError {
    /// The field's name ("PTS", "homeTeam.score", "price").
    pub field: String,
    pub expected: String,
    pub found: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    /// The reason without the field name, as stored in the quarantine
    /// (`expected integer, found string "abc"`).
    pub fn reason(&self) -> String {
        format!("expected {}, found {}", self.expected, self.found)
    }

    fn missing(field: &str, expected: &'static str) -> Self {
        FieldError::new(field, expected, "no value (field missing)")
    }
}

/// Describes a value for an error message: `string "abc"`, `null`,
/// `float 1.5`, `integer 7`.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) if n.is_f64() => format!("float {n}"),
        Value::Number(n) => format!("integer {n}"),
        Value::String(s) => {
            let cut: String = s.chars().take(40).collect();
            if cut.len() < s.len() {
                format!("string {cut:?}…")
            } else {
                format!("string {s:?}")
            }
        }
        Value::Array(a) => format!("array of {} values", a.len()),
        Value::Object(_) => "object".to_string(),
    }
}

/// An integer. A float with no fractional part (`28.0`) is accepted.
pub fn int(field: &str, value: &Value) -> Result<i64, FieldError> {
    if let Some(i) = value.as_i64() {
        return Ok(i);
    }
    if let Some(f) = value.as_f64()
        && f.fract() == 0.0
        && f.abs() < 9.0e15
    {
        return Ok(f as i64);
    }
    Err(FieldError::new(field, "integer", describe(value)))
}

/// An integer or NULL.
pub fn opt_int(field: &str, value: &Value) -> Result<Option<i64>, FieldError> {
    match value {
        Value::Null => Ok(None),
        other => int(field, other).map(Some),
    }
}

/// A number (integer or float).
pub fn float(field: &str, value: &Value) -> Result<f64, FieldError> {
    value
        .as_f64()
        .filter(|f| f.is_finite())
        .ok_or_else(|| FieldError::new(field, "number", describe(value)))
}

/// A string.
pub fn string<'v>(field: &str, value: &'v Value) -> Result<&'v str, FieldError> {
    value
        .as_str()
        .ok_or_else(|| FieldError::new(field, "string", describe(value)))
}

/// A non-empty string (surrounding whitespace trimmed).
pub fn non_empty<'v>(field: &str, value: &'v Value) -> Result<&'v str, FieldError> {
    let s = string(field, value)?.trim();
    if s.is_empty() {
        Err(FieldError::new(field, "non-empty string", "empty string"))
    } else {
        Ok(s)
    }
}

/// A string or NULL; an empty string is NULL too.
pub fn opt_string<'v>(field: &str, value: &'v Value) -> Result<Option<&'v str>, FieldError> {
    match value {
        Value::Null => Ok(None),
        other => {
            let s = string(field, other)?.trim();
            Ok((!s.is_empty()).then_some(s))
        }
    }
}

/// A string id; an integer id is accepted and printed as is.
pub fn id_string(field: &str, value: &Value) -> Result<String, FieldError> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        other => Err(FieldError::new(
            field,
            "id (string or integer)",
            describe(other),
        )),
    }
}

/// A date `YYYY-MM-DD`, possibly followed by a time (`2025-03-15T00:00:00`).
pub fn date(field: &str, value: &Value) -> Result<NaiveDate, FieldError> {
    let s = string(field, value)?;
    s.get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| FieldError::new(field, "date YYYY-MM-DD", describe(value)))
}

/// An RFC 3339 instant (`2025-11-01T17:00:00Z`).
pub fn instant(field: &str, value: &Value) -> Result<DateTime<Utc>, FieldError> {
    let s = string(field, value)?;
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| FieldError::new(field, "RFC 3339 timestamp", describe(value)))
}

/// Minutes played: an integer, a float, `"MM:SS"`, `"MM"` or ISO 8601
/// `"PT25M01.00S"`.
pub fn minutes(field: &str, value: &Value) -> Result<f64, FieldError> {
    let bad = || {
        FieldError::new(
            field,
            "minutes (number, \"MM:SS\" or \"PT#M#S\")",
            describe(value),
        )
    };
    match value {
        Value::Number(_) => {
            let m = float(field, value)?;
            if m < 0.0 { Err(bad()) } else { Ok(m) }
        }
        Value::String(s) => parse_minutes_text(s).ok_or_else(bad),
        _ => Err(bad()),
    }
}

fn parse_minutes_text(text: &str) -> Option<f64> {
    let t = text.trim();
    if let Some(iso) = t.strip_prefix("PT") {
        let (m, rest) = iso.split_once('M')?;
        let s = rest.strip_suffix('S').unwrap_or(rest);
        let m: f64 = m.parse().ok()?;
        let s: f64 = if s.is_empty() { 0.0 } else { s.parse().ok()? };
        return valid_minutes(m, s);
    }
    match t.split_once(':') {
        Some((m, s)) => {
            let m: f64 = m.parse::<u32>().ok()?.into();
            let s: f64 = s.parse::<f64>().ok()?;
            valid_minutes(m, s)
        }
        None => {
            let m: f64 = t.parse().ok()?;
            valid_minutes(m, 0.0)
        }
    }
}

fn valid_minutes(m: f64, s: f64) -> Option<f64> {
    (m.is_finite() && m >= 0.0 && (0.0..60.0).contains(&s)).then(|| m + s / 60.0)
}

/// Reads the fields of one JSON object, prefixing nested names
/// (`homeTeam.score`).
#[derive(Clone)]
pub struct Obj<'v> {
    map: &'v serde_json::Map<String, Value>,
    prefix: String,
}

impl<'v> Obj<'v> {
    /// The object `value`, or an error naming `what`.
    pub fn new(what: &str, value: &'v Value) -> Result<Self, FieldError> {
        match value {
            Value::Object(map) => Ok(Obj {
                map,
                prefix: String::new(),
            }),
            other => Err(FieldError::new(what, "object", describe(other))),
        }
    }

    /// The full name of `key` in this object (`homeTeam.score`), for errors.
    pub fn name(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    /// The raw value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&'v Value> {
        self.map.get(key)
    }

    fn req(&self, key: &str, expected: &'static str) -> Result<&'v Value, FieldError> {
        self.map
            .get(key)
            .ok_or_else(|| FieldError::missing(&self.name(key), expected))
    }

    pub fn object(&self, key: &str) -> Result<Obj<'v>, FieldError> {
        match self.req(key, "object")? {
            Value::Object(map) => Ok(Obj {
                map,
                prefix: self.name(key),
            }),
            other => Err(FieldError::new(self.name(key), "object", describe(other))),
        }
    }

    pub fn int(&self, key: &str) -> Result<i64, FieldError> {
        int(&self.name(key), self.req(key, "integer")?)
    }

    pub fn string(&self, key: &str) -> Result<&'v str, FieldError> {
        string(&self.name(key), self.req(key, "string")?)
    }

    pub fn non_empty(&self, key: &str) -> Result<&'v str, FieldError> {
        non_empty(&self.name(key), self.req(key, "non-empty string")?)
    }

    /// A string; missing, NULL and empty are all `None`.
    pub fn opt_string(&self, key: &str) -> Result<Option<&'v str>, FieldError> {
        match self.map.get(key) {
            None => Ok(None),
            Some(v) => opt_string(&self.name(key), v),
        }
    }

    pub fn instant(&self, key: &str) -> Result<DateTime<Utc>, FieldError> {
        instant(&self.name(key), self.req(key, "RFC 3339 timestamp")?)
    }

    pub fn date(&self, key: &str) -> Result<NaiveDate, FieldError> {
        date(&self.name(key), self.req(key, "date YYYY-MM-DD")?)
    }
}

/// One JSON value captured without ever failing to deserialise: scalars
/// are kept (strings borrowed from the payload when unescaped), arrays and
/// objects are skipped and only noted. Typed payload structs use it for
/// every leaf, so a wrong-typed field is reported for its own record
/// instead of failing the whole file.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Scalar<'a> {
    /// The field is absent.
    #[default]
    Missing,
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    /// An array of this many values (skipped).
    Array(usize),
    /// An object (skipped).
    Object,
}

impl<'a> Scalar<'a> {
    /// Describes the value for an error message, like [`describe`].
    pub fn describe(&self) -> String {
        match self {
            Scalar::Missing => "no value (field missing)".to_string(),
            Scalar::Null => "null".to_string(),
            Scalar::Bool(b) => format!("boolean {b}"),
            Scalar::Int(i) => format!("integer {i}"),
            Scalar::Float(f) => format!("float {}", Value::from(*f)),
            Scalar::Str(s) => describe(&Value::String(s.to_string())),
            Scalar::Array(n) => format!("array of {n} values"),
            Scalar::Object => "object".to_string(),
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::Int(i) => Some(*i as f64),
            Scalar::Float(f) => Some(*f),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as JSON, for excerpts (arrays and objects as empty ones).
    pub fn to_value(&self) -> Value {
        match self {
            Scalar::Missing | Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Int(i) => Value::from(*i),
            Scalar::Float(f) => Value::from(*f),
            Scalar::Str(s) => Value::String(s.to_string()),
            Scalar::Array(_) => Value::Array(Vec::new()),
            Scalar::Object => Value::Object(serde_json::Map::new()),
        }
    }

    /// A number.
    pub fn float(&self, field: &str) -> Result<f64, FieldError> {
        self.as_f64()
            .filter(|f| f.is_finite())
            .ok_or_else(|| FieldError::new(field, "number", self.describe()))
    }

    /// A non-empty string (surrounding whitespace trimmed).
    pub fn non_empty(&self, field: &str) -> Result<&str, FieldError> {
        match self {
            Scalar::Str(s) if !s.trim().is_empty() => Ok(s.trim()),
            Scalar::Str(_) => Err(FieldError::new(field, "non-empty string", "empty string")),
            other => Err(FieldError::new(field, "non-empty string", other.describe())),
        }
    }

    /// A string; missing, NULL and empty are all `None`.
    pub fn opt_string(&self, field: &str) -> Result<Option<&str>, FieldError> {
        match self {
            Scalar::Missing | Scalar::Null => Ok(None),
            Scalar::Str(s) => Ok(Some(s.trim()).filter(|s| !s.is_empty())),
            other => Err(FieldError::new(field, "string", other.describe())),
        }
    }

    /// An RFC 3339 instant.
    pub fn instant(&self, field: &str) -> Result<DateTime<Utc>, FieldError> {
        let bad = || FieldError::new(field, "RFC 3339 timestamp", self.describe());
        let s = self.as_str().ok_or_else(bad)?;
        DateTime::parse_from_rfc3339(s.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| bad())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar<'de>, E> {
                Ok(i64::try_from(v).map_or(Scalar::Float(v as f64), Scalar::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v)))
            }
            fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar<'de>, D::Error> {
                Scalar::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'de>, A::Error> {
                let mut n = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Scalar::Array(n))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Object)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// One element of a payload array that should be an object: the typed
/// record, or what was found instead (the element is then quarantined).
#[derive(Debug, Clone, PartialEq)]
pub enum Item<T> {
    Record(T),
    NotObject(String),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Item<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Item<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Item<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Item::Record)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Item<T>, E> {
                Ok(Item::NotObject(format!("boolean {v}")))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Item<T>, E> {
                Ok(Item::NotObject(format!("integer {v}")))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Item<T>, E> {
                Ok(Item::NotObject(format!("integer {v}")))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Item<T>, E> {
                Ok(Item::NotObject(format!("float {v}")))
            }
            fn visit_str<E>(self, v: &str) -> Result<Item<T>, E> {
                Ok(Item::NotObject(describe(&Value::String(v.to_string()))))
            }
            fn visit_unit<E>(self) -> Result<Item<T>, E> {
                Ok(Item::NotObject("null".to_string()))
            }
            fn visit_none<E>(self) -> Result<Item<T>, E> {
                Ok(Item::NotObject("null".to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item<T>, A::Error> {
                let mut n = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Item::NotObject(format!("array of {n} values")))
            }
        }
        deserializer.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A payload array of records; anything else (or nothing) is noted
/// instead of failing the file.
#[derive(Debug, Clone, PartialEq)]
pub enum List<T> {
    Items(Vec<Item<T>>),
    /// Missing or null: no records.
    Absent,
    NotArray(String),
}

// Not derived: a derive would require `T: Default`.
#[allow(clippy::derivable_impls)]
impl<T> Default for List<T> {
    fn default() -> Self {
        List::Absent
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Either::<T>::deserialize(deserializer)? {
            Either::List(items) => Ok(List::Items(items)),
            Either::Other(Scalar::Null | Scalar::Missing) => Ok(List::Absent),
            Either::Other(other) => Ok(List::NotArray(other.describe())),
        }
    }
}

/// An array of items, or any other value.
enum Either<'de, T> {
    List(Vec<Item<T>>),
    Other(Scalar<'de>),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Either<'de, T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Either<'de, T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(item) = seq.next_element::<Item<T>>()? {
                    items.push(item);
                }
                Ok(Either::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Either::Other(Scalar::Object))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Either::Other(Scalar::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Either::Other(Scalar::Int(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Either::Other(Scalar::Float(v as f64)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Either::Other(Scalar::Float(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Either::Other(Scalar::Str(Cow::Owned(v.to_string()))))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Either::Other(Scalar::Null))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Either::Other(Scalar::Null))
            }
        }
        deserializer.deserialize_any(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integer_errors_say_what_was_found() {
        assert_eq!(int("PTS", &json!(28)).unwrap(), 28);
        assert_eq!(int("PTS", &json!(28.0)).unwrap(), 28);
        let e = int("PTS", &json!("abc")).unwrap_err();
        assert_eq!(e.reason(), "expected integer, found string \"abc\"");
        assert_eq!(e.field, "PTS");
        assert_eq!(
            int("PTS", &Value::Null).unwrap_err().reason(),
            "expected integer, found null"
        );
        assert_eq!(
            int("PTS", &json!(1.5)).unwrap_err().reason(),
            "expected integer, found float 1.5"
        );
        assert_eq!(opt_int("PLUS_MINUS", &Value::Null).unwrap(), None);
    }

    #[test]
    fn minutes_in_every_form() {
        assert_eq!(minutes("MIN", &json!(35)).unwrap(), 35.0);
        assert_eq!(minutes("MIN", &json!(34.5)).unwrap(), 34.5);
        assert_eq!(minutes("MIN", &json!("49:30")).unwrap(), 49.5);
        assert_eq!(minutes("MIN", &json!("7:28")).unwrap(), 7.0 + 28.0 / 60.0);
        assert_eq!(minutes("MIN", &json!("12")).unwrap(), 12.0);
        assert_eq!(
            minutes("MIN", &json!("PT25M01.00S")).unwrap(),
            25.0 + 1.0 / 60.0
        );
        assert!(minutes("MIN", &json!("12:75")).is_err());
        assert!(minutes("MIN", &json!("DNP")).is_err());
        assert!(minutes("MIN", &Value::Null).is_err());
        assert!(minutes("MIN", &json!(-3)).is_err());
    }

    #[test]
    fn nested_fields_are_named_with_their_parent() {
        let v = json!({"homeTeam": {"score": "x"}});
        let o = Obj::new("game", &v).unwrap();
        let e = o.object("homeTeam").unwrap().int("score").unwrap_err();
        assert_eq!(e.field, "homeTeam.score");
        let e = o.int("gameStatus").unwrap_err();
        assert_eq!(
            e.reason(),
            "expected integer, found no value (field missing)"
        );
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Outcome<'a> {
        #[serde(borrow, default)]
        name: Scalar<'a>,
        #[serde(borrow, default)]
        price: Scalar<'a>,
    }

    #[test]
    fn tolerant_records_never_fail_the_file() {
        let text = r#"[{"name":"Over","price":-115},{"name":"Under","price":"abc"},{"price":[1,2]},7,null]"#;
        let list: List<Outcome<'_>> = serde_json::from_str(text).unwrap();
        let List::Items(items) = list else {
            panic!("a list")
        };
        assert_eq!(items.len(), 5);
        let Item::Record(first) = &items[0] else {
            panic!("a record")
        };
        assert!(matches!(first.name, Scalar::Str(Cow::Borrowed("Over"))));
        assert_eq!(first.price.float("price").unwrap(), -115.0);
        let Item::Record(second) = &items[1] else {
            panic!("a record")
        };
        assert_eq!(
            second.price.float("price").unwrap_err().reason(),
            "expected number, found string \"abc\""
        );
        let Item::Record(third) = &items[2] else {
            panic!("a record")
        };
        assert_eq!(third.name, Scalar::Missing);
        assert_eq!(third.price.describe(), "array of 2 values");
        assert_eq!(items[3], Item::NotObject("integer 7".to_string()));
        assert_eq!(items[4], Item::NotObject("null".to_string()));
        let not_list: List<Outcome<'_>> = serde_json::from_str(r#""x""#).unwrap();
        assert_eq!(not_list, List::NotArray("string \"x\"".to_string()));
        let absent: List<Outcome<'_>> = serde_json::from_str("null").unwrap();
        assert_eq!(absent, List::Absent);
    }
}
