//! The `prediction_coordinator` processor: for date D, every player in the
//! daily cache, every system, one prediction row each.
//!
//! Reads `nba_precompute.player_daily_cache` (D) and the `player_points`
//! rows of `nba_raw.player_props` (D); writes
//! `nba_predictions.player_prop_predictions` by replacing partition D, also
//! with no rows, so a rerun leaves exactly what the inputs give.

use crate::error::PredictionError;
use crate::moving_average::MovingAverage;
use crate::prediction_system::{PlayerInputs, PredictionSystem, SystemError};
use crate::prop_line::{LineChoice, LineSource, PLAYER_POINTS_MARKET, choose_line};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use propcast_core::tables::{PlayerDailyCache, PlayerProp, PlayerPropPrediction};
use propcast_core::{Table, TableDef};
use propcast_patterns::{Phase, ProcessContext, ProcessError, ProcessOutput, Processor};
use propcast_platform::WarehouseExt;
use propcast_platform::warehouse::{date_literal, string_literal};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

pub const NAME: &str = "prediction_coordinator";

/// What one coordinator run produced, for `ProcessOutput.counters`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PredictionCounts {
    /// Prediction rows (players × systems that predicted).
    pub predictions: i64,
    /// Rows with a real line.
    pub with_line: i64,
    /// Rows without one (`NO_PROP_LINE`, recommendation `NO_LINE`).
    pub no_line: i64,
    /// Player × system pairs skipped for lack of history.
    pub skipped_no_history: i64,
}

/// Line-choice diagnostics added to every row's metadata as `line_choice`.
#[derive(Debug, Serialize)]
struct LineChoiceSummary<'a> {
    rows_for_player: usize,
    excluded_in_game: usize,
    excluded_below_minimum: usize,
    books_available: &'a [String],
}

impl<'a> From<&'a LineChoice> for LineChoiceSummary<'a> {
    fn from(c: &'a LineChoice) -> Self {
        LineChoiceSummary {
            rows_for_player: c.rows_for_player,
            excluded_in_game: c.excluded_in_game,
            excluded_below_minimum: c.excluded_below_minimum,
            books_available: &c.books_available,
        }
    }
}

/// Runs `systems` over every cached player of `game_date`. Pure: rows come
/// out sorted by player, then system, with `execution_id` and `created_at`
/// as given.
pub fn build_predictions(
    game_date: NaiveDate,
    cache: &[PlayerDailyCache],
    props: &[PlayerProp],
    systems: &[Box<dyn PredictionSystem>],
    execution_id: &str,
    created_at: DateTime<Utc>,
) -> (Vec<PlayerPropPrediction>, PredictionCounts) {
    let mut props_by_player: HashMap<i64, Vec<&PlayerProp>> = HashMap::new();
    for prop in props {
        if let Some(id) = prop.player_id
            && prop.market == PLAYER_POINTS_MARKET
            && prop.game_date == game_date
        {
            props_by_player.entry(id).or_default().push(prop);
        }
    }

    let mut players: Vec<&PlayerDailyCache> =
        cache.iter().filter(|c| c.game_date == game_date).collect();
    players.sort_by(|a, b| a.player_lookup.cmp(&b.player_lookup));

    let mut rows = Vec::new();
    let mut counts = PredictionCounts::default();
    for player in players {
        let player_props = props_by_player
            .get(&player.player_id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let choice = choose_line(player_props.iter().copied(), player.player_id, game_date);
        let line = choice.chosen.as_ref();
        let inputs = PlayerInputs {
            cache: player,
            line,
            features: None,
            factors: None,
            context: None,
            history: &[],
        };
        for system in systems {
            let prediction = match system.predict(&inputs) {
                Ok(p) => p,
                Err(SystemError::Skip(_)) => {
                    counts.skipped_no_history += 1;
                    continue;
                }
                Err(SystemError::Failed(e)) => {
                    tracing::warn!(system = system.system_id(), player = %player.player_lookup, error = %e, "prediction system failed");
                    continue;
                }
            };
            let mut metadata = prediction.metadata;
            if let serde_json::Value::Object(map) = &mut metadata {
                map.insert(
                    "line_choice".to_string(),
                    serde_json::to_value(LineChoiceSummary::from(&choice))
                        .unwrap_or(serde_json::Value::Null),
                );
            }
            counts.predictions += 1;
            if line.is_some() {
                counts.with_line += 1;
            } else {
                counts.no_line += 1;
            }
            rows.push(PlayerPropPrediction {
                game_date,
                game_id: player.game_id.clone(),
                player_lookup: player.player_lookup.clone(),
                player_id: player.player_id,
                team_abbr: player.team_abbr.clone(),
                opponent_abbr: player.opponent_abbr.clone(),
                system_id: system.system_id().to_string(),
                predicted_points: prediction.predicted_points,
                confidence: prediction.confidence,
                line_value: line.map(|l| l.line),
                line_source: if line.is_some() {
                    LineSource::ActualProp
                } else {
                    LineSource::NoPropLine
                }
                .as_str()
                .to_string(),
                sportsbook: line.map(|l| l.bookmaker.clone()),
                line_snapshot_time: line.map(|l| l.snapshot_time),
                line_minutes_before_tipoff: line.map(|l| l.minutes_before_tipoff),
                recommendation: prediction.recommendation.as_str().to_string(),
                metadata: metadata.to_string(),
                execution_id: execution_id.to_string(),
                created_at,
            });
        }
    }
    rows.sort_by(|a, b| (&a.player_lookup, &a.system_id).cmp(&(&b.player_lookup, &b.system_id)));
    (rows, counts)
}

/// The `prediction_coordinator` processor (phase 5).
pub struct PredictionCoordinator {
    systems: Vec<Box<dyn PredictionSystem>>,
}

#[derive(Debug, thiserror::Error)]
#[error("prediction system {0} is listed twice")]
pub struct DuplicateSystem(pub String);

impl PredictionCoordinator {
    /// A coordinator running `systems`, each at most once.
    pub fn new(systems: Vec<Box<dyn PredictionSystem>>) -> Result<Self, DuplicateSystem> {
        let mut seen = BTreeSet::new();
        for system in &systems {
            if !seen.insert(system.system_id()) {
                return Err(DuplicateSystem(system.system_id().to_string()));
            }
        }
        Ok(PredictionCoordinator { systems })
    }

    /// The systems that can run today: `moving_average`.
    pub fn with_default_systems() -> Self {
        PredictionCoordinator {
            systems: vec![Box::new(MovingAverage)],
        }
    }

    pub fn system_ids(&self) -> Vec<&'static str> {
        self.systems.iter().map(|s| s.system_id()).collect()
    }
}

