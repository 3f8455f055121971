//! Resolving sportsbook player names to NBA player ids, point in time.
//!
//! A prop on date D names a player as the sportsbook spells it. Its
//! `player_lookup` is matched against players in `nba_raw.player_boxscores`
//! with games strictly before D (never D's own box scores) in D's season,
//! or in the previous season when the name has no game this season. Each
//! candidate's team is its most recent team before D. The name resolves iff
//! exactly one candidate player's team is the event's home or away team.
//!
//! Injury report names resolve by the same rule with the listed team as
//! both sides ([`resolve_injuries`]). Because only games before D count,
//! an upcoming date with no box score of its own resolves against each
//! player's most recent team.

use chrono::NaiveDate;
use propcast_core::Season;
use propcast_core::Table;
use propcast_core::tables::{InjuryReportEntry, PlayerProp, UnresolvedPlayerName};
use propcast_patterns::{ProcessContext, ProcessError, ProcessOutput};
use propcast_platform::WarehouseExt;
use propcast_platform::warehouse::date_literal;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The `source` of unresolved names from the props processor.
pub const SOURCE: &str = "odds_api";

/// The `source` of unresolved names from the injury report processor.
pub const INJURY_SOURCE: &str = "injury_report";

/// One (player, spelling, season, team) seen in box scores before a date,
/// with the last date the player played for that team.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PlayerTeamHistory {
    pub player_id: i64,
    pub player_lookup: String,
    pub season: i64,
    pub team_abbr: String,
    pub last_date: NaiveDate,
}

/// The query for the history a date's props are resolved against: box
/// scores strictly before `date`, in its season and the previous one.
/// Writes a resolving processor's rows of the date and its own `source`'s
/// unresolved names (each source replaces only its names, so props and
/// injury reports never erase each other's), counted in `output`.
pub async fn write_resolved<T: Table>(
    ctx: &ProcessContext,
    rows: &[T],
    source: &str,
    unresolved: &[UnresolvedPlayerName],
    output: &mut ProcessOutput,
) -> Result<(), ProcessError> {
    let date = ctx.game_date;
    ctx.warehouse.replace_rows::<T>(date, &[], rows).await?;
    output.wrote(&T::DEF, rows.len() as u64);
    ctx.warehouse
        .replace_rows::<UnresolvedPlayerName>(date, &[("source", source)], unresolved)
        .await?;
    output.wrote(&UnresolvedPlayerName::DEF, unresolved.len() as u64);
    output
        .counters
        .insert("unresolved_names".to_string(), unresolved.len() as i64);
    Ok(())
}

pub fn history_sql(date: NaiveDate) -> String {
    let season = i64::from(Season::of(date).start_year());
    format!(
        "SELECT player_id, player_lookup, season, team_abbr, MAX(game_date) AS last_date \
         FROM nba_raw.player_boxscores \
         WHERE game_date < {} AND season IN ({}, {}) \
         GROUP BY player_id, player_lookup, season, team_abbr",
        date_literal(date),
        season - 1,
        season
    )
}

/// How a name resolved for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Resolved { player_id: i64, team_abbr: String },
    Unresolved { reason: String },
}

/// Candidate players by lookup, per season, with each player's latest team
/// before the date.
#[derive(Debug, Default)]
pub struct PlayerIndex {
    season: i64,
    /// lookup → season → [(player_id, latest team)], sorted by player id.
    by_lookup: HashMap<String, BTreeMap<i64, Vec<(i64, String)>>>,
}

impl PlayerIndex {
    /// Builds the index for props on `date`. History rows on or after
    /// `date` are ignored (point in time).
    pub fn new(date: NaiveDate, history: &[PlayerTeamHistory]) -> Self {
        let season = i64::from(Season::of(date).start_year());
        // (player, season) → (last date, team) of the latest team.
        let mut latest: HashMap<(i64, i64), (NaiveDate, &str)> = HashMap::new();
        let mut lookups: BTreeSet<(&str, i64, i64)> = BTreeSet::new();
        for h in history.iter().filter(|h| h.last_date < date) {
            if h.season != season && h.season != season - 1 {
                continue;
            }
            let entry = latest
                .entry((h.player_id, h.season))
                .or_insert((h.last_date, &h.team_abbr));
            // Latest date wins; on the same date the larger tricode, so the
            // choice does not depend on row order.
            if (h.last_date, h.team_abbr.as_str()) > *entry {
                *entry = (h.last_date, &h.team_abbr);
            }
            lookups.insert((&h.player_lookup, h.season, h.player_id));
        }
        let mut by_lookup: HashMap<String, BTreeMap<i64, Vec<(i64, String)>>> = HashMap::new();
        for (lookup, s, player_id) in lookups {
            if let Some((_, team)) = latest.get(&(player_id, s)) {
                by_lookup
                    .entry(lookup.to_string())
                    .or_default()
                    .entry(s)
                    .or_default()
                    .push((player_id, (*team).to_string()));
            }
        }
        PlayerIndex { season, by_lookup }
    }

