//! `nba_precompute.player_shot_zone_analysis` (REFERENCE §3.1): for the
//! analysis date D, each player's shot profile over his last 10 games with
//! shot data, against the league.
//!
//! **Input.** `nba_raw.shot_zones` (the shot-chart bulk import), games of
//! D's season ([`Season::of`]) with `game_date < D` only: rows on or after D
//! never change D. A "game with shot data" is a game with at least one of
//! the player's field-goal attempts in the file (the source has no row for
//! a game without attempts). Real shot data exists for 2022-23 and 2023-24
//! only; on other dates the partition is written empty and the run reports
//! no data — zone features downstream are NULL, never invented.
//!
//! **Universe.** Every player with ≥ 1 such game, keyed by the
//! `player_lookup` of his most recent game (a second player id with the
//! same lookup gets the id appended, as in the daily cache); `team_abbr` is
//! the team of that game.
//!
//! **Fields.** Over the sample (the 10 most recent games, fewer when he
//! has fewer): attempts and makes per zone (`paint` = restricted area +
//! non-RA paint, `mid_range`, `three` incl. corners and backcourt);
//! `<zone>_rate` = 100 · zone FGA / total FGA; `<zone>_fg_pct` = zone FGM /
//! zone FGA (NULL without attempts); `<zone>_fg_pct_vs_league` = the
//! player's zone FG% − the league's, the league being every player's zone
//! makes / attempts over all games of the season before D (NULL when
//! either is). `primary_scoring_zone`: `paint` if paint_rate ≥ 40, else
//! `perimeter` if three_rate ≥ 40, else `mid_range` if mid_range_rate ≥ 30,
//! else `balanced`. `sample_quality` is `complete` with 10 games, else
//! `insufficient_data` (the row is still written, flagged).
//!
//! **Reads.** One query per date returning each player's 10 most recent
//! games with zone sums pivoted into columns ([`recent_games_sql`]), and,
//! when it returns any, one aggregate for the league ([`league_sql`]).
//! [`zone_games_from_shot_zones`] and [`ZoneCounts::from_shot_zones`] are
//! the same reductions over plain rows: the definitions the queries are
//! tested against.

use async_trait::async_trait;
use chrono::NaiveDate;
use propcast_core::tables::{PlayerShotZoneAnalysis, ShotZone};
use propcast_core::{Season, Table, TableDef};
use propcast_patterns::DateSummary;
use propcast_patterns::{Phase, ProcessContext, ProcessError, ProcessOutput, Processor};
use propcast_platform::WarehouseExt;
use propcast_platform::warehouse::date_literal;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Games in a player's sample.
pub const SAMPLE_GAMES: usize = 10;

/// The project's zones, in the order ties are broken.
pub const ZONES: [&str; 3] = ["paint", "mid_range", "three"];

/// The first date of `date`'s season and `date` itself: the half-open range
/// of games that may inform `date`.
pub fn history_window(date: NaiveDate) -> (NaiveDate, NaiveDate) {
    (Season::of(date).first_day(), date)
}

/// Field-goal attempts and makes by zone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct ZoneCounts {
    pub paint_fga: i64,
    pub paint_fgm: i64,
    pub mid_range_fga: i64,
    pub mid_range_fgm: i64,
    pub three_fga: i64,
    pub three_fgm: i64,
}

impl ZoneCounts {
    /// Adds one zone row (`zone` one of [`ZONES`]; anything else ignored).
    pub fn add_zone(&mut self, zone: &str, fga: i64, fgm: i64) {
        let (a, m) = match zone {
            "paint" => (&mut self.paint_fga, &mut self.paint_fgm),
            "mid_range" => (&mut self.mid_range_fga, &mut self.mid_range_fgm),
            "three" => (&mut self.three_fga, &mut self.three_fgm),
            _ => return,
        };
        *a += fga;
        *m += fgm;
    }

    pub fn add(&mut self, other: &ZoneCounts) {
        self.paint_fga += other.paint_fga;
        self.paint_fgm += other.paint_fgm;
        self.mid_range_fga += other.mid_range_fga;
        self.mid_range_fgm += other.mid_range_fgm;
        self.three_fga += other.three_fga;
        self.three_fgm += other.three_fgm;
    }

    pub fn total_fga(&self) -> i64 {
        self.paint_fga + self.mid_range_fga + self.three_fga
    }

    /// (FGA, FGM) of a zone of [`ZONES`].
    pub fn zone(&self, zone: &str) -> (i64, i64) {
        match zone {
            "paint" => (self.paint_fga, self.paint_fgm),
            "mid_range" => (self.mid_range_fga, self.mid_range_fgm),
            "three" => (self.three_fga, self.three_fgm),
            _ => (0, 0),
        }
    }

