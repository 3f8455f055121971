//! The `prediction_grading` processor: every prediction of date D against
//! what the player scored (REFERENCE §4.5, DESIGN invariant 5).
//!
//! Reads `nba_predictions.player_prop_predictions` (D) and
//! `nba_analytics.player_game_summary` (D); writes
//! `nba_predictions.prediction_accuracy` by replacing partition D.
//!
//! Per prediction:
//! * The actual row is the player's `player_game_summary` row of D with the
//!   same `player_lookup` **and** the same `player_id` (a lookup shared by
//!   two players is not a match).
//! * **Voided** (`did_not_play`) when there is no such row, the row is a
//!   DNP, or the player logged 0 minutes and 0 points. Voided rows carry no
//!   errors and no `prediction_correct`.
//! * **Voided by fact** (`dnp_confirmed`) when D's `boxscoretraditionalv3`
//!   (`nba_raw.boxscore_traditional`) lists the player with a DNP reason
//!   ("DNP - Coach's Decision", "DND - Injury/Illness"): the box score says
//!   he did not play, whatever the other sources hold or lack: such a
//!   prediction is voided even when the date's other results are missing.
//! * **Skips**: a player the coordinator did not predict because he was
//!   listed out (`nba_predictions.prediction_skips`) has nothing graded; the
//!   output counts those who played anyway (`skipped_out_played`, voided
//!   skips: neither wins nor losses; played = a box score row with minutes
//!   in `player_game_summary` or `boxscoretraditionalv3`) and the others
//!   (`skipped_out_sat`).
//! * Otherwise errors are computed on every row (PASS and NO_LINE included:
//!   they count toward MAE), in hundredths, so `within_3_points` holds for
//!   an error of exactly 3.
//! * `prediction_correct` is set only for an OVER/UNDER call on a real line
//!   (`line_source` ACTUAL_PROP, line present) that did not push:
//!   `(actual > line) == (recommendation == OVER)`. PASS, NO_LINE, pushes and
//!   voided rows stay NULL: they are neither wins nor losses.
//! * Entity scope (incremental rounds): a prediction is in scope when its
//!   `player_lookup` or its `team_abbr` is named. A scoped run reads only
//!   those predictions, the box score rows of their players and whether
//!   their teams have results, and replaces exactly the accuracy rows of
//!   their players (by `player_lookup`, so other players' rows are not
//!   touched), deleting those no longer graded. An accuracy row whose
//!   prediction is gone is deleted when its player is named, or when his
//!   box score row of D is for a named team.
//! * A real line of exactly 20.0 is graded like any other. The reference
//!   system refused 20.0 because it had been its invented placeholder; here
//!   lines are never invented, so the line source alone decides.

use crate::error::PredictionError;
use crate::prop_line::LineSource;
use crate::recommendation::{Recommendation, hundredths};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use propcast_core::tables::{
    BoxscoreTraditionalPlayer, PlayerGameSummary, PlayerPropPrediction, PredictionAccuracy,
    PredictionSkip,
};
use propcast_core::{Table, TableDef};
use propcast_patterns::{
    Dependency, Phase, ProcessContext, ProcessError, ProcessOutput, Processor, RangeOutput, Scope,
};
use propcast_platform::WarehouseExt;
use propcast_platform::warehouse::{date_list, date_literal, text_list};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub const NAME: &str = "prediction_grading";

/// `void_reason` of a player who did not play.
pub const VOID_DID_NOT_PLAY: &str = "did_not_play";
/// `void_reason` of a player the date's box score lists with a DNP reason.
pub const VOID_DNP_CONFIRMED: &str = "dnp_confirmed";

/// Whether a prediction's line is a real sportsbook line, the only kind
/// graded for hit rate.
pub fn has_real_line(line_source: &str, line_value: Option<f64>) -> bool {
    line_source == LineSource::ActualProp.as_str() && line_value.is_some_and(f64::is_finite)
}

/// Whether a box score row means the player did not play.
fn did_not_play(game: &PlayerGameSummary) -> bool {
    game.is_dnp || (game.minutes <= 0.0 && game.points == 0)
}

/// Grades one prediction against the player's game of that date, if any.
pub fn grade_prediction(
    prediction: &PlayerPropPrediction,
    game: Option<&PlayerGameSummary>,
    graded_at: DateTime<Utc>,
) -> PredictionAccuracy {
    grade(prediction, game, false, graded_at)
}

