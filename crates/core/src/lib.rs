//! Domain types shared by every propcast crate.
//!
//! `core` depends on nothing of ours. It holds what every phase agrees on:
//! the game date (US Eastern), the season, the one `player_lookup`
//! normalisation, and the table catalog with the row type of every table.

pub mod catalog;
pub mod date;
pub mod features;
pub mod opponents;
pub mod player_lookup;
pub mod tables;

pub use catalog::{Column, ColumnType, Table, TableDef};
pub use date::{GameDate, Season};
pub use player_lookup::normalize_name_for_lookup;