    /// Zone FGM / FGA (0–1), `None` without attempts.
    pub fn pct(&self, zone: &str) -> Option<f64> {
        let (fga, fgm) = self.zone(zone);
        (fga > 0).then(|| fgm as f64 / fga as f64)
    }

    /// 100 · zone FGA / total FGA, `None` without attempts.
    pub fn rate(&self, zone: &str) -> Option<f64> {
        let total = self.total_fga();
        (total > 0).then(|| 100.0 * self.zone(zone).0 as f64 / total as f64)
    }

    /// The league definition: sums of every row of `date`'s season strictly
    /// before `date`.
    pub fn from_shot_zones(date: NaiveDate, rows: &[ShotZone]) -> ZoneCounts {
        let (first, end) = history_window(date);
        let mut out = ZoneCounts::default();
        for r in rows
            .iter()
            .filter(|r| r.game_date >= first && r.game_date < end)
        {
            out.add_zone(&r.zone, r.fga, r.fgm);
        }
        out
    }
}

/// One player's game with shot data: the sums of his zone rows.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PlayerZoneGame {
    pub player_id: i64,
    pub player_lookup: String,
    pub player_name: String,
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

impl PlayerZoneGame {
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

/// The definition: groups zone rows (any dates) into player games.
pub fn zone_games_from_shot_zones(rows: &[ShotZone]) -> Vec<PlayerZoneGame> {
    let mut games: BTreeMap<(i64, String), PlayerZoneGame> = BTreeMap::new();
    for r in rows {
        let g = games
            .entry((r.player_id, r.game_id.clone()))
            .or_insert_with(|| PlayerZoneGame {
                player_id: r.player_id,
                player_lookup: r.player_lookup.clone(),
                player_name: r.player_name.clone(),
                team_abbr: r.team_abbr.clone(),
                game_id: r.game_id.clone(),
                game_date: r.game_date,
                paint_fga: 0,
                paint_fgm: 0,
                mid_range_fga: 0,
                mid_range_fgm: 0,
                three_fga: 0,
                three_fgm: 0,
            });
        let (fga, fgm) = match r.zone.as_str() {
            "paint" => (&mut g.paint_fga, &mut g.paint_fgm),
            "mid_range" => (&mut g.mid_range_fga, &mut g.mid_range_fgm),
            "three" => (&mut g.three_fga, &mut g.three_fgm),
            _ => continue,
        };
        *fga += r.fga;
        *fgm += r.fgm;
    }
    games.into_values().collect()
}

/// "paint" (paint_rate ≥ 40), else "perimeter" (three_rate ≥ 40), else
/// "mid_range" (mid_range_rate ≥ 30), else "balanced"; a missing rate
/// counts as 0.
pub fn primary_scoring_zone(
    paint_rate: Option<f64>,
    mid_range_rate: Option<f64>,
    three_rate: Option<f64>,
) -> &'static str {
    let r = |v: Option<f64>| v.unwrap_or(0.0);
    if r(paint_rate) >= 40.0 {
        "paint"
    } else if r(three_rate) >= 40.0 {
        "perimeter"
    } else if r(mid_range_rate) >= 30.0 {
        "mid_range"
    } else {
        "balanced"
    }
}

fn minus(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? - b?)
}

