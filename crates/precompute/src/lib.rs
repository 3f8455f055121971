//! Phase 4 precompute: per-date tables read by the prediction systems, built
//! from Phase 3 tables with point-in-time discipline (a row for date D uses
//! only games before D).
//!
//! | processor | reads | writes |
//! |---|---|---|
//! | `team_defense_zone_analysis` | `nba_raw.shot_zones`, `nba_analytics.team_defense_game_summary` | `nba_precompute.team_defense_zone_analysis` |
//! | `player_shot_zone_analysis` | `nba_raw.shot_zones` | `nba_precompute.player_shot_zone_analysis` |
//! | `player_composite_factors` | `nba_analytics.upcoming_player_game_context`, `upcoming_team_game_context`, `player_game_summary`; `nba_precompute.player_shot_zone_analysis`, `team_defense_zone_analysis` | `nba_precompute.player_composite_factors` |
//! | `player_daily_cache` | `nba_analytics.player_game_summary`, `nba_raw.schedule`, `nba_raw.player_props` | `nba_precompute.player_daily_cache` |
//! | `ml_feature_store` | the contexts, `player_game_summary`, `team_offense_game_summary`; every table above | `nba_precompute.ml_feature_store` |
//!
//! The computation is in pure functions over input rows
//! ([`player_daily_cache::build_player_daily_cache`]); the processor reads
//! with one history query per date, writes the date's partition (also when
//! empty) and checks the row count the warehouse reports
//! (`propcast_patterns::write_partition` over a `DateSummary`).

pub mod ml_feature_store;
pub mod player_composite_factors;
pub mod player_daily_cache;
pub mod player_shot_zone_analysis;
#[cfg(test)]
use propcast_test_support::player_games as real_data;
pub mod recent_games;
pub mod team_defense_zone_analysis;

pub use ml_feature_store::{MlFeatureStoreProcessor, build_ml_feature_store};
pub use player_composite_factors::{
    PlayerCompositeFactorsProcessor, build_player_composite_factors,
};
pub use player_daily_cache::{PlayerDailyCacheProcessor, build_player_daily_cache};
pub use player_shot_zone_analysis::{
    PlayerShotZoneAnalysisProcessor, build_player_shot_zone_analysis,
};
pub use team_defense_zone_analysis::{
    TeamDefenseZoneAnalysisProcessor, build_team_defense_zone_analysis,
};

use propcast_patterns::Processor;

/// The Phase 4 processors in the order they run for a date.
pub fn processors() -> Vec<Box<dyn Processor>> {
    vec![
        Box::new(TeamDefenseZoneAnalysisProcessor),
        Box::new(PlayerShotZoneAnalysisProcessor),
        Box::new(PlayerCompositeFactorsProcessor),
        Box::new(PlayerDailyCacheProcessor),
        Box::new(MlFeatureStoreProcessor),
    ]
}
