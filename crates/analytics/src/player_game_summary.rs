//! `nba_analytics.player_game_summary`: one row per player per date, from
//! `nba_raw.player_boxscores`, with team totals from `nba_raw.team_boxscores`
//! (the player source covers only tracked players, so team totals never come
//! from summing player rows) and the schedule for the result.
//!
//! * TS% and eFG% NULL without attempts; usage rate (see
//!   [`efficiency::usage_rate`]) NULL without the team's box score row, with
//!   0 minutes, or above 100; game score always.
//! * `win_flag` from the team's final points against the opponent's (box
//!   scores, schedule, or the opponent's plus-minus, as paired in
//!   [`crate::team_games`]); else the schedule's final score; else the
//!   source's W/L column.
//! * `is_dnp` is false: the source has only players who played.
//! * `data_quality` is `team_boxscore` when team totals were found, else
//!   `player_only`.
//!
//! The key is (game_date, player_lookup). Two different players whose names
//! normalise to the same lookup on one date are both kept: the lower NBA id
//! keeps the lookup, the others get their id appended (`jalenwilliams` →
//! `jalenwilliams1631114`), counted as `player_lookup_collisions` and
//! logged. The same player id on two games of one date cannot be keyed: the
//! first game (by id) is kept and the other row is quarantined.

