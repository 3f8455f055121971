//! Typed rows to column values without JSON: a serde serializer that turns
//! each row struct of a table straight into its [`Param`]s in catalog
//! column order. It accepts and refuses exactly what
//! [`values::convert_rows`] does for the row's JSON record (the same
//! coercions, non-finite floats as NULL as `serde_json` writes them, the
//! same NULL checks and `BadValue` errors naming row and column), so a
//! writer may take either road; it only skips the map built per row and the
//! dates and timestamps printed only to be parsed back.

use super::values::{parse_date, parse_timestamp, type_name};
use super::{Param, Record, WarehouseError};
use chrono::SecondsFormat;
use propcast_core::{ColumnType, TableDef};
use serde::Serialize;
use serde::ser::{self, Error as _, Impossible};
use std::fmt;

/// The column values of `rows`, in catalog order, checked as
/// [`values::convert_rows`] checks records.
pub fn typed_rows<T: Serialize>(
    def: &TableDef,
    rows: &[T],
) -> Result<Vec<Vec<Param>>, WarehouseError> {
    let bad = |row: usize, column: &str, message: String| WarehouseError::BadValue {
        table: def.qualified(),
        row,
        column: column.to_string(),
        message,
    };
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let mut cells: Vec<Option<Param>> = vec![None; def.columns.len()];
        row.serialize(RowSerializer {
            def,
            cells: &mut cells,
        })
        .map_err(|e| bad(i, &e.column, e.message))?;
        let mut values = Vec::with_capacity(cells.len());
        for (c, cell) in def.columns.iter().zip(cells) {
            let value = match cell {
                Some(v) if v.is_null() && !c.nullable => {
                    return Err(bad(i, c.name, "null in a non-nullable column".into()));
                }
                Some(v) => v,
                None if !c.nullable => {
                    return Err(bad(
                        i,
                        c.name,
                        "missing value for a non-nullable column".into(),
                    ));
                }
                None => Param::Null(c.ty),
            };
            values.push(value);
        }
        out.push(values);
    }
    Ok(out)
}

/// Column values back to records, for a backend that writes records: the
/// record [`super::to_records`] would have made of the same row, as far as
/// [`values::convert_rows`] can tell (dates `YYYY-MM-DD`, timestamps RFC
/// 3339 UTC, NULL as null).
pub fn records_of(def: &TableDef, rows: Vec<Vec<Param>>) -> Vec<Record> {
    rows.into_iter()
        .map(|row| {
            def.columns
                .iter()
                .zip(row)
                .map(|(c, value)| (c.name.to_string(), json_of(value)))
                .collect()
        })
        .collect()
}

fn json_of(value: Param) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Param::Bool(b) => J::Bool(b),
        Param::Int(i) => J::from(i),
        Param::Float(x) => serde_json::Number::from_f64(x).map_or(J::Null, J::Number),
        Param::Text(s) => J::String(s),
        Param::Date(d) => J::String(d.format("%Y-%m-%d").to_string()),
        Param::Timestamp(ts) => J::String(ts.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        Param::Null(_) => J::Null,
    }
}

/// What went wrong with a row: the column (or field) and why.
#[derive(Debug)]
struct CellError {
    column: String,
    message: String,
}

impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.column, self.message)
    }
}

impl std::error::Error for CellError {}

impl ser::Error for CellError {
    fn custom<M: fmt::Display>(message: M) -> Self {
        CellError {
            column: String::new(),
            message: message.to_string(),
        }
    }
}

fn not_a(ty: ColumnType, what: impl fmt::Display) -> CellError {
    CellError::custom(format!("{what} is not a {}", type_name(ty)))
}

struct RowSerializer<'a> {
    def: &'a TableDef,
    cells: &'a mut Vec<Option<Param>>,
}

struct FieldsSerializer<'a> {
    def: &'a TableDef,
    cells: &'a mut Vec<Option<Param>>,
    /// Where the next field is expected: struct fields and catalog columns
    /// are declared in the same order, so the search is usually one step.
    next: usize,
}