/// [`grade_prediction`], voided as [`VOID_DNP_CONFIRMED`] when the box
/// score lists the player as not playing (`dnp_confirmed`).
fn grade(
    prediction: &PlayerPropPrediction,
    game: Option<&PlayerGameSummary>,
    dnp_confirmed: bool,
    graded_at: DateTime<Utc>,
) -> PredictionAccuracy {
    let mut row = PredictionAccuracy {
        game_date: prediction.game_date,
        game_id: prediction.game_id.clone(),
        player_lookup: prediction.player_lookup.clone(),
        system_id: prediction.system_id.clone(),
        predicted_points: prediction.predicted_points,
        confidence: prediction.confidence,
        line_value: prediction.line_value,
        line_source: prediction.line_source.clone(),
        recommendation: prediction.recommendation.clone(),
        actual_points: game.map(|g| g.points),
        absolute_error: None,
        signed_error: None,
        within_3_points: None,
        within_5_points: None,
        prediction_correct: None,
        is_push: false,
        is_voided: false,
        void_reason: None,
        graded_at,
    };
    if dnp_confirmed {
        row.is_voided = true;
        row.void_reason = Some(VOID_DNP_CONFIRMED.to_string());
        return row;
    }
    let Some(game) = game.filter(|g| !did_not_play(g)) else {
        row.is_voided = true;
        row.void_reason = Some(VOID_DID_NOT_PLAY.to_string());
        return row;
    };

    let actual = game.points;
    // Saturating: a corrupt stored value must not overflow.
    let actual_hundredths = actual.saturating_mul(100);
    let error = hundredths(prediction.predicted_points).saturating_sub(actual_hundredths);
    let abs_error = error.saturating_abs();
    row.absolute_error = Some(abs_error as f64 / 100.0);
    row.signed_error = Some(error as f64 / 100.0);
    row.within_3_points = Some(abs_error <= 300);
    row.within_5_points = Some(abs_error <= 500);

    let call = Recommendation::parse(&prediction.recommendation);
    let is_call = matches!(call, Some(Recommendation::Over | Recommendation::Under));
    let real_line = prediction
        .line_value
        .filter(|&line| has_real_line(&prediction.line_source, Some(line)));
    if is_call && let Some(line) = real_line {
        let versus_line = actual_hundredths.cmp(&hundredths(line));
        if versus_line.is_eq() {
            row.is_push = true;
        } else {
            row.prediction_correct =
                Some(versus_line.is_gt() == (call == Some(Recommendation::Over)));
        }
    }
    row
}

/// Grades every prediction of `game_date` against that date's box scores.
/// Rows come out sorted by player, then system.
pub fn grade_predictions(
    game_date: NaiveDate,
    predictions: &[PlayerPropPrediction],
    games: &[PlayerGameSummary],
    graded_at: DateTime<Utc>,
) -> Vec<PredictionAccuracy> {
    grade_with_dnp(game_date, predictions, games, &BTreeSet::new(), graded_at)
}

/// [`grade_predictions`] with the NBA person ids the date's
/// `boxscoretraditionalv3` lists with a DNP reason.
pub fn grade_with_dnp(
    game_date: NaiveDate,
    predictions: &[PlayerPropPrediction],
    games: &[PlayerGameSummary],
    dnp: &BTreeSet<i64>,
    graded_at: DateTime<Utc>,
) -> Vec<PredictionAccuracy> {
    let by_player: HashMap<(&str, i64), &PlayerGameSummary> = games
        .iter()
        .filter(|g| g.game_date == game_date)
        .map(|g| ((g.player_lookup.as_str(), g.player_id), g))
        .collect();
    let mut rows: Vec<PredictionAccuracy> = predictions
        .iter()
        .filter(|p| p.game_date == game_date)
        .map(|p| {
            let game = by_player
                .get(&(p.player_lookup.as_str(), p.player_id))
                .copied();
            grade(p, game, dnp.contains(&p.player_id), graded_at)
        })
        .collect();
    rows.sort_by(|a, b| (&a.player_lookup, &a.system_id).cmp(&(&b.player_lookup, &b.system_id)));
    rows
}

/// The `prediction_grading` processor (phase 5).
#[derive(Debug, Clone, Copy, Default)]
pub struct PredictionGrading;

