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
//! empty) and checks the row count the warehouse reports.

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

use propcast_core::Table;
use propcast_patterns::{ProcessContext, ProcessError, ProcessOutput, Processor, Quarantine};
use propcast_platform::WarehouseExt;
use std::collections::BTreeMap;

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

/// Per-run counts (universe sources, collisions, skipped inputs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters(pub BTreeMap<String, i64>);

impl Counters {
    pub fn add(&mut self, name: &str, n: i64) {
        if n != 0 {
            *self.0.entry(name.to_string()).or_default() += n;
        }
    }

    pub fn bump(&mut self, name: &str) {
        self.add(name, 1);
    }

    pub fn get(&self, name: &str) -> i64 {
        self.0.get(name).copied().unwrap_or(0)
    }
}

/// The output of one precompute for one date.
#[derive(Debug, Clone)]
pub struct DateSummary<T> {
    /// Sorted by the table's key.
    pub rows: Vec<T>,
    pub counters: Counters,
    pub quarantine: Quarantine,
    /// Inputs that made the date worth processing (0 means nothing to do).
    pub input_rows: usize,
}

impl<T> Default for DateSummary<T> {
    fn default() -> Self {
        DateSummary {
            rows: Vec::new(),
            counters: Counters::default(),
            quarantine: Quarantine::default(),
            input_rows: 0,
        }
    }
}

/// Replaces the date's partition of `T`'s table with the summary's rows and
/// verifies the warehouse wrote exactly that many.
async fn write_partition<T: Table>(
    ctx: &ProcessContext,
    processor: &'static str,
    summary: DateSummary<T>,
) -> Result<ProcessOutput, ProcessError> {
    let stats = ctx
        .warehouse
        .replace_rows::<T>(ctx.game_date, &[], &summary.rows)
        .await?;
    let expected = summary.rows.len() as u64;
    if stats.rows_written != expected {
        return Err(ProcessError::Permanent(format!(
            "{}: wrote {} rows for {} but computed {expected}",
            T::DEF.qualified(),
            stats.rows_written,
            ctx.game_date
        )));
    }
    tracing::info!(
        processor,
        game_date = %ctx.game_date,
        rows = expected,
        replaced = stats.rows_deleted,
        "partition replaced"
    );
    let mut output = ProcessOutput {
        quarantine: summary.quarantine,
        no_data: summary.input_rows == 0,
        counters: summary.counters.0,
        ..ProcessOutput::default()
    };
    output.wrote(&T::DEF, stats.rows_written);
    Ok(output)
}
