//! `nba_precompute.team_defense_zone_analysis` (REFERENCE §3.2): for the
//! analysis date D, what each team allowed by zone over its last 15 games
//! with shot data, against the league.
//!
//! **Input.** `nba_raw.shot_zones` rows of D's season with `game_date < D`
//! only (rows on or after D never change D). What a team allowed in a game
//! is the sum of the **opposing** team's player rows of that game (rows
//! whose `opponent_abbr` is the team). Without shot data (2024-25 onward)
//! the partition is written empty and the run reports no data.
//!
//! **Fields.** Over the sample (the team's 15 most recent such games, fewer
//! when it has fewer; `sample_quality` `complete` at 15, else
//! `insufficient_data`): attempts and makes allowed per zone;
//! `<zone>_pct_allowed` = makes / attempts (0–1, NULL without attempts);
//! `<zone>_defense_vs_league_avg` = pct allowed − league pct (positive =
//! weak there). The league pct of a zone is the mean of the pct allowed
//! of the teams with a complete 15-game sample, when at least
//! [`MIN_TEAMS_FOR_LEAGUE_AVG`] teams have one (`league_avg_source`
//! `computed`); otherwise [`DEFAULT_LEAGUE_PCT`] (`default`).
//! `strongest_zone` / `weakest_zone` are the zones with the lowest /
//! highest vs-league value (ties: paint, mid_range, three in that order;
//! NULL when no zone has one). `defensive_rating` and `opponent_ppg` are
//! the means of `nba_analytics.team_defense_game_summary`'s
//! `defensive_rating` and `points_allowed` over the sample games that have
//! a summary row (by game id and defending team), NULL when none has
//! (2022-23 and 2023-24 have no team summaries in the shared data).
//!
//! **Reads.** One query per date returning each team's 15 most recent
//! games with the zone sums allowed ([`recent_games_sql`]); when it
//! returns any, one read of the season's team defense summaries.
//! [`team_games_from_shot_zones`] is the same reduction over plain rows.

use crate::player_shot_zone_analysis::{ZONES, ZoneCounts, history_window, zone_sums_sql};
use async_trait::async_trait;
use chrono::NaiveDate;
use propcast_core::tables::{ShotZone, TeamDefenseGameSummary, TeamDefenseZoneAnalysis};
use propcast_core::{Table, TableDef};
use propcast_patterns::DateSummary;
use propcast_patterns::{Phase, ProcessContext, ProcessError, ProcessOutput, Processor};
use propcast_platform::WarehouseExt;
use propcast_platform::warehouse::date_literal;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Games in a team's sample.
pub const SAMPLE_GAMES: usize = 15;

/// Teams with a complete sample needed to compute the league average.
pub const MIN_TEAMS_FOR_LEAGUE_AVG: usize = 10;

/// League FG% by zone (paint, mid_range, three) used while fewer than
/// [`MIN_TEAMS_FOR_LEAGUE_AVG`] teams have 15 games: the reference
/// system's paint default 0.580, and mid-range 0.410 / three 0.355, round
/// figures of recent NBA seasons (the 2023-24 shot file gives 0.415 and
/// 0.367 by mid-January).
pub const DEFAULT_LEAGUE_PCT: [f64; 3] = [0.580, 0.410, 0.355];

/// What a team's opponent shot against it in one game.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TeamZoneGame {
    /// The defending team.
    pub team_abbr: String,
    pub game_id: String,
    pub game_date: NaiveDate,
    pub paint_fga: i64,
    pub paint_fgm: i64,
    pub mid_range_fga: i64,
    pub mid_range_fgm: i64,
    pub three_fga: i64,
    pub three_fgm: i64,
}

impl TeamZoneGame {
    pub fn counts(&self) -> ZoneCounts {
        ZoneCounts {
            paint_fga: self.paint_fga,
            paint_fgm: self.paint_fgm,
            mid_range_fga: self.mid_range_fga,
            mid_range_fgm: self.mid_range_fgm,
            three_fga: self.three_fga,
            three_fgm: self.three_fgm,
        }
    }
}