#[async_trait]
impl Processor for PredictionGrading {
    fn name(&self) -> &'static str {
        NAME
    }

    fn phase(&self) -> Phase {
        Phase::Predictions
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![PredictionAccuracy::DEF]
    }

    /// Reads of D: `nba_predictions.player_prop_predictions` (written by
    /// `prediction_coordinator`) and `nba_analytics.player_game_summary`.
    fn sources(&self) -> Option<&'static [&'static str]> {
        Some(&[
            "prediction_coordinator",
            "player_game_summary",
            "boxscore_traditional",
        ])
    }

    /// Nothing is graded without the date's predictions, and without the
    /// date's results every prediction stays ungraded.
    fn dependencies(&self) -> Vec<Dependency> {
        vec![
            Dependency {
                table: &PlayerPropPrediction::DEF,
                min_rows: 1,
            },
            Dependency {
                table: &PlayerGameSummary::DEF,
                min_rows: 1,
            },
        ]
    }

    /// By `player_lookup` or the prediction's `team_abbr` (module docs).
    fn supports_entity_scope(&self) -> bool {
        true
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        let date = ctx.game_date;
        let mut inputs = match &ctx.scope {
            Scope::Full => read_inputs(ctx, &[date])
                .await?
                .remove(&date)
                .unwrap_or_default(),
            Scope::Entities(entities) => read_scoped_inputs(ctx, entities).await?,
        };
        let stale = inputs.stale.take();
        let (rows, mut output) = grade_date(ctx, date, inputs);
        let stats = match &stale {
            None => ctx.warehouse.replace_rows(date, &[], &rows).await?,
            Some(stale) => replace_players(ctx, stale, &rows).await?,
        };
        check_written(date, rows.len() as u64, stats.rows_written)?;
        output.wrote(&PredictionAccuracy::DEF, stats.rows_written);
        Ok(output)
    }

    /// Reads the predictions and box scores of every date at once, grades
    /// each date as [`Processor::process`] does, and replaces the range's
    /// accuracy partitions in one write.
    async fn process_range(
        &self,
        ctx: &ProcessContext,
        dates: &[NaiveDate],
    ) -> Result<RangeOutput, ProcessError> {
        let mut inputs = read_inputs(ctx, dates).await?;
        let mut all = Vec::new();
        let mut outputs: BTreeMap<NaiveDate, (usize, ProcessOutput)> = BTreeMap::new();
        for &date in dates {
            let (mut rows, output) =
                grade_date(ctx, date, inputs.remove(&date).unwrap_or_default());
            outputs.insert(date, (rows.len(), output));
            all.append(&mut rows);
        }
        let stats = ctx.warehouse.replace_date_rows(dates, &all).await?;
        check_written(ctx.game_date, all.len() as u64, stats.rows_written)?;
        Ok(outputs
            .into_iter()
            .map(|(date, (n, mut output))| {
                output.wrote(&PredictionAccuracy::DEF, n as u64);
                (date, output)
            })
            .collect())
    }
}

/// The accuracy rows of one date's inputs and its output, all but the
/// rows written.
fn grade_date(
    ctx: &ProcessContext,
    date: NaiveDate,
    inputs: GradingInputs,
) -> (Vec<PredictionAccuracy>, ProcessOutput) {
    // Only games with results can be graded: a prediction whose team has
    // no box score on the date (game not played yet, or a game the
    // player source does not cover) stays ungraded instead of being
    // voided as "did not play".
    let (predictions, awaiting): (Vec<PlayerPropPrediction>, Vec<PlayerPropPrediction>) =
        inputs.predictions.into_iter().partition(|p| {
            inputs.teams_with_results.contains(p.team_abbr.as_str())
                || inputs.dnp.contains(&p.player_id)
        });
    let rows = grade_with_dnp(date, &predictions, &inputs.games, &inputs.dnp, ctx.now);
    let played: BTreeSet<i64> = inputs
        .games
        .iter()
        .filter(|g| !did_not_play(g))
        .map(|g| g.player_id)
        .chain(inputs.played.iter().copied())
        .filter(|id| !inputs.dnp.contains(id))
        .collect();
    let played_anyway = |s: &&PredictionSkip| played.contains(&s.player_id);
    let skipped_out_played = inputs.skips.iter().filter(played_anyway).count();
    if skipped_out_played > 0 {
        tracing::warn!(
            processor = NAME,
            game_date = %date,
            players = %inputs
                .skips
                .iter()
                .filter(played_anyway)
                .map(|s| s.player_lookup.as_str())
                .collect::<Vec<_>>()
                .join(","),
            "players listed out before tip-off played anyway: voided skips, not graded"
        );
    }
    let summary = crate::accuracy_summary::accuracy_summary(&rows);
    tracing::info!(
        processor = NAME,
        game_date = %date,
        correlation_id = %ctx.correlation_id,
        predictions = summary.predictions,
        graded = summary.graded,
        correct = summary.correct,
        pushes = summary.pushes,
        voided = summary.voided,
        "predictions graded"
    );
    let mut output = ProcessOutput {
        no_data: predictions.is_empty(),
        ..ProcessOutput::default()
    };
    output
        .counters
        .insert("ungraded_no_results".into(), awaiting.len() as i64);
    output
        .counters
        .insert("skipped_out_played".into(), skipped_out_played as i64);
    output.counters.insert(
        "skipped_out_sat".into(),
        (inputs.skips.len() - skipped_out_played) as i64,
    );
    for (name, value) in [
        ("predictions", summary.predictions),
        ("graded", summary.graded),
        ("correct", summary.correct),
        ("pushes", summary.pushes),
        ("voided", summary.voided),
        ("pass", summary.pass),
        ("no_line", summary.no_line),
    ] {
        output.counters.insert(name.into(), value as i64);
    }
    (rows, output)
}

