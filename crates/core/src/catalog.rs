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

    /// The columns that name whose row it is, in order of precedence: a
    /// player, a team, a defending team.
    pub const ENTITY_COLUMNS: [&'static str; 3] =
        ["player_lookup", "team_abbr", "defending_team_abbr"];

    /// The column naming a row's entity: the first of
    /// [`TableDef::ENTITY_COLUMNS`] the table has; `None` for a table whose
    /// rows belong to the whole date (the schedule).
    pub fn entity_column(&self) -> Option<&'static str> {
        Self::ENTITY_COLUMNS
            .into_iter()
            .find(|c| self.column(c).is_some())
    }

    /// Whether the table is run history rather than data: the `nba_processing`
    /// tables (runs, quarantine, validation, checkpoints) and
    /// `nba_predictions.prediction_worker_runs`. Two runs of the same input
    /// may leave them different.
    pub fn is_run_history(&self) -> bool {
        self.dataset == "nba_processing"
            || (self.dataset, self.name) == ("nba_predictions", "prediction_worker_runs")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::{
        ALL_TABLES, PlayerGameSummary, PredictionAccuracy, PredictionWorkerRun, ProcessorRun,
        ScheduleGame, TeamBoxscore, TeamDefenseGameSummary,
    };

    #[test]
    fn the_entity_column_is_the_first_present_of_player_team_defending_team() {
        assert_eq!(
            PlayerGameSummary::DEF.entity_column(),
            Some("player_lookup")
        );
        assert_eq!(TeamBoxscore::DEF.entity_column(), Some("team_abbr"));
        assert_eq!(
            TeamDefenseGameSummary::DEF.entity_column(),
            Some("defending_team_abbr")
        );
        assert_eq!(ScheduleGame::DEF.entity_column(), None);
    }

    #[test]
    fn run_history_is_the_processing_tables_and_the_worker_runs() {
        let history: Vec<String> = ALL_TABLES
            .iter()
            .filter(|d| d.is_run_history())
            .map(|d| d.qualified())
            .collect();
        assert_eq!(
            history,
            [
                "nba_predictions.prediction_worker_runs",
                "nba_processing.processor_runs",
                "nba_processing.quarantine",
                "nba_processing.validation_results",
            ]
        );
        assert!(ProcessorRun::DEF.is_run_history());
        assert!(PredictionWorkerRun::DEF.is_run_history());
        assert!(!PredictionAccuracy::DEF.is_run_history());
    }
}
