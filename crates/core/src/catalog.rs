//! The table catalog: every table's dataset, name, columns, key and partition.
//!
//! Row types are declared once with [`table!`](crate::table); the macro
//! derives the column list from the struct fields, so the catalog and the
//! rows cannot drift apart. Backends create tables from a [`TableDef`] and
//! never see a Rust row type.

use chrono::{DateTime, NaiveDate, Utc};

/// The logical type of a column, mapped by each warehouse to its own type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Bool,
    Int,
    Float,
    Text,
    Date,
    Timestamp,
}

/// One column of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
    pub nullable: bool,
}

/// A table: `dataset.name`, its columns, primary key and partition column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDef {
    pub dataset: &'static str,
    pub name: &'static str,
    pub columns: &'static [Column],
    pub primary_key: &'static [&'static str],
    /// The DATE column every write replaces by (one partition per date).
    pub partition: &'static str,
}

impl TableDef {
    /// `dataset.table`, the address used in SQL.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.dataset, self.name)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Whether a column is run metadata, allowed to differ between two runs
    /// of the same input (names ending in `_at`, and run ids).
    pub fn is_run_metadata(column: &str) -> bool {
        column.ends_with("_at")
            || matches!(
                column,
                "execution_id" | "correlation_id" | "run_id" | "batch_id"
            )
    }
}

/// A row type with its table definition.
pub trait Table: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static {
    const DEF: TableDef;
}

/// Maps a Rust field type to its column type.
pub trait ColumnKind {
    const TYPE: ColumnType;
    const NULLABLE: bool = false;
}

macro_rules! column_kind {
    ($($ty:ty => $kind:ident),* $(,)?) => {
        $(impl ColumnKind for $ty { const TYPE: ColumnType = ColumnType::$kind; })*
    };
}
column_kind! {
    bool => Bool,
    i32 => Int,
    i64 => Int,
    f64 => Float,
    String => Text,
    NaiveDate => Date,
    DateTime<Utc> => Timestamp,
}

impl<T: ColumnKind> ColumnKind for Option<T> {
    const TYPE: ColumnType = T::TYPE;
    const NULLABLE: bool = true;
}

/// Declares a row struct and its [`Table`] definition in one place.
///
/// ```ignore
/// table! {
///     /// One game.
///     pub struct Game in "nba_raw"."schedule", partition game_date, key [game_date, game_id] {
///         pub game_date: NaiveDate,
///         pub game_id: String,
///     }
/// }
/// ```
#[macro_export]
macro_rules! table {
    (
        $(#[$meta:meta])*
        pub struct $name:ident in $dataset:literal . $table:literal,
        partition $partition:ident, key [$($key:ident),* $(,)?] {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty ),*
        }

        impl $crate::catalog::Table for $name {
            const DEF: $crate::catalog::TableDef = $crate::catalog::TableDef {
                dataset: $dataset,
                name: $table,
                columns: &[
                    $( $crate::catalog::Column {
                        name: stringify!($field),
                        ty: <$ty as $crate::catalog::ColumnKind>::TYPE,
                        nullable: <$ty as $crate::catalog::ColumnKind>::NULLABLE,
                    } ),*
                ],
                primary_key: &[$(stringify!($key)),*],
                partition: stringify!($partition),
            };
        }
    };
}