fn check_written(date: NaiveDate, expected: u64, written: u64) -> Result<(), ProcessError> {
    if written != expected {
        return Err(PredictionError::WriteCountMismatch {
            table: PredictionAccuracy::DEF.qualified(),
            game_date: date,
            expected,
            written,
        }
        .into());
    }
    Ok(())
}

/// What one grading run reads.
#[derive(Default)]
struct GradingInputs {
    predictions: Vec<PlayerPropPrediction>,
    games: Vec<PlayerGameSummary>,
    teams_with_results: BTreeSet<String>,
    /// Players the date's `boxscoretraditionalv3` lists with a DNP reason.
    dnp: BTreeSet<i64>,
    /// Players it lists with minutes played.
    played: BTreeSet<i64>,
    /// Players not predicted: listed out before tip-off.
    skips: Vec<PredictionSkip>,
    /// Scoped runs: the stored accuracy rows' players to replace.
    stale: Option<BTreeSet<String>>,
}

/// The full inputs of every date of `dates`: its predictions and box
/// scores (one read of each table for all of them).
async fn read_inputs(
    ctx: &ProcessContext,
    dates: &[NaiveDate],
) -> Result<BTreeMap<NaiveDate, GradingInputs>, ProcessError> {
    let listed = date_list(dates);
    let predictions: Vec<PlayerPropPrediction> = ctx
        .warehouse
        .query_as(&format!(
            "SELECT * FROM {} WHERE game_date IN {listed}",
            PlayerPropPrediction::DEF.qualified(),
        ))
        .await?;
    let games: Vec<PlayerGameSummary> = ctx
        .warehouse
        .query_as(&format!(
            "SELECT * FROM {} WHERE game_date IN {listed}",
            PlayerGameSummary::DEF.qualified(),
        ))
        .await?;
    let boxscore: Vec<BoxscoreRow> = read_as(
        ctx,
        &BoxscoreTraditionalPlayer::DEF,
        &format!("SELECT {BOXSCORE_COLUMNS} FROM {{table}} WHERE game_date IN {listed}"),
    )
    .await?;
    let skips: Vec<PredictionSkip> = read_as(
        ctx,
        &PredictionSkip::DEF,
        &format!("SELECT * FROM {{table}} WHERE game_date IN {listed}"),
    )
    .await?;
    let mut out: BTreeMap<NaiveDate, GradingInputs> = BTreeMap::new();
    for row in boxscore {
        out.entry(row.game_date).or_default().add_boxscore(&row);
    }
    for skip in skips {
        out.entry(skip.game_date).or_default().skips.push(skip);
    }
    for p in predictions {
        out.entry(p.game_date).or_default().predictions.push(p);
    }
    for g in games {
        let day = out.entry(g.game_date).or_default();
        day.teams_with_results.insert(g.team_abbr.clone());
        day.games.push(g);
    }
    Ok(out)
}

#[derive(serde::Deserialize)]
struct Text {
    value: String,
}

/// What grading reads of `nba_raw.boxscore_traditional`.
#[derive(serde::Deserialize)]
struct BoxscoreRow {
    game_date: NaiveDate,
    player_id: i64,
    dnp_reason: Option<String>,
    minutes: f64,
}

const BOXSCORE_COLUMNS: &str = "game_date, player_id, dnp_reason, minutes";

impl GradingInputs {
    fn add_boxscore(&mut self, row: &BoxscoreRow) {
        if row.dnp_reason.is_some() {
            self.dnp.insert(row.player_id);
        } else if row.minutes > 0.0 {
            self.played.insert(row.player_id);
        }
    }
}

/// The rows of `sql` (`{table}` stands for `def`'s name) from a table
/// that may not exist yet (a source never landed reads as empty).
async fn read_as<T: serde::de::DeserializeOwned + Send>(
    ctx: &ProcessContext,
    def: &TableDef,
    sql: &str,
) -> Result<Vec<T>, ProcessError> {
    ctx.warehouse.ensure_table(def).await?;
    Ok(ctx
        .warehouse
        .query_as(&sql.replace("{table}", &def.qualified()))
        .await?)
}

