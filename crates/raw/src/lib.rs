//! Phase 2: scraped payloads in the landing zone → `nba_raw` tables.
//!
//! Each processor reads one date's payloads, parses them with a pure
//! function (bytes + path → rows + quarantine, unit-testable without a
//! warehouse), and replaces that date's partition, so a rerun leaves the
//! same rows and a rerun after a payload was removed clears them.
//!
//! Bad input is data too: a file that is not JSON is quarantined whole and
//! the date's other files still load; a record with a missing or
//! wrong-typed field is quarantined with its file, record path, field and
//! reason, and every other record is kept.
//!
//! | processor | landing path | table |
//! |---|---|---|
//! | `schedule` | `nba-com/schedule-cdn/<season>/<stamp>.json` | `nba_raw.schedule` |
//! | `player_boxscores` | `nba-com/player-boxscores/<date>/<stamp>.json` | `nba_raw.player_boxscores` |
//! | `team_boxscores` | `nba-com/team-boxscores/<date>/<stamp>.json` | `nba_raw.team_boxscores` |
//! | `player_props` | `odds-api/player-props-history/<date>/<event>-<AWAYHOME>/<stamp>-snap-<HHMM>.json` | `nba_raw.player_props`, `nba_reference.unresolved_player_names` |
//!
//! The two box score processors are one [`boxscores::GameLogProcessor`]
//! over the row kind ([`boxscores::GameLogRow`]).
//!
//! Shot charts are a bulk import, not a per-date processor:
//! [`import_shot_zones`] loads a per player-game-zone or per-shot CSV into
//! `nba_raw.shot_zones` (see [`shot_zones`]).

pub mod boxscores;
mod csv_import;
pub mod error;
pub mod json_fields;
pub mod landing_files;
pub mod layout;
pub mod leaguegamelog;
pub mod parsed;
pub mod player_boxscores;
pub mod player_identity;
pub mod player_props;
pub mod prop_import;
pub mod schedule;
pub mod shot_zones;
pub mod team_boxscores;
pub mod teams;

pub use error::FileError;
pub use json_fields::FieldError;
pub use parsed::Parsed;
pub use player_boxscores::{PlayerBoxscoresProcessor, parse_player_boxscores};
pub use player_props::{PlayerPropsProcessor, parse_player_props};
pub use schedule::{ParsedSchedule, ScheduleProcessor, parse_schedule, parse_schedule_for_date};
pub use shot_zones::{
    ShotImportError, ShotImportReport, import_shot_zones, parse_shot_zones_csv, read_shot_file,
};
pub use team_boxscores::{TeamBoxscoresProcessor, parse_team_boxscores};

use propcast_patterns::Processor;

/// The Phase 2 processors in run order: schedule, player box scores, team
/// box scores, player props (props resolve names against box scores).
pub fn processors() -> Vec<Box<dyn Processor>> {
    vec![
        Box::new(ScheduleProcessor::new()),
        Box::new(PlayerBoxscoresProcessor),
        Box::new(TeamBoxscoresProcessor),
        Box::new(PlayerPropsProcessor),
    ]
}