    /// Resolves `lookup` for an event between `home` and `away`.
    pub fn resolve(&self, lookup: &str, home: &str, away: &str) -> Resolution {
        let seasons = self.by_lookup.get(lookup);
        let candidates = seasons
            .and_then(|s| s.get(&self.season))
            .or_else(|| seasons.and_then(|s| s.get(&(self.season - 1))));
        let Some(candidates) = candidates.filter(|c| !c.is_empty()) else {
            return Resolution::Unresolved {
                reason: "no player with this name before this date".to_string(),
            };
        };
        let on_event: Vec<&(i64, String)> = candidates
            .iter()
            .filter(|(_, team)| team == home || team == away)
            .collect();
        match on_event.as_slice() {
            [(player_id, team)] => Resolution::Resolved {
                player_id: *player_id,
                team_abbr: team.clone(),
            },
            [] => Resolution::Unresolved {
                reason: "name matches players on other teams only".to_string(),
            },
            many => Resolution::Unresolved {
                reason: format!("ambiguous: {} players", many.len()),
            },
        }
    }
}

/// Fills `player_id` / `team_abbr` of every prop row whose name resolves,
/// and returns one unresolved-name row per lookup that did not (with the
/// number of prop rows that carried it). Rows are never dropped.
pub fn resolve_props(
    date: NaiveDate,
    rows: &mut [PlayerProp],
    history: &[PlayerTeamHistory],
) -> Vec<UnresolvedPlayerName> {
    let index = PlayerIndex::new(date, history);
    let mut memo: HashMap<(String, String, String), Resolution> = HashMap::new();
    let mut misses = UnresolvedNames::default();
    for row in rows.iter_mut() {
        let key = (
            row.player_lookup.clone(),
            row.home_team_abbr.clone(),
            row.away_team_abbr.clone(),
        );
        let resolution = memo.entry(key).or_insert_with(|| {
            index.resolve(&row.player_lookup, &row.home_team_abbr, &row.away_team_abbr)
        });
        match resolution {
            Resolution::Resolved {
                player_id,
                team_abbr,
            } => {
                row.player_id = Some(*player_id);
                row.team_abbr = Some(team_abbr.clone());
            }
            Resolution::Unresolved { reason } => {
                row.player_id = None;
                row.team_abbr = None;
                misses.add(
                    &row.player_lookup,
                    &row.player_name,
                    format!("{},{}", row.away_team_abbr, row.home_team_abbr),
                    reason,
                );
            }
        }
    }
    misses.into_rows(date, SOURCE)
}

/// Fills `player_id` of every injury report row whose name resolves to a
/// player whose latest team before `date` is the row's team (the props
/// rule with the team known: box scores strictly before the date, so an
/// upcoming date resolves against each player's most recent games), and
/// returns one unresolved-name row per lookup that did not, with source
/// [`INJURY_SOURCE`] and the listed team(s) as candidate teams. Rows are
/// never dropped.
pub fn resolve_injuries(
    date: NaiveDate,
    rows: &mut [InjuryReportEntry],
    history: &[PlayerTeamHistory],
) -> Vec<UnresolvedPlayerName> {
    let index = PlayerIndex::new(date, history);
    let mut memo: HashMap<(String, String), Resolution> = HashMap::new();
    let mut misses = UnresolvedNames::default();
    for row in rows.iter_mut() {
        let key = (row.player_lookup.clone(), row.team_abbr.clone());
        let resolution = memo
            .entry(key)
            .or_insert_with(|| index.resolve(&row.player_lookup, &row.team_abbr, &row.team_abbr));
        match resolution {
            Resolution::Resolved { player_id, .. } => row.player_id = Some(*player_id),
            Resolution::Unresolved { reason } => {
                row.player_id = None;
                misses.add(
                    &row.player_lookup,
                    &row.player_name,
                    row.team_abbr.clone(),
                    reason,
                );
            }
        }
    }
    misses.into_rows(date, INJURY_SOURCE)
}