use crate::efficiency;
use crate::inputs;
use crate::team_games::pair_team_games;
use async_trait::async_trait;
use chrono::NaiveDate;
use propcast_core::normalize_name_for_lookup;
use propcast_core::tables::{PlayerBoxscore, PlayerGameSummary, ScheduleGame, TeamBoxscore};
use propcast_core::{Table, TableDef};
use propcast_patterns::reads::on_date;
use propcast_patterns::{Counters, DateSummary, process_date, process_dates, write_scoped};
use propcast_patterns::{
    Phase, ProcessContext, ProcessError, ProcessOutput, Processor, RangeInputs, RangeOutput, Scope,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The final result of `team_abbr` from the schedule alone.
fn schedule_result(game: &ScheduleGame, team_abbr: &str) -> Option<bool> {
    if game.game_status != 3 || game.home_team_abbr == game.away_team_abbr {
        return None;
    }
    let (home, away) = (game.home_score?, game.away_score?);
    if home == away {
        return None;
    }
    if game.home_team_abbr == team_abbr {
        Some(home > away)
    } else if game.away_team_abbr == team_abbr {
        Some(away > home)
    } else {
        None
    }
}

fn source_result(wl: Option<&str>) -> Option<bool> {
    match wl.map(str::trim) {
        Some("W") => Some(true),
        Some("L") => Some(false),
        _ => None,
    }
}

/// The key a player's row is stored under on a date without collisions.
fn base_lookup(p: &PlayerBoxscore, counters: &mut Counters) -> String {
    if p.player_lookup.is_empty() {
        counters.bump("player_lookup_missing");
    }
    lookup_of(p)
}

/// [`base_lookup`] without counting.
fn lookup_of(p: &PlayerBoxscore) -> String {
    if !p.player_lookup.is_empty() {
        return p.player_lookup.clone();
    }
    let derived = normalize_name_for_lookup(&p.player_name);
    if derived.is_empty() {
        format!("player{}", p.player_id)
    } else {
        derived
    }
}

/// Computes the player rows of `date`, sorted by `player_lookup`.
pub fn summarize_player_games(
    date: NaiveDate,
    player_rows: &[PlayerBoxscore],
    team_rows: &[TeamBoxscore],
    schedule: &[ScheduleGame],
) -> DateSummary<PlayerGameSummary> {
    let games = pair_team_games(date, team_rows, schedule);
    let schedule_by_id: HashMap<&str, &ScheduleGame> = schedule
        .iter()
        .filter_map(|g| g.game_id.as_deref().map(|id| (id, g)))
        .collect();
    let mut summary = DateSummary {
        input_rows: player_rows.len(),
        ..DateSummary::default()
    };

    // One row per player id: the first game by id wins, the rest are set aside.
    let mut ordered: Vec<&PlayerBoxscore> = player_rows
        .iter()
        .filter(|p| {
            let on_date = p.game_date == date;
            if !on_date {
                summary.counters.bump("rows_outside_date");
            }
            on_date
        })
        .collect();
    ordered.sort_by(|a, b| (a.player_id, &a.game_id).cmp(&(b.player_id, &b.game_id)));
    let mut players: Vec<&PlayerBoxscore> = Vec::with_capacity(ordered.len());
    for p in ordered {
        if players.last().is_some_and(|q| q.player_id == p.player_id) {
            summary.quarantine.add(
                &p.source_file,
                format!("game_id={} player_id={}", p.game_id, p.player_id),
                "player_id",
                "player already has a game on this date",
                format!("{} pts={} min={}", p.player_name, p.pts, p.minutes),
            );
            continue;
        }
        players.push(p);
    }

    // Keys: players are in id order, so the lowest id claims a lookup first.
    let mut taken: BTreeMap<String, i64> = BTreeMap::new();
    let mut rows: Vec<PlayerGameSummary> = Vec::with_capacity(players.len());
    for p in players {
        let mut lookup = base_lookup(p, &mut summary.counters);
        if let Some(holder) = taken.get(&lookup) {
            let disambiguated = format!("{lookup}{}", p.player_id);
            tracing::warn!(game_date = %date, player_lookup = %lookup, player_id = p.player_id, holder, key = %disambiguated, "player_lookup collision; keyed by lookup and id");
            summary.counters.bump("player_lookup_collisions");
            lookup = disambiguated;
        }
        taken.insert(lookup.clone(), p.player_id);

        let side = games.find(&p.game_id, &p.team_abbr);
        let team = side.and_then(|(g, i)| g.sides[i].boxscore);
        let win_flag = side
            .and_then(|(g, i)| g.win_flag(i))
            .or_else(|| {
                schedule_by_id
                    .get(p.game_id.as_str())
                    .and_then(|g| schedule_result(g, &p.team_abbr))
            })
            .or_else(|| source_result(p.wl.as_deref()));
        if win_flag.is_none() {
            summary.counters.bump("win_flag_unknown");
        }
        let usage_rate = team.and_then(|t| efficiency::usage_rate(p, t));
        if team.is_none() {
            summary.counters.bump("player_only_rows");
        } else if usage_rate.is_none() {
            summary.counters.bump("usage_rate_null_with_team_totals");
        }
        rows.push(PlayerGameSummary {
            game_date: date,
            game_id: p.game_id.clone(),
            season: p.season,
            player_id: p.player_id,
            player_lookup: lookup,
            player_name: p.player_name.clone(),
            team_abbr: p.team_abbr.clone(),
            opponent_abbr: p.opponent_abbr.clone(),
            is_home: p.is_home,
            minutes: p.minutes,
            points: p.pts,
            fgm: p.fgm,
            fga: p.fga,
            fg3m: p.fg3m,
            fg3a: p.fg3a,
            ftm: p.ftm,
            fta: p.fta,
            oreb: p.oreb,
            dreb: p.dreb,
            reb: p.reb,
            ast: p.ast,
            stl: p.stl,
            blk: p.blk,
            tov: p.tov,
            pf: p.pf,
            plus_minus: p.plus_minus,
            ts_pct: efficiency::true_shooting_pct(p.pts, p.fga, p.fta),
            efg_pct: efficiency::effective_fg_pct(p.fgm, p.fg3m, p.fga),
            usage_rate,
            game_score: efficiency::game_score(p),
            win_flag,
            is_dnp: false,
            data_quality: if team.is_some() {
                "team_boxscore"
            } else {
                "player_only"
            }
            .to_string(),
        });
    }
    rows.sort_by(|a, b| a.player_lookup.cmp(&b.player_lookup));
    summary.rows = rows;
    summary
}

/// Phase 3 processor writing `nba_analytics.player_game_summary`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlayerGameSummaryProcessor;

#[async_trait]
impl Processor for PlayerGameSummaryProcessor {
    fn name(&self) -> &'static str {
        "player_game_summary"
    }

    fn phase(&self) -> Phase {
        Phase::Analytics
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![PlayerGameSummary::DEF]
    }

    /// Reads `nba_raw.player_boxscores`, `nba_raw.team_boxscores` and
    /// `nba_raw.schedule` of D, nothing else.
    fn sources(&self) -> Option<&'static [&'static str]> {
        Some(&["player_boxscores", "team_boxscores", "schedule"])
    }

    /// By `player_lookup` or `team_abbr`. A scoped run reads the box scores
    /// of the named players and teams, closed over every row sharing a
    /// lookup or player id with them (collision keys and the duplicate-game
    /// rule depend on those), plus the team box scores and schedule rows of
    /// their games; it replaces, key by key, the rows whose lookup (or its
    /// collision base) or team is named.
    fn supports_entity_scope(&self) -> bool {
        true
    }

    /// A named team brings its opponent: a player's win flag reads both
    /// sides' points.
    async fn expand_scope(
        &self,
        ctx: &ProcessContext,
        entities: BTreeSet<String>,
    ) -> Result<BTreeSet<String>, ProcessError> {
        crate::team_games::with_opponents(ctx, entities).await
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        let Scope::Entities(entities) = &ctx.scope else {
            return process_date::<PlayerGameInputs>(ctx, self.name()).await;
        };
        let player_rows = scoped_player_rows(ctx, entities).await?;
        let game_ids: Vec<&str> = player_rows
            .iter()
            .map(|p| p.game_id.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let team_rows = inputs::team_boxscores_of_games(ctx, &game_ids).await?;
        let player_teams: Vec<&str> = player_rows
            .iter()
            .flat_map(|p| [p.team_abbr.as_str(), p.opponent_abbr.as_str()])
            .collect();
        let (_, named) = crate::team_games::games_and_teams(&team_rows, &player_teams);
        let schedule = inputs::schedule_of(ctx, &game_ids, &named).await?;
        let mut summary =
            summarize_player_games(ctx.game_date, &player_rows, &team_rows, &schedule);
        let base: HashMap<i64, String> = player_rows
            .iter()
            .map(|p| (p.player_id, lookup_of(p)))
            .collect();
        summary
            .rows
            .retain(|r| in_scope(entities, &r.player_lookup, &r.team_abbr, r.player_id, &base));
        let stale = stored_in_scope(ctx, entities).await?;
        write_scoped(
            ctx,
            self.name(),
            "player_lookup",
            |r| r.player_lookup.as_str(),
            stale,
            summary,
        )
        .await
    }

    /// The range's player and team box scores and schedule read once, each
    /// date summarised as by date, one write.
    async fn process_range(
        &self,
        ctx: &ProcessContext,
        dates: &[NaiveDate],
    ) -> Result<RangeOutput, ProcessError> {
        process_dates::<PlayerGameInputs>(ctx, self.name(), dates).await
    }
}