/// The scoped inputs (module docs): the in-scope predictions, their
/// players' box score rows, which of their teams have results, and the
/// stored accuracy rows to replace.
async fn read_scoped_inputs(
    ctx: &ProcessContext,
    entities: &BTreeSet<String>,
) -> Result<GradingInputs, ProcessError> {
    let d = date_literal(ctx.game_date);
    let named = text_list(entities.iter().map(String::as_str));
    let (predictions_table, games_table, accuracy_table) = (
        PlayerPropPrediction::DEF.qualified(),
        PlayerGameSummary::DEF.qualified(),
        PredictionAccuracy::DEF.qualified(),
    );
    let predictions: Vec<PlayerPropPrediction> = ctx
        .warehouse
        .query_as(&format!(
            "SELECT * FROM {predictions_table} WHERE game_date = {d} \
             AND (player_lookup IN {named} OR team_abbr IN {named})"
        ))
        .await?;
    let players: BTreeSet<&str> = predictions
        .iter()
        .map(|p| p.player_lookup.as_str())
        .collect();
    let teams: BTreeSet<&str> = predictions.iter().map(|p| p.team_abbr.as_str()).collect();
    let games: Vec<PlayerGameSummary> = ctx
        .warehouse
        .query_as(&format!(
            "SELECT * FROM {games_table} WHERE game_date = {d} AND player_lookup IN {}",
            text_list(players.iter().copied())
        ))
        .await?;
    let teams_with_results: Vec<Text> = ctx
        .warehouse
        .query_as(&format!(
            "SELECT DISTINCT team_abbr AS value FROM {games_table} WHERE game_date = {d} \
             AND team_abbr IN {}",
            text_list(teams.iter().copied())
        ))
        .await?;
    ctx.warehouse.ensure_table(&PredictionAccuracy::DEF).await?;
    let stale: Vec<Text> = ctx
        .warehouse
        .query_as(&format!(
            "SELECT DISTINCT player_lookup AS value FROM {accuracy_table} WHERE game_date = {d} \
             AND (player_lookup IN {named} OR player_lookup IN {players} \
               OR (player_lookup NOT IN (SELECT player_lookup FROM {predictions_table} WHERE game_date = {d}) \
                 AND player_lookup IN (SELECT player_lookup FROM {games_table} WHERE game_date = {d} \
                   AND team_abbr IN {named})))",
            players = text_list(players.iter().copied()),
        ))
        .await?;
    let boxscore: Vec<BoxscoreRow> = read_as(
        ctx,
        &BoxscoreTraditionalPlayer::DEF,
        &format!(
            "SELECT {BOXSCORE_COLUMNS} FROM {{table}} WHERE game_date = {d} \
             AND (team_abbr IN {} OR team_abbr IN {named})",
            text_list(teams.iter().copied())
        ),
    )
    .await?;
    let skips: Vec<PredictionSkip> = read_as(
        ctx,
        &PredictionSkip::DEF,
        &format!(
            "SELECT * FROM {{table}} WHERE game_date = {d} \
             AND (player_lookup IN {named} OR team_abbr IN {named})"
        ),
    )
    .await?;
    let mut inputs = GradingInputs {
        teams_with_results: teams_with_results.into_iter().map(|t| t.value).collect(),
        skips,
        stale: Some(stale.into_iter().map(|t| t.value).collect()),
        predictions,
        games,
        ..GradingInputs::default()
    };
    for row in &boxscore {
        inputs.add_boxscore(row);
    }
    Ok(inputs)
}

/// Replaces the accuracy rows of D of each player in `stale` or in `rows`
/// (one replace per `player_lookup`, so no other row is touched).
async fn replace_players(
    ctx: &ProcessContext,
    stale: &BTreeSet<String>,
    rows: &[PredictionAccuracy],
) -> Result<propcast_platform::WriteStats, ProcessError> {
    let mut by_player: BTreeMap<&str, Vec<PredictionAccuracy>> =
        stale.iter().map(|p| (p.as_str(), Vec::new())).collect();
    for row in rows {
        by_player
            .entry(row.player_lookup.as_str())
            .or_default()
            .push(row.clone());
    }
    let mut total = propcast_platform::WriteStats::default();
    for (player, rows) in &by_player {
        let stats = ctx
            .warehouse
            .replace_rows(ctx.game_date, &[("player_lookup", player)], rows)
            .await?;
        total.rows_written += stats.rows_written;
        total.rows_deleted += stats.rows_deleted;
    }
    Ok(total)
}