/// The definition: groups zone rows (any dates) into what each defending
/// team (`opponent_abbr` of the shooter) allowed per game.
pub fn team_games_from_shot_zones(rows: &[ShotZone]) -> Vec<TeamZoneGame> {
    let mut games: BTreeMap<(String, String), (NaiveDate, ZoneCounts)> = BTreeMap::new();
    for r in rows {
        let (_, counts) = games
            .entry((r.opponent_abbr.clone(), r.game_id.clone()))
            .or_insert_with(|| (r.game_date, ZoneCounts::default()));
        counts.add_zone(&r.zone, r.fga, r.fgm);
    }
    games
        .into_iter()
        .map(|((team_abbr, game_id), (game_date, c))| TeamZoneGame {
            team_abbr,
            game_id,
            game_date,
            paint_fga: c.paint_fga,
            paint_fgm: c.paint_fgm,
            mid_range_fga: c.mid_range_fga,
            mid_range_fgm: c.mid_range_fgm,
            three_fga: c.three_fga,
            three_fgm: c.three_fgm,
        })
        .collect()
}

/// A defending team's summary of one game (columns of
/// `nba_analytics.team_defense_game_summary`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DefenseGame {
    pub defending_team_abbr: String,
    pub game_id: String,
    pub points_allowed: i64,
    pub defensive_rating: Option<f64>,
}