/// What the player game summaries of a range of dates are computed from:
/// each date's player and team box scores and schedule.
struct PlayerGameInputs {
    player_rows: BTreeMap<NaiveDate, Vec<PlayerBoxscore>>,
    team_rows: BTreeMap<NaiveDate, Vec<TeamBoxscore>>,
    schedule: BTreeMap<NaiveDate, Vec<ScheduleGame>>,
}

#[async_trait]
impl RangeInputs for PlayerGameInputs {
    type Row = PlayerGameSummary;

    async fn read(ctx: &ProcessContext, dates: &[NaiveDate]) -> Result<Self, ProcessError> {
        Ok(PlayerGameInputs {
            player_rows: inputs::player_boxscores_of_dates(ctx, dates).await?,
            team_rows: inputs::team_boxscores_of_dates(ctx, dates).await?,
            schedule: inputs::schedule_of_dates(ctx, dates).await?,
        })
    }

    fn build(&self, date: NaiveDate) -> DateSummary<PlayerGameSummary> {
        summarize_player_games(
            date,
            on_date(&self.player_rows, date),
            on_date(&self.team_rows, date),
            on_date(&self.schedule, date),
        )
    }
}

/// Whether a `player_game_summary` row is in the scope `entities`: its
/// `player_lookup` or team is named, or it is a collision key
/// (`lookup` + id) of a named lookup.
fn in_scope(
    entities: &BTreeSet<String>,
    lookup: &str,
    team: &str,
    player_id: i64,
    base: &HashMap<i64, String>,
) -> bool {
    entities.contains(lookup)
        || entities.contains(team)
        || base.get(&player_id).is_some_and(|b| entities.contains(b))
        || lookup
            .strip_suffix(&player_id.to_string())
            .is_some_and(|b| entities.contains(b))
}