impl Default for PredictionCoordinator {
    fn default() -> Self {
        Self::with_default_systems()
    }
}

#[async_trait]
impl Processor for PredictionCoordinator {
    fn name(&self) -> &'static str {
        NAME
    }

    fn phase(&self) -> Phase {
        Phase::Predictions
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![PlayerPropPrediction::DEF]
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        let date = ctx.game_date;
        let cache: Vec<PlayerDailyCache> = ctx
            .warehouse
            .query_as(&format!(
                "SELECT * FROM {} WHERE game_date = {}",
                PlayerDailyCache::DEF.qualified(),
                date_literal(date)
            ))
            .await?;
        let props: Vec<PlayerProp> = ctx
            .warehouse
            .query_as(&format!(
                "SELECT * FROM {} WHERE game_date = {} AND market = {}",
                PlayerProp::DEF.qualified(),
                date_literal(date),
                string_literal(PLAYER_POINTS_MARKET)
            ))
            .await?;

        let (rows, counts) = build_predictions(
            date,
            &cache,
            &props,
            &self.systems,
            &ctx.execution_id,
            ctx.now,
        );
        let stats = ctx.warehouse.replace_rows(date, &[], &rows).await?;
        let expected = rows.len() as u64;
        if stats.rows_written != expected {
            return Err(PredictionError::WriteCountMismatch {
                table: PlayerPropPrediction::DEF.qualified(),
                game_date: date,
                expected,
                written: stats.rows_written,
            }
            .into());
        }
        tracing::info!(
            processor = NAME,
            game_date = %date,
            correlation_id = %ctx.correlation_id,
            cached_players = cache.len(),
            prop_rows = props.len(),
            predictions = counts.predictions,
            with_line = counts.with_line,
            no_line = counts.no_line,
            skipped_no_history = counts.skipped_no_history,
            "predictions written"
        );

        let mut output = ProcessOutput {
            no_data: cache.is_empty(),
            ..ProcessOutput::default()
        };
        output.wrote(&PlayerPropPrediction::DEF, stats.rows_written);
        output
            .counters
            .insert("predictions".into(), counts.predictions);
        output.counters.insert("with_line".into(), counts.with_line);
        output.counters.insert("no_line".into(), counts.no_line);
        output
            .counters
            .insert("skipped_no_history".into(), counts.skipped_no_history);
        Ok(output)
    }
}