impl From<&TeamDefenseGameSummary> for DefenseGame {
    fn from(s: &TeamDefenseGameSummary) -> Self {
        DefenseGame {
            defending_team_abbr: s.defending_team_abbr.clone(),
            game_id: s.game_id.clone(),
            points_allowed: s.points_allowed,
            defensive_rating: s.defensive_rating,
        }
    }
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The first zone (in [`ZONES`] order) whose value is lowest (`lowest`) or
/// highest, among zones that have one.
fn extreme_zone(values: [Option<f64>; 3], lowest: bool) -> Option<String> {
    let mut best: Option<(usize, f64)> = None;
    for (i, v) in values.iter().enumerate() {
        let Some(v) = *v else { continue };
        let better = match best {
            None => true,
            Some((_, b)) => {
                if lowest {
                    v < b
                } else {
                    v > b
                }
            }
        };
        if better {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| ZONES[i].to_string())
}

/// Computes the rows of `date`, sorted by `team_abbr`.
///
/// `games` are team games of any dates (those outside `date`'s season
/// before `date` are ignored; only each team's [`SAMPLE_GAMES`] most recent
/// are used); `summaries` the team defense summaries available (matched to
/// sample games by defending team and game id).
pub fn build_team_defense_zone_analysis(
    date: NaiveDate,
    games: &[TeamZoneGame],
    summaries: &[DefenseGame],
) -> DateSummary<TeamDefenseZoneAnalysis> {
    let (first, end) = history_window(date);
    let mut summary = DateSummary::<TeamDefenseZoneAnalysis>::default();
    let mut by_team: BTreeMap<&str, Vec<&TeamZoneGame>> = BTreeMap::new();
    for g in games
        .iter()
        .filter(|g| g.game_date >= first && g.game_date < end)
    {
        by_team.entry(g.team_abbr.as_str()).or_default().push(g);
    }
    summary.input_rows = by_team.values().map(Vec::len).sum();
    let defense: BTreeMap<(&str, &str), &DefenseGame> = summaries
        .iter()
        .map(|s| ((s.defending_team_abbr.as_str(), s.game_id.as_str()), s))
        .collect();

    struct Sample<'a> {
        team: &'a str,
        games: Vec<&'a TeamZoneGame>,
        counts: ZoneCounts,
        pcts: [Option<f64>; 3],
    }
    let samples: Vec<Sample<'_>> = by_team
        .into_iter()
        .map(|(team, mut games)| {
            games.sort_by(|a, b| (b.game_date, &b.game_id).cmp(&(a.game_date, &a.game_id)));
            games.truncate(SAMPLE_GAMES);
            let mut counts = ZoneCounts::default();
            for g in &games {
                counts.add(&g.counts());
            }
            Sample {
                team,
                games,
                counts,
                pcts: ZONES.map(|z| counts.pct(z)),
            }
        })
        .collect();

    // League pct per zone: mean over the teams with a complete sample.
    let complete: Vec<&Sample<'_>> = samples
        .iter()
        .filter(|s| s.games.len() == SAMPLE_GAMES)
        .collect();
    let (league, source) = if complete.len() >= MIN_TEAMS_FOR_LEAGUE_AVG {
        let league = [0, 1, 2].map(|i| {
            let pcts: Vec<f64> = complete.iter().filter_map(|s| s.pcts[i]).collect();
            mean(&pcts)
        });
        (league, "computed")
    } else {
        (DEFAULT_LEAGUE_PCT.map(Some), "default")
    };
    summary
        .counters
        .add("teams_with_complete_sample", complete.len() as i64);

    for s in &samples {
        let vs = [0, 1, 2].map(|i| Some(s.pcts[i]? - league[i]?));
        let matched: Vec<&DefenseGame> = s
            .games
            .iter()
            .filter_map(|g| defense.get(&(s.team, g.game_id.as_str())).copied())
            .collect();
        let ratings: Vec<f64> = matched.iter().filter_map(|d| d.defensive_rating).collect();
        let points: Vec<f64> = matched.iter().map(|d| d.points_allowed as f64).collect();
        if !matched.is_empty() && matched.len() < s.games.len() {
            summary
                .counters
                .bump("teams_with_partial_defense_summaries");
        }
        let complete = s.games.len() == SAMPLE_GAMES;
        summary.rows.push(TeamDefenseZoneAnalysis {
            game_date: date,
            team_abbr: s.team.to_string(),
            games_in_sample: s.games.len() as i64,
            paint_fga_allowed: s.counts.paint_fga,
            paint_fgm_allowed: s.counts.paint_fgm,
            mid_range_fga_allowed: s.counts.mid_range_fga,
            mid_range_fgm_allowed: s.counts.mid_range_fgm,
            three_fga_allowed: s.counts.three_fga,
            three_fgm_allowed: s.counts.three_fgm,
            paint_pct_allowed: s.pcts[0],
            mid_range_pct_allowed: s.pcts[1],
            three_pct_allowed: s.pcts[2],
            paint_defense_vs_league_avg: vs[0],
            mid_range_defense_vs_league_avg: vs[1],
            three_defense_vs_league_avg: vs[2],
            league_avg_source: source.to_string(),
            strongest_zone: extreme_zone(vs, true),
            weakest_zone: extreme_zone(vs, false),
            defensive_rating: mean(&ratings),
            opponent_ppg: mean(&points),
            sample_quality: if complete {
                "complete"
            } else {
                "insufficient_data"
            }
            .to_string(),
        });
    }
    summary
}

/// The recent-games query of `date`: each defending team's
/// [`SAMPLE_GAMES`] most recent games of the season before `date`, one row
/// per game with the zone sums its opponent shot (columns of
/// [`TeamZoneGame`]). Portable SQL (DuckDB, BigQuery).
pub fn recent_games_sql(date: NaiveDate) -> String {
    let (first, end) = history_window(date);
    format!(
        "SELECT team_abbr, game_id, game_date, \
           paint_fga, paint_fgm, mid_range_fga, mid_range_fgm, three_fga, three_fgm \
         FROM (\
           SELECT opponent_abbr AS team_abbr, game_id, game_date, {sums}, \
             ROW_NUMBER() OVER (PARTITION BY opponent_abbr ORDER BY game_date DESC, game_id DESC) AS recency \
           FROM {table} WHERE game_date >= {first} AND game_date < {end} \
           GROUP BY opponent_abbr, game_id, game_date\
         ) AS team_games WHERE recency <= {n} \
         ORDER BY team_abbr, game_date DESC, game_id DESC",
        sums = zone_sums_sql(),
        table = ShotZone::DEF.qualified(),
        first = date_literal(first),
        end = date_literal(end),
        n = SAMPLE_GAMES,
    )
}

/// The season's team defense summaries before `date`.
pub fn defense_sql(date: NaiveDate) -> String {
    let (first, end) = history_window(date);
    format!(
        "SELECT defending_team_abbr, game_id, points_allowed, defensive_rating FROM {table} \
         WHERE game_date >= {first} AND game_date < {end} ORDER BY defending_team_abbr, game_id",
        table = TeamDefenseGameSummary::DEF.qualified(),
        first = date_literal(first),
        end = date_literal(end),
    )
}

/// Phase 4 processor writing `nba_precompute.team_defense_zone_analysis`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TeamDefenseZoneAnalysisProcessor;

#[async_trait]
impl Processor for TeamDefenseZoneAnalysisProcessor {
    fn name(&self) -> &'static str {
        "team_defense_zone_analysis"
    }