/// Computes the rows of `date`, sorted by `player_lookup`.
///
/// `games` are player games of any dates (those outside `date`'s season
/// before `date` are ignored; only each player's [`SAMPLE_GAMES`] most
/// recent are used); `league` the league's zone totals of the season
/// before `date` ([`ZoneCounts::from_shot_zones`]).
pub fn build_player_shot_zone_analysis(
    date: NaiveDate,
    games: &[PlayerZoneGame],
    league: &ZoneCounts,
) -> DateSummary<PlayerShotZoneAnalysis> {
    let (first, end) = history_window(date);
    let mut summary = DateSummary::<PlayerShotZoneAnalysis>::default();
    let mut by_player: BTreeMap<i64, Vec<&PlayerZoneGame>> = BTreeMap::new();
    for g in games
        .iter()
        .filter(|g| g.game_date >= first && g.game_date < end)
    {
        by_player.entry(g.player_id).or_default().push(g);
    }
    summary.input_rows = by_player.values().map(Vec::len).sum();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for (player_id, mut games) in by_player {
        games.sort_by(|a, b| (b.game_date, &b.game_id).cmp(&(a.game_date, &a.game_id)));
        games.truncate(SAMPLE_GAMES);
        let latest = games[0];
        let mut counts = ZoneCounts::default();
        for g in &games {
            counts.add(&g.counts());
        }
        let mut lookup = latest.player_lookup.clone();
        if lookup.is_empty() || taken.contains(&lookup) {
            tracing::warn!(game_date = %date, player_lookup = %lookup, player_id, "player_lookup collision; keyed by lookup and id");
            summary.counters.bump("player_lookup_collisions");
            lookup = format!("{lookup}{player_id}");
        }
        taken.insert(lookup.clone());
        let n = games.len() as i64;
        let complete = games.len() == SAMPLE_GAMES;
        summary.counters.bump(if complete {
            "complete"
        } else {
            "insufficient_data"
        });
        let [paint_rate, mid_range_rate, three_rate] = ZONES.map(|z| counts.rate(z));
        let [paint_fg_pct, mid_range_fg_pct, three_fg_pct] = ZONES.map(|z| counts.pct(z));
        summary.rows.push(PlayerShotZoneAnalysis {
            game_date: date,
            player_lookup: lookup,
            player_id,
            player_name: latest.player_name.clone(),
            team_abbr: latest.team_abbr.clone(),
            games_in_sample: n,
            last_game_date: latest.game_date,
            total_fga: counts.total_fga(),
            paint_fga: counts.paint_fga,
            paint_fgm: counts.paint_fgm,
            mid_range_fga: counts.mid_range_fga,
            mid_range_fgm: counts.mid_range_fgm,
            three_fga: counts.three_fga,
            three_fgm: counts.three_fgm,
            paint_rate,
            mid_range_rate,
            three_rate,
            paint_fg_pct,
            mid_range_fg_pct,
            three_fg_pct,
            paint_fg_pct_vs_league: minus(paint_fg_pct, league.pct("paint")),
            mid_range_fg_pct_vs_league: minus(mid_range_fg_pct, league.pct("mid_range")),
            three_fg_pct_vs_league: minus(three_fg_pct, league.pct("three")),
            primary_scoring_zone: primary_scoring_zone(paint_rate, mid_range_rate, three_rate)
                .to_string(),
            sample_quality: if complete {
                "complete"
            } else {
                "insufficient_data"
            }
            .to_string(),
        });
    }
    summary
        .rows
        .sort_by(|a, b| a.player_lookup.cmp(&b.player_lookup));
    summary
}

/// The zone sums of a group of `nba_raw.shot_zones` rows as the six
/// [`ZoneCounts`] columns.
pub fn zone_sums_sql() -> String {
    let mut cols = Vec::with_capacity(6);
    for zone in ZONES {
        for stat in ["fga", "fgm"] {
            cols.push(format!(
                "CAST(COALESCE(SUM(CASE WHEN zone = '{zone}' THEN {stat} END), 0) AS BIGINT) AS {zone}_{stat}"
            ));
        }
    }
    cols.join(", ")
}

/// The recent-games query of `date`: each player's [`SAMPLE_GAMES`] most
/// recent games of the season before `date`, one row per game with the
/// zone sums (columns of [`PlayerZoneGame`]). Portable SQL (DuckDB,
/// BigQuery).
pub fn recent_games_sql(date: NaiveDate) -> String {
    let (first, end) = history_window(date);
    format!(
        "SELECT player_id, player_lookup, player_name, team_abbr, game_id, game_date, \
           paint_fga, paint_fgm, mid_range_fga, mid_range_fgm, three_fga, three_fgm \
         FROM (\
           SELECT player_id, MAX(player_lookup) AS player_lookup, MAX(player_name) AS player_name, \
             MAX(team_abbr) AS team_abbr, game_id, game_date, {sums}, \
             ROW_NUMBER() OVER (PARTITION BY player_id ORDER BY game_date DESC, game_id DESC) AS recency \
           FROM {table} WHERE game_date >= {first} AND game_date < {end} \
           GROUP BY player_id, game_id, game_date\
         ) AS player_games WHERE recency <= {n} \
         ORDER BY player_id, game_date DESC, game_id DESC",
        sums = zone_sums_sql(),
        table = ShotZone::DEF.qualified(),
        first = date_literal(first),
        end = date_literal(end),
        n = SAMPLE_GAMES,
    )
}

/// The league's zone totals over the season before `date` (one row).
pub fn league_sql(date: NaiveDate) -> String {
    let (first, end) = history_window(date);
    format!(
        "SELECT {sums} FROM {table} WHERE game_date >= {first} AND game_date < {end}",
        sums = zone_sums_sql(),
        table = ShotZone::DEF.qualified(),
        first = date_literal(first),
        end = date_literal(end),
    )
}

