//! Domain types shared by every propcast crate.
//!
//! `core` depends on nothing of ours. It holds what every phase agrees on:
//! the game date (US Eastern), the season, the one `player_lookup`
//! normalisation, the pipeline phases and run statuses, and the table
//! catalog with the row type of every table. It also holds the domain rules
//! more than one phase applies, so that each is written once:
//! [`prop_lines`] (which real sportsbook line counts), [`pricing`] (what a
//! bet at a real price pays), [`universe`] (the
//! fixtures of a date and who is expected to play), [`grading`] (what a
//! graded prediction counts as) and [`opponents`] (who an entity scope
//! brings along).

pub mod catalog;
pub mod date;
pub mod features;
pub mod grading;
pub mod injury;
pub mod opponents;
pub mod phase;
pub mod player_lookup;
pub mod pricing;
pub mod prop_lines;
pub mod run_status;
pub mod season_games;
pub mod tables;
pub mod universe;

pub use catalog::{Column, ColumnType, Table, TableDef};
pub use date::{GameDate, Season};
pub use phase::{Phase, UnknownPhase};
pub use player_lookup::normalize_name_for_lookup;
pub use run_status::{RunStatus, UnknownRunStatus};