/// Names that did not resolve, one entry per lookup: the smallest spelling
/// (the same for every run), the teams and reasons seen, and how many rows
/// carried it.
#[derive(Debug, Default)]
struct UnresolvedNames {
    misses: BTreeMap<String, Miss>,
}

#[derive(Debug)]
struct Miss {
    name: String,
    teams: BTreeSet<String>,
    reasons: BTreeSet<String>,
    occurrences: i64,
}

impl UnresolvedNames {
    fn add(&mut self, lookup: &str, name: &str, teams: String, reason: &str) {
        let miss = self
            .misses
            .entry(lookup.to_string())
            .or_insert_with(|| Miss {
                name: name.to_string(),
                teams: BTreeSet::new(),
                reasons: BTreeSet::new(),
                occurrences: 0,
            });
        if name < miss.name.as_str() {
            miss.name = name.to_string();
        }
        miss.teams.insert(teams);
        miss.reasons.insert(reason.to_string());
        miss.occurrences += 1;
    }

    fn into_rows(self, date: NaiveDate, source: &str) -> Vec<UnresolvedPlayerName> {
        self.misses
            .into_iter()
            .map(|(lookup, miss)| UnresolvedPlayerName {
                game_date: date,
                source: source.to_string(),
                player_name: miss.name,
                player_lookup: lookup,
                candidate_teams: miss.teams.into_iter().collect::<Vec<_>>().join(";"),
                occurrences: miss.occurrences,
                reason: miss.reasons.into_iter().collect::<Vec<_>>().join("; "),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        propcast_core::date::parse_game_date(s).unwrap()
    }

    fn h(id: i64, lookup: &str, season: i64, team: &str, last: &str) -> PlayerTeamHistory {
        PlayerTeamHistory {
            player_id: id,
            player_lookup: lookup.to_string(),
            season,
            team_abbr: team.to_string(),
            last_date: d(last),
        }
    }

    #[test]
    fn latest_team_before_the_date_decides() {
        // A player traded from MIA to GSW mid-season.
        let history = [
            h(202710, "jimmybutler", 2024, "MIA", "2025-01-20"),
            h(202710, "jimmybutler", 2024, "GSW", "2025-03-14"),
        ];
        let index = PlayerIndex::new(d("2025-03-15"), &history);
        assert_eq!(
            index.resolve("jimmybutler", "GSW", "NYK"),
            Resolution::Resolved {
                player_id: 202710,
                team_abbr: "GSW".to_string()
            }
        );
        assert_eq!(
            index.resolve("jimmybutler", "MIA", "BOS"),
            Resolution::Unresolved {
                reason: "name matches players on other teams only".to_string()
            }
        );
        // Point in time: on the trade's eve he was still a MIA player.
        let before = PlayerIndex::new(d("2025-02-01"), &history[..1]);
        assert!(matches!(
            before.resolve("jimmybutler", "MIA", "BOS"),
            Resolution::Resolved { .. }
        ));
    }

    #[test]
    fn previous_season_only_when_nothing_this_season() {
        // Kevin Durant: Phoenix in 2024-25, traded to Houston in the summer.
        let history = [
            h(201142, "kevindurant", 2024, "PHX", "2025-03-30"),
            h(201142, "kevindurant", 2025, "HOU", "2025-10-21"),
        ];
        // Opening night: no 2025-26 game yet, so his last team is Phoenix
        // and the Houston event does not resolve him.
        let opener = PlayerIndex::new(d("2025-10-21"), &history);
        assert_eq!(
            opener.resolve("kevindurant", "OKC", "HOU"),
            Resolution::Unresolved {
                reason: "name matches players on other teams only".to_string()
            }
        );
        assert!(matches!(
            opener.resolve("kevindurant", "PHX", "SAC"),
            Resolution::Resolved {
                player_id: 201142,
                ..
            }
        ));
        // After his first Houston game, this season's team decides.
        let later = PlayerIndex::new(d("2025-10-24"), &history);
        assert!(matches!(
            later.resolve("kevindurant", "HOU", "DET"),
            Resolution::Resolved {
                player_id: 201142,
                ..
            }
        ));
        assert!(matches!(
            later.resolve("kevindurant", "PHX", "SAC"),
            Resolution::Unresolved { .. }
        ));
        assert_eq!(
            later.resolve("nobody", "HOU", "DET"),
            Resolution::Unresolved {
                reason: "no player with this name before this date".to_string()
            }
        );
    }

    #[test]
    fn two_players_one_name_on_the_event_is_ambiguous() {
        let history = [
            h(1, "jalenwilliams", 2024, "OKC", "2025-03-10"),
            h(2, "jalenwilliams", 2024, "DEN", "2025-03-10"),
        ];
        let index = PlayerIndex::new(d("2025-03-15"), &history);
        assert_eq!(
            index.resolve("jalenwilliams", "OKC", "DEN"),
            Resolution::Unresolved {
                reason: "ambiguous: 2 players".to_string()
            }
        );
        assert!(matches!(
            index.resolve("jalenwilliams", "OKC", "BOS"),
            Resolution::Resolved { player_id: 1, .. }
        ));
    }

    #[test]
    fn rows_on_or_after_the_date_are_ignored() {
        // Stephen Curry's 2025-03-15 game is not history on 2025-03-15.
        let history = [h(201939, "stephencurry", 2024, "GSW", "2025-03-15")];
        let index = PlayerIndex::new(d("2025-03-15"), &history);
        assert!(matches!(
            index.resolve("stephencurry", "GSW", "NYK"),
            Resolution::Unresolved { .. }
        ));
    }

    fn injury(name: &str, team: &str) -> InjuryReportEntry {
        InjuryReportEntry {
            game_date: d("2025-11-12"),
            source: "nba_official".to_string(),
            report_time: "2025-11-12T22:00:00Z".parse().unwrap(),
            player_name: name.to_string(),
            player_lookup: propcast_core::normalize_name_for_lookup(
                &crate::injury_report::first_last(name),
            ),
            player_id: None,
            team_abbr: team.to_string(),
            status: "out".to_string(),
            reason: String::new(),
            matchup: None,
            source_file: "r.pdf".to_string(),
        }
    }

    #[test]
    fn injuries_resolve_against_the_latest_team_before_an_upcoming_date() {
        // 2025-11-12 has no box score yet: each player's most recent team
        // before it decides.
        let history = [
            h(1628983, "shaigilgeousalexander", 2025, "OKC", "2025-11-09"),
            h(202710, "jimmybutler", 2025, "GSW", "2025-11-08"),
            h(202710, "jimmybutler", 2024, "MIA", "2025-01-20"),
        ];
        let mut rows = [
            injury("Gilgeous-Alexander, Shai", "OKC"),
            injury("Butler III, Jimmy", "GSW"),
            injury("Butler III, Jimmy", "MIA"),
            injury("Nobody, Some", "BOS"),
        ];
        let unresolved = resolve_injuries(d("2025-11-12"), &mut rows, &history);
        assert_eq!(rows[0].player_id, Some(1628983));
        // "Butler III" is not "Butler": III is not a suffix the lookup
        // folds, so the name stays unresolved rather than guessed.
        assert_eq!(rows[1].player_id, None);
        assert_eq!(rows[2].player_id, None);
        assert_eq!(rows[3].player_id, None);
        assert_eq!(
            unresolved
                .iter()
                .map(|u| (
                    u.source.as_str(),
                    u.player_lookup.as_str(),
                    u.candidate_teams.as_str(),
                    u.occurrences
                ))
                .collect::<Vec<_>>(),
            [
                ("injury_report", "jimmybutleriii", "GSW;MIA", 2),
                ("injury_report", "somenobody", "BOS", 1),
            ]
        );
        // Listed with his old team: not resolved to the player now on GSW.
        let mut traded = [
            injury("Butler, Jimmy", "MIA"),
            injury("Butler, Jimmy", "GSW"),
        ];
        resolve_injuries(d("2025-11-12"), &mut traded, &history);
        assert_eq!(
            (traded[0].player_id, traded[1].player_id),
            (None, Some(202710))
        );
    }

    #[test]
    fn history_sql_is_strictly_before_the_date() {
        let sql = history_sql(d("2025-11-01"));
        assert!(sql.contains("game_date < DATE '2025-11-01'"), "{sql}");
        assert!(sql.contains("season IN (2024, 2025)"), "{sql}");
    }
}