/// Phase 4 processor writing `nba_precompute.player_shot_zone_analysis`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlayerShotZoneAnalysisProcessor;

#[async_trait]
impl Processor for PlayerShotZoneAnalysisProcessor {
    fn name(&self) -> &'static str {
        "player_shot_zone_analysis"
    }

    fn phase(&self) -> Phase {
        Phase::Precompute
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![PlayerShotZoneAnalysis::DEF]
    }

    /// Reads only `nba_raw.shot_zones` (an import, not a processor) of the
    /// season before D: no same-date input.
    fn sources(&self) -> Option<&'static [&'static str]> {
        Some(&[])
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        let date = ctx.game_date;
        ctx.warehouse.ensure_table(&ShotZone::DEF).await?;
        let games: Vec<PlayerZoneGame> = ctx.warehouse.query_as(&recent_games_sql(date)).await?;
        let summary = if games.is_empty() {
            tracing::info!(processor = self.name(), game_date = %date, "no shot data before the date this season");
            DateSummary::default()
        } else {
            let league: Vec<ZoneCounts> = ctx.warehouse.query_as(&league_sql(date)).await?;
            let league = league.into_iter().next().unwrap_or_default();
            build_player_shot_zone_analysis(date, &games, &league)
        };
        propcast_patterns::write_partition(ctx, self.name(), summary).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_zone_rule_in_order() {
        assert_eq!(
            primary_scoring_zone(Some(40.0), Some(10.0), Some(50.0)),
            "paint"
        );
        assert_eq!(
            primary_scoring_zone(Some(39.9), Some(10.0), Some(40.0)),
            "perimeter"
        );
        assert_eq!(
            primary_scoring_zone(Some(35.0), Some(30.0), Some(35.0)),
            "mid_range"
        );
        assert_eq!(
            primary_scoring_zone(Some(39.0), Some(29.0), Some(32.0)),
            "balanced"
        );
        assert_eq!(primary_scoring_zone(None, None, None), "balanced");
    }

    #[test]
    fn rates_and_percentages() {
        // 6 paint (3 made), 2 mid (1), 12 three (4): 20 FGA.
        let c = ZoneCounts {
            paint_fga: 6,
            paint_fgm: 3,
            mid_range_fga: 2,
            mid_range_fgm: 1,
            three_fga: 12,
            three_fgm: 4,
        };
        assert_eq!(c.total_fga(), 20);
        assert_eq!(c.rate("paint"), Some(30.0));
        assert_eq!(c.rate("three"), Some(60.0));
        assert_eq!(c.pct("mid_range"), Some(0.5));
        assert_eq!(ZoneCounts::default().pct("paint"), None);
        assert_eq!(ZoneCounts::default().rate("paint"), None);
    }

    fn game(id: &str, date: &str, paint: (i64, i64)) -> PlayerZoneGame {
        PlayerZoneGame {
            player_id: 1,
            player_lookup: "a".into(),
            player_name: "A".into(),
            team_abbr: "BOS".into(),
            game_id: id.into(),
            game_date: NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap(),
            paint_fga: paint.0,
            paint_fgm: paint.1,
            mid_range_fga: 0,
            mid_range_fgm: 0,
            three_fga: 0,
            three_fgm: 0,
        }
    }

    #[test]
    fn games_on_or_after_the_date_and_of_other_seasons_are_ignored() {
        let d = NaiveDate::from_ymd_opt(2023, 11, 10).unwrap();
        let games = [
            game("1", "2023-04-01", (9, 9)), // 2022-23
            game("2", "2023-11-01", (4, 2)),
            game("3", "2023-11-10", (9, 9)), // on D
        ];
        let league = ZoneCounts {
            paint_fga: 10,
            paint_fgm: 6,
            ..ZoneCounts::default()
        };
        let s = build_player_shot_zone_analysis(d, &games, &league);
        assert_eq!(s.rows.len(), 1);
        let r = &s.rows[0];
        assert_eq!((r.games_in_sample, r.paint_fga, r.paint_fgm), (1, 4, 2));
        assert_eq!(r.sample_quality, "insufficient_data");
        // 2/4 − 6/10
        assert!((r.paint_fg_pct_vs_league.unwrap() - (0.5 - 0.6)).abs() < 1e-12);
        assert_eq!(r.mid_range_fg_pct_vs_league, None);
        assert_eq!(r.primary_scoring_zone, "paint");
    }
}