impl<'a> ser::SerializeStruct for FieldsSerializer<'a> {
    type Ok = ();
    type Error = CellError;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), CellError> {
        let columns = self.def.columns;
        let index = if columns.get(self.next).is_some_and(|c| c.name == key) {
            self.next
        } else {
            columns
                .iter()
                .position(|c| c.name == key)
                .ok_or_else(|| CellError {
                    column: key.to_string(),
                    message: "no such column in the table".to_string(),
                })?
        };
        let ty = columns[index].ty;
        let param = value
            .serialize(CellSerializer { ty })
            .map_err(|e| CellError {
                column: key.to_string(),
                message: e.message,
            })?;
        self.cells[index] = Some(param);
        self.next = index + 1;
        Ok(())
    }

    fn end(self) -> Result<(), CellError> {
        Ok(())
    }
}

macro_rules! not_a_struct {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $arg),*) -> Result<Self::Ok, CellError> {
            Err(CellError::custom("a table row must serialise as a struct"))
        })*
    };
}

impl<'a> ser::Serializer for RowSerializer<'a> {
    type Ok = ();
    type Error = CellError;
    type SerializeSeq = Impossible<(), CellError>;
    type SerializeTuple = Impossible<(), CellError>;
    type SerializeTupleStruct = Impossible<(), CellError>;
    type SerializeTupleVariant = Impossible<(), CellError>;
    type SerializeMap = Impossible<(), CellError>;
    type SerializeStruct = FieldsSerializer<'a>;
    type SerializeStructVariant = Impossible<(), CellError>;

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<FieldsSerializer<'a>, CellError> {
        Ok(FieldsSerializer {
            def: self.def,
            cells: self.cells,
            next: 0,
        })
    }

    not_a_struct!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<(), CellError> {
        Err(CellError::custom("a table row must serialise as a struct"))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), CellError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), CellError> {
        Err(CellError::custom("a table row must serialise as a struct"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, CellError> {
        Err(CellError::custom("a table row must serialise as a struct"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, CellError> {
        Err(CellError::custom("a table row must serialise as a struct"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, CellError> {
        Err(CellError::custom("a table row must serialise as a struct"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, CellError> {
        Err(CellError::custom("a table row must serialise as a struct"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, CellError> {
        Err(CellError::custom(
            "a table row must serialise as a struct (no flattened fields)",
        ))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, CellError> {
        Err(CellError::custom("a table row must serialise as a struct"))
    }
}

/// One field's value as the typed value of its column, with the coercions
/// of `json_to_param`: an integer column takes a whole float, a float
/// column an integer, dates and timestamps come as text.
struct CellSerializer {
    ty: ColumnType,
}

impl CellSerializer {
    fn int(self, v: i64) -> Result<Param, CellError> {
        match self.ty {
            ColumnType::Int => Ok(Param::Int(v)),
            ColumnType::Float => Ok(Param::Float(v as f64)),
            ty => Err(not_a(ty, v)),
        }
    }
}

impl ser::Serializer for CellSerializer {
    type Ok = Param;
    type Error = CellError;
    type SerializeSeq = Impossible<Param, CellError>;
    type SerializeTuple = Impossible<Param, CellError>;
    type SerializeTupleStruct = Impossible<Param, CellError>;
    type SerializeTupleVariant = Impossible<Param, CellError>;
    type SerializeMap = Impossible<Param, CellError>;
    type SerializeStruct = Impossible<Param, CellError>;
    type SerializeStructVariant = Impossible<Param, CellError>;

    fn serialize_bool(self, v: bool) -> Result<Param, CellError> {
        match self.ty {
            ColumnType::Bool => Ok(Param::Bool(v)),
            ty => Err(not_a(ty, v)),
        }
    }
    fn serialize_i8(self, v: i8) -> Result<Param, CellError> {
        self.int(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<Param, CellError> {
        self.int(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<Param, CellError> {
        self.int(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<Param, CellError> {
        self.int(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Param, CellError> {
        self.int(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<Param, CellError> {
        self.int(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<Param, CellError> {
        self.int(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<Param, CellError> {
        match i64::try_from(v) {
            Ok(i) => self.int(i),
            // serde_json keeps it as a u64 that json_to_param reads as a
            // float: a float column takes it, an integer column does not.
            Err(_) if self.ty == ColumnType::Float => Ok(Param::Float(v as f64)),
            Err(_) => Err(not_a(self.ty, v)),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<Param, CellError> {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<Param, CellError> {
        if !v.is_finite() {
            // serde_json writes NaN and infinities as null.
            return Ok(Param::Null(self.ty));
        }
        match self.ty {
            ColumnType::Float => Ok(Param::Float(v)),
            ColumnType::Int if v.fract() == 0.0 && v.abs() < 9.0e15 => Ok(Param::Int(v as i64)),
            ty => Err(not_a(ty, v)),
        }
    }
    fn serialize_char(self, v: char) -> Result<Param, CellError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<Param, CellError> {
        let message = |m: String| CellError::custom(m);
        match self.ty {
            ColumnType::Text => Ok(Param::Text(v.to_string())),
            ColumnType::Date => parse_date(v).map(Param::Date).map_err(message),
            ColumnType::Timestamp => parse_timestamp(v).map(Param::Timestamp).map_err(message),
            ty => Err(not_a(ty, format_args!("{v:?}"))),
        }
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Param, CellError> {
        Err(not_a(self.ty, "a byte string"))
    }
    fn serialize_none(self) -> Result<Param, CellError> {
        Ok(Param::Null(self.ty))
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Param, CellError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Param, CellError> {
        Ok(Param::Null(self.ty))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Param, CellError> {
        Ok(Param::Null(self.ty))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Param, CellError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Param, CellError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Param, CellError> {
        Err(not_a(self.ty, "an enum value with data"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, CellError> {
        Err(not_a(self.ty, "a list"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, CellError> {
        Err(not_a(self.ty, "a tuple"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, CellError> {
        Err(not_a(self.ty, "a tuple"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, CellError> {
        Err(not_a(self.ty, "an enum value with data"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, CellError> {
        Err(not_a(self.ty, "an object"))
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, CellError> {
        Err(not_a(self.ty, "an object"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, CellError> {
        Err(not_a(self.ty, "an enum value with data"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warehouse::values::convert_rows;
    use chrono::{DateTime, NaiveDate, Utc};
    use propcast_core::Column;

    const fn col(name: &'static str, ty: ColumnType, nullable: bool) -> Column {
        Column { name, ty, nullable }
    }

    const DEF: TableDef = TableDef {
        dataset: "test",
        name: "typed",
        columns: &[
            col("game_date", ColumnType::Date, false),
            col("at", ColumnType::Timestamp, false),
            col("name", ColumnType::Text, false),
            col("n", ColumnType::Int, true),
            col("x", ColumnType::Float, true),
            col("flag", ColumnType::Bool, true),
            col("status", ColumnType::Text, true),
            col("whole", ColumnType::Int, true),
            col("count_as_float", ColumnType::Float, true),
        ],
        primary_key: &["game_date", "name"],
        partition: "game_date",
    };

    #[derive(Serialize, Clone)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    enum Status {
        Success,
    }

    /// Declared out of catalog order on purpose (`flag` before `x`).
    #[derive(Serialize, Clone)]
    struct Row {
        game_date: NaiveDate,
        at: DateTime<Utc>,
        name: String,
        n: Option<i64>,
        flag: Option<bool>,
        x: Option<f64>,
        status: Status,
        whole: f64,
        count_as_float: i64,
    }

    fn row() -> Row {
        Row {
            game_date: "2025-11-09".parse().unwrap(),
            at: "2025-11-09T23:35:00.123456Z".parse().unwrap(),
            name: "Cade Cunningham".into(),
            n: Some(-3),
            flag: None,
            x: Some(0.1 + 0.2),
            status: Status::Success,
            whole: 41.0,
            count_as_float: 7,
        }
    }

    fn by_records<T: Serialize>(rows: &[T]) -> Result<Vec<Vec<Param>>, WarehouseError> {
        let records = rows
            .iter()
            .map(|r| match serde_json::to_value(r).unwrap() {
                serde_json::Value::Object(m) => m,
                _ => unreachable!(),
            })
            .collect();
        convert_rows(&DEF, records)
    }

    fn same<T: Serialize>(rows: &[T]) -> Result<Vec<Vec<Param>>, String> {
        let typed = typed_rows(&DEF, rows).map_err(|e| e.to_string());
        let records = by_records(rows).map_err(|e| e.to_string());
        assert_eq!(typed, records);
        typed
    }

    #[test]
    fn the_same_values_as_through_json_records() {
        let mut nan = row();
        nan.x = Some(f64::NAN);
        nan.n = None;
        let rows = same(&[row(), nan]).unwrap();
        assert_eq!(rows[0][3], Param::Int(-3));
        assert_eq!(rows[0][4], Param::Float(0.1 + 0.2), "floats exact");
        assert_eq!(rows[0][5], Param::Null(ColumnType::Bool));
        assert_eq!(rows[0][6], Param::Text("SUCCESS".into()));
        assert_eq!(
            rows[0][7],
            Param::Int(41),
            "a whole float in an integer column"
        );
        assert_eq!(rows[0][8], Param::Float(7.0));
        assert_eq!(rows[1][4], Param::Null(ColumnType::Float), "NaN is NULL");
        // The records made back are the ones the JSON road makes.
        assert_eq!(
            by_records(&records_of(&DEF, rows.clone())).unwrap(),
            rows,
            "records_of round trip"
        );
    }

    #[test]
    fn the_same_refusals_naming_row_and_column() {
        let mut fraction = row();
        fraction.whole = 41.5;
        let e = same(&[row(), fraction]).unwrap_err();
        assert!(e.contains("row 1 of test.typed: column whole"), "{e}");

        #[derive(Serialize)]
        struct BadDate {
            game_date: &'static str,
            at: &'static str,
            name: &'static str,
        }
        let e = same(&[BadDate {
            game_date: "09/11/2025",
            at: "2025-11-09T23:35:00Z",
            name: "x",
        }])
        .unwrap_err();
        assert!(
            e.contains("column game_date") && e.contains("YYYY-MM-DD"),
            "{e}"
        );

        #[derive(Serialize)]
        struct Missing {
            game_date: &'static str,
            at: &'static str,
        }
        let e = same(&[Missing {
            game_date: "2025-11-09",
            at: "2025-11-09T23:35:00Z",
        }])
        .unwrap_err();
        assert!(
            e.contains("column name: missing value for a non-nullable column"),
            "{e}"
        );

        #[derive(Serialize)]
        struct NullName {
            game_date: &'static str,
            at: &'static str,
            name: Option<String>,
        }
        let e = same(&[NullName {
            game_date: "2025-11-09",
            at: "2025-11-09T23:35:00Z",
            name: None,
        }])
        .unwrap_err();
        assert!(
            e.contains("column name: null in a non-nullable column"),
            "{e}"
        );

        #[derive(Serialize)]
        struct Unknown {
            game_date: &'static str,
            at: &'static str,
            name: &'static str,
            nickname: &'static str,
        }
        let e = typed_rows(
            &DEF,
            &[Unknown {
                game_date: "2025-11-09",
                at: "2025-11-09T23:35:00Z",
                name: "x",
                nickname: "y",
            }],
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("column nickname: no such column in the table"),
            "{e}"
        );
    }
}