    fn phase(&self) -> Phase {
        Phase::Precompute
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![TeamDefenseZoneAnalysis::DEF]
    }

    /// Reads only dates before D: `nba_raw.shot_zones` (an import, not a
    /// processor) and `nba_analytics.team_defense_game_summary` of the
    /// season before D. No same-date input, so no upstream change of D
    /// changes its rows.
    fn sources(&self) -> Option<&'static [&'static str]> {
        Some(&[])
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        let date = ctx.game_date;
        ctx.warehouse.ensure_table(&ShotZone::DEF).await?;
        let games: Vec<TeamZoneGame> = ctx.warehouse.query_as(&recent_games_sql(date)).await?;
        let summary = if games.is_empty() {
            tracing::info!(processor = self.name(), game_date = %date, "no shot data before the date this season");
            DateSummary::default()
        } else {
            ctx.warehouse
                .ensure_table(&TeamDefenseGameSummary::DEF)
                .await?;
            let defense: Vec<DefenseGame> = ctx.warehouse.query_as(&defense_sql(date)).await?;
            build_team_defense_zone_analysis(date, &games, &defense)
        };
        propcast_patterns::write_partition(ctx, self.name(), summary).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strongest_and_weakest_take_the_first_of_ties() {
        assert_eq!(
            extreme_zone([Some(-0.02), Some(0.01), Some(-0.02)], true).as_deref(),
            Some("paint")
        );
        assert_eq!(
            extreme_zone([Some(-0.02), Some(0.01), Some(0.01)], false).as_deref(),
            Some("mid_range")
        );
        assert_eq!(
            extreme_zone([None, None, Some(0.0)], true).as_deref(),
            Some("three")
        );
        assert_eq!(extreme_zone([None, None, None], false), None);
    }

    fn game(team: &str, id: &str, day: u32, paint: (i64, i64)) -> TeamZoneGame {
        TeamZoneGame {
            team_abbr: team.into(),
            game_id: id.into(),
            game_date: NaiveDate::from_ymd_opt(2023, 11, day).unwrap(),
            paint_fga: paint.0,
            paint_fgm: paint.1,
            mid_range_fga: 10,
            mid_range_fgm: 4,
            three_fga: 0,
            three_fgm: 0,
        }
    }

    #[test]
    fn few_complete_teams_use_the_documented_defaults() {
        let d = NaiveDate::from_ymd_opt(2023, 11, 20).unwrap();
        let games = [game("BOS", "1", 1, (40, 22)), game("BOS", "2", 3, (40, 26))];
        let defense = [DefenseGame {
            defending_team_abbr: "BOS".into(),
            game_id: "2".into(),
            points_allowed: 101,
            defensive_rating: Some(104.5),
        }];
        let s = build_team_defense_zone_analysis(d, &games, &defense);
        let r = &s.rows[0];
        assert_eq!(r.league_avg_source, "default");
        assert_eq!(
            (r.games_in_sample, r.paint_fga_allowed, r.paint_fgm_allowed),
            (2, 80, 48)
        );
        // 48/80 = 0.600 − 0.580; 8/20 = 0.400 − 0.410; no threes.
        assert!((r.paint_defense_vs_league_avg.unwrap() - 0.02).abs() < 1e-12);
        assert!((r.mid_range_defense_vs_league_avg.unwrap() + 0.01).abs() < 1e-12);
        assert_eq!(r.three_pct_allowed, None);
        assert_eq!(r.three_defense_vs_league_avg, None);
        assert_eq!(r.strongest_zone.as_deref(), Some("mid_range"));
        assert_eq!(r.weakest_zone.as_deref(), Some("paint"));
        // Only game 2 has a summary.
        assert_eq!(
            (r.defensive_rating, r.opponent_ppg),
            (Some(104.5), Some(101.0))
        );
        assert_eq!(r.sample_quality, "insufficient_data");
    }
}
