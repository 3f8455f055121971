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
//! | `scoreboard` | `nba-com/scoreboard-v3/<date>/<stamp>.json` (latest loadable) | `nba_raw.scoreboard` |
//! | `player_boxscores` | `nba-com/player-boxscores/<date>/<stamp>.json` | `nba_raw.player_boxscores` |
//! | `boxscore_traditional` | `nba-com/boxscore-traditional-v3/<date>/game_<id>/<stamp>.json` (latest loadable per game) | `nba_raw.boxscore_traditional` |
//! | `team_boxscores` | `nba-com/team-boxscores/<date>/<stamp>.json` | `nba_raw.team_boxscores` |
//! | `injury_report` | `nba-com/injury-report/<date>/<HH><AM\|PM>/<stamp>.pdf`, `ball-dont-lie/injuries/<date>/<stamp>.json` (every report) | `nba_raw.injury_report`, `nba_reference.unresolved_player_names` |
//! | `player_props` | `odds-api/player-props-history/<date>/<event>-<AWAYHOME>/<stamp>-snap-<HHMM>.json`, `odds-api/player-props/<date>/<event>-<AWAYHOME>/<stamp>-snap-<HHMM>.json` | `nba_raw.player_props`, `nba_reference.unresolved_player_names` |
//!
//! Where each payload lands is [`layout`]'s, one home for scrapers and
//! processors.
//!
//! The two box score processors are one [`boxscores::GameLogProcessor`]
//! over the row kind ([`boxscores::GameLogRow`]).
//!
//! Shot charts are a bulk import, not a per-date processor:
//! [`import_shot_zones`] loads a per player-game-zone or per-shot CSV into
//! `nba_raw.shot_zones` (see [`shot_zones`]).

pub mod boxscore_traditional;
pub mod boxscores;
mod csv_import;
pub mod error;
pub mod injury_report;
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
pub mod scoreboard;
pub mod shot_zones;
pub mod team_boxscores;
pub mod teams;

pub use boxscore_traditional::{BoxscoreTraditionalProcessor, parse_boxscore_traditional};
pub use error::FileError;
pub use injury_report::{
    InjuryReportProcessor, parse_balldontlie_injuries, parse_official_report, parse_report_text,
};
pub use json_fields::FieldError;
pub use parsed::Parsed;
pub use player_boxscores::{PlayerBoxscoresProcessor, parse_player_boxscores};
pub use player_props::{PlayerPropsProcessor, parse_player_props};
pub use schedule::{ParsedSchedule, ScheduleProcessor, parse_schedule, parse_schedule_for_date};
pub use scoreboard::{ScoreboardProcessor, parse_scoreboard};
pub use shot_zones::{
    ShotImportError, ShotImportReport, import_shot_zones, parse_shot_zones_csv, read_shot_file,
};
pub use team_boxscores::{TeamBoxscoresProcessor, parse_team_boxscores};

use propcast_patterns::Processor;

/// The Phase 2 processors in run order: the schedule and scoreboard, the
/// box scores, then the injury report and player props (both resolve
/// player names against the box scores).
pub fn processors() -> Vec<Box<dyn Processor>> {
    vec![
        Box::new(ScheduleProcessor::new()),
        Box::new(ScoreboardProcessor),
        Box::new(PlayerBoxscoresProcessor),
        Box::new(BoxscoreTraditionalProcessor),
        Box::new(TeamBoxscoresProcessor),
        Box::new(InjuryReportProcessor),
        Box::new(PlayerPropsProcessor),
    ]
}