/// The keys of the stored rows of D in scope (they are replaced, so a row
/// no longer computed is deleted).
async fn stored_in_scope(
    ctx: &ProcessContext,
    entities: &BTreeSet<String>,
) -> Result<BTreeSet<String>, ProcessError> {
    #[derive(serde::Deserialize)]
    struct Key {
        player_lookup: String,
        team_abbr: String,
        player_id: i64,
    }
    ctx.warehouse.ensure_table(&PlayerGameSummary::DEF).await?;
    let sql = format!(
        "SELECT player_lookup, team_abbr, player_id FROM {} WHERE game_date = {}",
        PlayerGameSummary::DEF.qualified(),
        propcast_platform::warehouse::date_literal(ctx.game_date)
    );
    let keys: Vec<Key> = propcast_platform::WarehouseExt::query_as(&*ctx.warehouse, &sql).await?;
    let none = HashMap::new();
    Ok(keys
        .into_iter()
        .filter(|k| in_scope(entities, &k.player_lookup, &k.team_abbr, k.player_id, &none))
        .map(|k| k.player_lookup)
        .collect())
}

/// The player box scores of D a scoped run summarises: every row whose
/// lookup (stored, or derived from the name when empty) or team is in
/// `entities`, closed over what decides their keys in a full run — every
/// row sharing a lookup with one of them (collisions are keyed by id order)
/// and every row of the same player id (a second game of the date is
/// quarantined). Rows of other players are not read.
async fn scoped_player_rows(
    ctx: &ProcessContext,
    entities: &BTreeSet<String>,
) -> Result<Vec<PlayerBoxscore>, ProcessError> {
    let teams: Vec<&str> = entities.iter().map(String::as_str).collect();
    let mut lookups: BTreeSet<String> = entities.clone();
    let mut ids: BTreeSet<i64> = BTreeSet::new();
    loop {
        let queried_lookups: Vec<&str> = lookups.iter().map(String::as_str).collect();
        let queried_ids: Vec<i64> = ids.iter().copied().collect();
        let rows =
            inputs::player_boxscores_matching(ctx, &queried_lookups, &teams, &queried_ids).await?;
        let bases: Vec<String> = rows.iter().map(lookup_of).collect();
        let mut member: Vec<bool> = rows
            .iter()
            .zip(&bases)
            .map(|(p, b)| entities.contains(b) || entities.contains(&p.team_abbr))
            .collect();
        let mut closed_lookups: BTreeSet<String> = BTreeSet::new();
        let mut closed_ids: BTreeSet<i64> = BTreeSet::new();
        loop {
            for (i, p) in rows.iter().enumerate() {
                if member[i] {
                    closed_lookups.insert(bases[i].clone());
                    closed_ids.insert(p.player_id);
                }
            }
            let mut grew = false;
            for (i, p) in rows.iter().enumerate() {
                if !member[i]
                    && (closed_lookups.contains(&bases[i]) || closed_ids.contains(&p.player_id))
                {
                    member[i] = true;
                    grew = true;
                }
            }
            if !grew {
                break;
            }
        }
        // Complete once every lookup and id of the closure was queried: rows
        // with such a lookup or id were all read.
        if closed_lookups.is_subset(&lookups) && closed_ids.is_subset(&ids) {
            return Ok(rows
                .into_iter()
                .zip(member)
                .filter_map(|(p, m)| m.then_some(p))
                .collect());
        }
        lookups.extend(closed_lookups);
        ids.extend(closed_ids);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::real_data::{date, real};

    fn players_on(d: NaiveDate) -> DateSummary<PlayerGameSummary> {
        let r = real();
        summarize_player_games(d, r.players.on(d), r.teams.on(d), r.schedule.on(d))
    }

    #[test]
    fn stephen_curry_2025_03_15_by_hand() {
        // player_game_logs_2024_25: Curry vs NYK, 35 min, 28 pts, FGM 8,
        // FGA 20, 3PM 4, FTM 8, FTA 9, OREB 0, DREB 7, AST 5, STL 0, BLK 1,
        // TOV 3, PF 2. GSW (team_game_logs): MIN 239 (a 48-minute game),
        // FGA 83, FTA 22, TOV 9; GSW won 97-94.
        let s = players_on(date("2025-03-15"));
        let c = s
            .rows
            .iter()
            .find(|p| p.player_lookup == "stephencurry")
            .unwrap();
        assert_eq!(
            (c.points, c.minutes, c.team_abbr.as_str()),
            (28, 35.0, "GSW")
        );
        let usage: f64 =
            100.0 * (20.0 + 0.44 * 9.0 + 3.0) * 48.0 / (35.0 * (83.0 + 0.44 * 22.0 + 9.0));
        assert!((usage - 36.362_818_9).abs() < 1e-6);
        assert!((c.usage_rate.unwrap() - usage).abs() < 1e-9);
        let ts: f64 = 28.0 / (2.0 * (20.0 + 0.44 * 9.0));
        assert!((ts - 0.584_307_2).abs() < 1e-6);
        assert!((c.ts_pct.unwrap() - ts).abs() < 1e-12);
        assert_eq!(c.efg_pct, Some((8.0 + 0.5 * 4.0) / 20.0));
        let game_score = 28.0 + 0.4 * 8.0 - 0.7 * 20.0 - 0.4 * (9.0 - 8.0)
            + 0.7 * 0.0
            + 0.3 * 7.0
            + 0.0
            + 0.7 * 5.0
            + 0.7 * 1.0
            - 0.4 * 2.0
            - 3.0;
        assert!((game_score - 19.3_f64).abs() < 1e-9);
        assert!((c.game_score - game_score).abs() < 1e-9);
        assert_eq!(c.win_flag, Some(true));
        assert!(!c.is_dnp);
        assert_eq!(c.data_quality, "team_boxscore");
        assert_eq!(s.rows.len(), 134, "134 tracked players on 2025-03-15");
    }

    #[test]
    fn all_real_player_games_reconcile() {
        let r = real();
        let (mut rows, mut team_boxscore, mut player_only, mut usage_null) = (0, 0, 0, 0);
        for d in r.players.dates() {
            let s = players_on(d);
            assert!(s.quarantine.is_empty(), "{d}");
            assert_eq!(
                s.rows.len(),
                r.players.on(d).len(),
                "{d}: one row per player"
            );
            assert!(
                s.rows
                    .windows(2)
                    .all(|w| w[0].player_lookup < w[1].player_lookup)
            );
            for p in &s.rows {
                let source = r
                    .players
                    .on(d)
                    .iter()
                    .find(|x| x.player_id == p.player_id)
                    .unwrap();
                // The result from team scores agrees with the source's W/L.
                assert_eq!(
                    p.win_flag,
                    Some(source.wl.as_deref() == Some("W")),
                    "{d} {}",
                    p.player_name
                );
                if let Some(u) = p.usage_rate {
                    assert!((0.0..=100.0).contains(&u), "{d} {} {u}", p.player_name);
                } else if p.data_quality == "team_boxscore" {
                    usage_null += 1;
                }
                match p.data_quality.as_str() {
                    "team_boxscore" => team_boxscore += 1,
                    _ => player_only += 1,
                }
                rows += 1;
            }
        }
        // 22,124 rows in 2024-25, 2,423 with a game id in 2025-26.
        assert_eq!(rows, 22_124 + 2_423);
        // 2025-26 has one team box score per game: 1,207 players' teams are
        // the side without one.
        assert_eq!(player_only, 1_207);
        assert_eq!(team_boxscore, 22_124 + 1_216);
        // 78 rows with 0 (rounded) minutes, 2 above 100 (Max Christie
        // 2024-11-08 and Dalen Terry 2025-11-02, 1 minute each).
        assert_eq!(usage_null, 80);
    }

    #[test]
    fn lookup_collisions_keep_both_players() {
        let d = date("2025-03-15");
        let r = real();
        let mut rows = r.players.on(d).to_vec();
        let curry_id = rows
            .iter()
            .find(|p| p.player_lookup == "stephencurry")
            .unwrap()
            .player_id;
        let other = rows.iter_mut().find(|p| p.player_id > curry_id).unwrap();
        let other_id = other.player_id;
        other.player_lookup = "stephencurry".to_string();
        let s = summarize_player_games(d, &rows, r.teams.on(d), r.schedule.on(d));
        assert_eq!(s.rows.len(), rows.len(), "nobody dropped");
        assert_eq!(s.counters.get("player_lookup_collisions"), 1);
        let keyed = |lookup: &str| {
            s.rows
                .iter()
                .find(|p| p.player_lookup == lookup)
                .map(|p| p.player_id)
        };
        assert_eq!(
            keyed("stephencurry"),
            Some(curry_id),
            "the lower id keeps the lookup"
        );
        assert_eq!(keyed(&format!("stephencurry{other_id}")), Some(other_id));
    }

    #[test]
    fn same_player_in_two_games_of_a_date_is_quarantined() {
        let d = date("2025-03-15");
        let r = real();
        let mut rows = r.players.on(d).to_vec();
        let mut copy = rows
            .iter()
            .find(|p| p.player_lookup == "stephencurry")
            .unwrap()
            .clone();
        copy.game_id = "0099999999".to_string();
        rows.push(copy);
        let s = summarize_player_games(d, &rows, r.teams.on(d), r.schedule.on(d));
        assert_eq!(s.rows.len(), rows.len() - 1);
        assert_eq!(s.quarantine.len(), 1);
        assert_eq!(
            s.quarantine.entries()[0].record,
            "game_id=0099999999 player_id=201939"
        );
        let c = s
            .rows
            .iter()
            .find(|p| p.player_lookup == "stephencurry")
            .unwrap();
        assert_eq!(c.game_id, "0022400974");
    }

    #[test]
    fn without_team_box_scores_usage_is_null_and_quality_player_only() {
        let d = date("2025-03-15");
        let r = real();
        let s = summarize_player_games(d, r.players.on(d), &[], r.schedule.on(d));
        assert!(
            s.rows
                .iter()
                .all(|p| p.usage_rate.is_none() && p.data_quality == "player_only")
        );
        // The schedule still decides the result.
        let c = s
            .rows
            .iter()
            .find(|p| p.player_lookup == "stephencurry")
            .unwrap();
        assert_eq!(c.win_flag, Some(true));
    }
}
