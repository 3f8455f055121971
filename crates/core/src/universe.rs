//! Who is expected to play on a date D, and against whom: the schedule's
//! fixtures and the player universe, one rule for the upcoming player
//! context and the player daily cache.
//!
//! **Fixtures** ([`fixtures`]). The schedule rows of D, any game status, in
//! game code order. A row is consistent ([`is_consistent`]) when both sides
//! are named and different; an inconsistent row cannot say who plays whom
//! (four known rows name the same team twice: 0012400007 TOR/TOR,
//! 0022401229 MIL/MIL, 0022400621 IND/IND, 0022500147 DET/DET) and is
//! skipped. A team listed in two consistent games keeps the first by game
//! code. Upcoming games (`game_status` 1) have no NBA game id yet: the game
//! code ("20251110/LALCHA") stands in ([`Fixture::game_id`]).
//!
//! **Universe** ([`universe`]). (a) Every player whose most recent game this
//! season before D was for a team with a fixture on D, plus (b) every player
//! with a resolved `player_points` row on D snapshotted before tip-off
//! ([`is_universe_prop`]), even with no games yet, when the prop's team has
//! a fixture on D. The prop's team wins over the last game's team when it
//! plays on D (a traded player); a traded player with no prop whose old team
//! also plays on D keeps the old team: nothing before tip-off says otherwise.
//! A player with several prop identities takes the smallest (team, lookup,
//! name). A player known from his games keeps the lookup and name of his
//! last game. Members are keyed by `player_lookup`: in player id order, an
//! empty lookup or one already taken gets the player id appended.

use crate::prop_lines::PLAYER_POINTS_MARKET;
use crate::tables::{PlayerProp, ScheduleGame};
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// A schedule row whose two sides are named and different.
pub fn is_consistent(game: &ScheduleGame) -> bool {
    !game.home_team_abbr.is_empty()
        && !game.away_team_abbr.is_empty()
        && game.home_team_abbr != game.away_team_abbr
}

/// One team's game on the date.
#[derive(Debug, Clone, Copy)]
pub struct Fixture<'a> {
    pub game: &'a ScheduleGame,
    pub is_home: bool,
}

impl<'a> Fixture<'a> {
    pub fn team(&self) -> &'a str {
        if self.is_home {
            &self.game.home_team_abbr
        } else {
            &self.game.away_team_abbr
        }
    }

    pub fn opponent(&self) -> &'a str {
        if self.is_home {
            &self.game.away_team_abbr
        } else {
            &self.game.home_team_abbr
        }
    }

    /// The schedule's game id, or the game code while the id is not known.
    pub fn game_id(&self) -> String {
        match self.game.game_id.as_deref() {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => self.game.game_code.clone(),
        }
    }
}

/// The fixtures of a date, with what was left out.
#[derive(Debug, Clone, Default)]
pub struct Fixtures<'a> {
    /// Each team playing on the date, with its game.
    pub by_team: BTreeMap<&'a str, Fixture<'a>>,
    /// Schedule rows skipped as inconsistent, in game code order.
    pub inconsistent: Vec<&'a ScheduleGame>,
    /// Second games of a team already given one (each skipped).
    pub teams_with_two_games: usize,
}

/// The teams playing on `date` per `schedule` (rows of other dates are
/// ignored), each with its game (see module docs).
pub fn fixtures(date: NaiveDate, schedule: &[ScheduleGame]) -> Fixtures<'_> {
    let mut games: Vec<&ScheduleGame> = schedule.iter().filter(|g| g.game_date == date).collect();
    games.sort_by(|a, b| a.game_code.cmp(&b.game_code));
    let mut out = Fixtures::default();
    for game in games {
        if !is_consistent(game) {
            out.inconsistent.push(game);
            continue;
        }
        for is_home in [true, false] {
            let fixture = Fixture { game, is_home };
            if out.by_team.contains_key(fixture.team()) {
                out.teams_with_two_games += 1;
                continue;
            }
            out.by_team.insert(fixture.team(), fixture);
        }
    }
    out
}

/// Whether a prop row puts its player in the universe of `date`: a resolved
/// `player_points` row of that date snapshotted before tip-off by its
/// `minutes_before_tipoff` (SQL: `game_date = D AND market =
/// 'player_points' AND player_id IS NOT NULL AND minutes_before_tipoff >=
/// 0`).
pub fn is_universe_prop(prop: &PlayerProp, date: NaiveDate) -> bool {
    prop.game_date == date
        && prop.market == PLAYER_POINTS_MARKET
        && prop.player_id.is_some()
        && prop.minutes_before_tipoff >= 0
}

/// A player with a resolved points line on the date, as the prop names him.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub struct PropPlayer {
    pub player_id: i64,
    pub team_abbr: Option<String>,
    pub player_lookup: String,
    pub player_name: String,
}

impl PropPlayer {
    /// The resolved player of a prop row (`None` when unresolved).
    pub fn of(prop: &PlayerProp) -> Option<PropPlayer> {
        Some(PropPlayer {
            player_id: prop.player_id?,
            team_abbr: prop.team_abbr.clone(),
            player_lookup: prop.player_lookup.clone(),
            player_name: prop.player_name.clone(),
        })
    }
}

/// What the universe needs of a player's season before the date: the
/// identity and team of his most recent game.
pub trait LastTeamGame {
    fn team_abbr(&self) -> &str;
    fn player_lookup(&self) -> &str;
    fn player_name(&self) -> &str;
}

/// Why a player is in the universe (`universe_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniverseSource {
    /// His last game was for a team playing on the date; no points line.
    LastTeamGame,
    /// Only by a points line.
    PropLine,
    /// By both.
    Both,
}

impl UniverseSource {
    pub fn as_str(self) -> &'static str {
        match self {
            UniverseSource::LastTeamGame => "last_team_game",
            UniverseSource::PropLine => "prop_line",
            UniverseSource::Both => "both",
        }
    }
}

/// A player of the universe.
#[derive(Debug, Clone)]
pub struct Member<'a, S> {
    pub player_id: i64,
    /// Unique among the members (see module docs).
    pub player_lookup: String,
    pub player_name: String,
    pub team_abbr: String,
    pub fixture: Fixture<'a>,
    /// His season before the date, when he has games.
    pub season: Option<&'a S>,
    pub source: UniverseSource,
}

/// The universe of a date, with how it was made.
#[derive(Debug, Clone)]
pub struct Universe<'a, S> {
    /// In player id order.
    pub members: Vec<Member<'a, S>>,
    /// Players in by their last game's team (part (a)).
    pub from_schedule: usize,
    /// Players in by a points line alone.
    pub from_props_only: usize,
    /// Players of part (a) moved to their prop's team.
    pub prop_team_overrides: usize,
    /// Prop players whose team has no fixture and who are not in by (a).
    pub props_without_game: Vec<PropPlayer>,
    /// (player id, lookup) of members whose lookup was empty or taken.
    pub lookup_collisions: Vec<(i64, String)>,
}

impl<S> Universe<'_, S> {
    /// How the universe was built, as the counters a processor records in
    /// run history (names stable; a zero count is simply not recorded).
    pub fn counts(&self) -> [(&'static str, i64); 5] {
        [
            ("universe_from_schedule", self.from_schedule as i64),
            ("universe_from_props_only", self.from_props_only as i64),
            (
                "prop_team_overrides_last_team",
                self.prop_team_overrides as i64,
            ),
            (
                "prop_players_without_game",
                self.props_without_game.len() as i64,
            ),
            (
                "player_lookup_collisions",
                self.lookup_collisions.len() as i64,
            ),
        ]
    }

    /// Logs what an operator should see about the universe of `date`: a
    /// points line for a player whose team has no game, a lookup collision.
    pub fn warn_anomalies(&self, date: NaiveDate) {
        for prop in &self.props_without_game {
            tracing::warn!(game_date = %date, player_id = prop.player_id, team = ?prop.team_abbr, "points line for a player whose team has no game on the date");
        }
        for (player_id, lookup) in &self.lookup_collisions {
            tracing::warn!(game_date = %date, player_lookup = %lookup, player_id, "player_lookup collision; keyed by lookup and id");
        }
    }
}

/// The universe of the date of `fixtures` (see module docs). `seasons`
/// holds candidate players' seasons before the date (others are ignored);
/// `props` the resolved prop players of the date ([`is_universe_prop`]).
pub fn universe<'a, S: LastTeamGame>(
    fixtures: &Fixtures<'a>,
    seasons: &'a BTreeMap<i64, S>,
    props: impl IntoIterator<Item = PropPlayer>,
) -> Universe<'a, S> {
    struct Candidate<'a, S> {
        team_abbr: String,
        player_lookup: String,
        player_name: String,
        season: Option<&'a S>,
        from_last_game: bool,
        has_prop: bool,
    }
    let plays = |team: &str| fixtures.by_team.contains_key(team);

    // (a) players whose last game was for a team playing on the date.
    let mut candidates: BTreeMap<i64, Candidate<'a, S>> = seasons
        .iter()
        .filter(|(_, s)| plays(s.team_abbr()))
        .map(|(&id, s)| {
            let candidate = Candidate {
                team_abbr: s.team_abbr().to_string(),
                player_lookup: s.player_lookup().to_string(),
                player_name: s.player_name().to_string(),
                season: Some(s),
                from_last_game: true,
                has_prop: false,
            };
            (id, candidate)
        })
        .collect();
    let from_schedule = candidates.len();
    let mut from_props_only = 0;
    let mut prop_team_overrides = 0;
    let mut props_without_game = Vec::new();

    // (b) players with a points line; one identity per player id.
    let props: BTreeSet<PropPlayer> = props.into_iter().collect();
    let mut seen: BTreeSet<i64> = BTreeSet::new();
    for prop in props {
        if !seen.insert(prop.player_id) {
            continue;
        }
        let prop_team = prop.team_abbr.as_deref().filter(|t| plays(t));
        match (candidates.get_mut(&prop.player_id), prop_team) {
            (Some(c), team) => {
                c.has_prop = true;
                if let Some(team) = team
                    && c.team_abbr != team
                {
                    prop_team_overrides += 1;
                    c.team_abbr = team.to_string();
                }
            }
            (None, Some(team)) => {
                // Keyed like the player's games when he has any.
                let season = seasons.get(&prop.player_id);
                from_props_only += 1;
                let candidate = Candidate {
                    team_abbr: team.to_string(),
                    player_lookup: season
                        .map_or_else(|| prop.player_lookup.clone(), |s| s.player_lookup().into()),
                    player_name: season
                        .map_or_else(|| prop.player_name.clone(), |s| s.player_name().into()),
                    season,
                    from_last_game: false,
                    has_prop: true,
                };
                candidates.insert(prop.player_id, candidate);
            }
            (None, None) => props_without_game.push(prop),
        }
    }

    // Keys: the lowest id keeps a lookup, later ids get theirs appended.
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut lookup_collisions = Vec::new();
    let mut members = Vec::with_capacity(candidates.len());
    for (player_id, c) in candidates {
        let Some(&fixture) = fixtures.by_team.get(c.team_abbr.as_str()) else {
            continue;
        };
        let mut lookup = c.player_lookup;
        if lookup.is_empty() || taken.contains(&lookup) {
            lookup_collisions.push((player_id, lookup.clone()));
            lookup = format!("{lookup}{player_id}");
        }
        taken.insert(lookup.clone());
        members.push(Member {
            player_id,
            player_lookup: lookup,
            player_name: c.player_name,
            team_abbr: c.team_abbr,
            fixture,
            season: c.season,
            source: match (c.from_last_game, c.has_prop) {
                (true, true) => UniverseSource::Both,
                (true, false) => UniverseSource::LastTeamGame,
                _ => UniverseSource::PropLine,
            },
        });
    }
    Universe {
        members,
        from_schedule,
        from_props_only,
        prop_team_overrides,
        props_without_game,
        lookup_collisions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// A final game of 2025-02-10 with the real game ids of that night.
    fn game(id: &str, away: &str, home: &str) -> ScheduleGame {
        ScheduleGame {
            game_date: date("2025-02-10"),
            game_id: Some(id.into()),
            game_code: format!("20250210/{away}{home}"),
            season: 2024,
            season_type: "Regular Season".into(),
            game_status: 3,
            home_team_abbr: home.into(),
            away_team_abbr: away.into(),
            home_team_id: 0,
            away_team_id: 0,
            home_score: None,
            away_score: None,
            tipoff_time: None,
            arena_name: None,
            source_file: "test".into(),
        }
    }

    fn schedule() -> Vec<ScheduleGame> {
        vec![
            game("0022400768", "UTA", "LAL"),
            game("0022400767", "SAC", "DAL"),
        ]
    }

    struct Season {
        team: &'static str,
        lookup: &'static str,
    }

    impl LastTeamGame for Season {
        fn team_abbr(&self) -> &str {
            self.team
        }
        fn player_lookup(&self) -> &str {
            self.lookup
        }
        fn player_name(&self) -> &str {
            self.lookup
        }
    }

    fn prop(id: i64, team: &str, lookup: &str) -> PropPlayer {
        PropPlayer {
            player_id: id,
            team_abbr: Some(team.into()),
            player_lookup: lookup.into(),
            player_name: lookup.into(),
        }
    }

    #[test]
    fn a_row_naming_one_team_twice_or_an_empty_team_is_inconsistent() {
        assert!(is_consistent(&game("0022400768", "UTA", "LAL")));
        assert!(!is_consistent(&game("0022401229", "MIL", "MIL")));
        assert!(!is_consistent(&game("x", "", "LAL")));
        assert!(!is_consistent(&game("x", "UTA", "")));
        let mut rows = schedule();
        rows.push(game("0022400621", "IND", "IND"));
        rows.push(game("x", "", "BOS"));
        let f = fixtures(date("2025-02-10"), &rows);
        assert_eq!(f.inconsistent.len(), 2);
        let teams: Vec<&str> = f.by_team.keys().copied().collect();
        assert_eq!(teams, ["DAL", "LAL", "SAC", "UTA"]);
        // Another date's rows are not fixtures.
        assert!(fixtures(date("2025-02-11"), &rows).by_team.is_empty());
    }

    #[test]
    fn fixtures_know_home_away_opponent_and_game_id() {
        let mut rows = schedule();
        // A second game for LAL (by game code after UTA@LAL) is skipped.
        rows.push(game("0022400999", "ZZZ", "LAL"));
        rows[1].game_id = None;
        let f = fixtures(date("2025-02-10"), &rows);
        let lal = f.by_team["LAL"];
        assert_eq!(
            (lal.is_home, lal.team(), lal.opponent()),
            (true, "LAL", "UTA")
        );
        assert_eq!(lal.game_id(), "0022400768");
        let sac = f.by_team["SAC"];
        assert_eq!((sac.is_home, sac.opponent()), (false, "DAL"));
        assert_eq!(sac.game_id(), "20250210/SACDAL", "the game code stands in");
        assert_eq!(f.teams_with_two_games, 1);
        assert_eq!(f.by_team["ZZZ"].opponent(), "LAL");
    }

    #[test]
    fn universe_is_last_team_players_plus_prop_players() {
        let rows = schedule();
        let f = fixtures(date("2025-02-10"), &rows);
        let seasons = BTreeMap::from([
            // Luka Doncic: last game for DAL, first for LAL that night.
            (
                1629029,
                Season {
                    team: "DAL",
                    lookup: "lukadoncic",
                },
            ),
            (
                2,
                Season {
                    team: "BOS",
                    lookup: "bostonplayer",
                },
            ),
            (
                3,
                Season {
                    team: "SAC",
                    lookup: "sacplayer",
                },
            ),
            (
                4,
                Season {
                    team: "UTA",
                    lookup: "sacplayer",
                },
            ),
        ]);
        let props = [
            prop(1629029, "LAL", "lukadoncic"),
            prop(1629029, "ZZZ", "lukadoncic"),
            prop(5, "UTA", "rookie"),
            prop(6, "NYK", "knick"),
            prop(3, "NYK", "sacplayer"),
        ];
        let u = universe(&f, &seasons, props);
        let got: Vec<(i64, &str, &str, &str)> = u
            .members
            .iter()
            .map(|m| {
                (
                    m.player_id,
                    m.team_abbr.as_str(),
                    m.player_lookup.as_str(),
                    m.source.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (3, "SAC", "sacplayer", "both"),
                (4, "UTA", "sacplayer4", "last_team_game"),
                (5, "UTA", "rookie", "prop_line"),
                (1629029, "LAL", "lukadoncic", "both"),
            ]
        );
        let luka = &u.members[3];
        assert_eq!(
            (luka.fixture.opponent(), luka.fixture.is_home),
            ("UTA", true)
        );
        assert!(u.members[2].season.is_none());
        assert_eq!(
            (u.from_schedule, u.from_props_only, u.prop_team_overrides),
            (3, 1, 1)
        );
        assert_eq!(u.props_without_game, [prop(6, "NYK", "knick")]);
        assert_eq!(u.lookup_collisions, [(4, "sacplayer".to_string())]);
        // Without the prop Luka stays with DAL.
        let u = universe(&f, &seasons, []);
        let luka = u.members.iter().find(|m| m.player_id == 1629029).unwrap();
        assert_eq!(luka.team_abbr, "DAL");
    }

    #[test]
    fn universe_props_are_resolved_pre_tip_points_rows_of_the_date() {
        let d = date("2025-02-10");
        let row = PlayerProp {
            game_date: d,
            event_id: "e".into(),
            snapshot_time: chrono::DateTime::UNIX_EPOCH,
            commence_time: chrono::DateTime::UNIX_EPOCH,
            minutes_before_tipoff: 0,
            home_team_abbr: "LAL".into(),
            away_team_abbr: "UTA".into(),
            bookmaker: "draftkings".into(),
            market: PLAYER_POINTS_MARKET.into(),
            player_name: "Luka Doncic".into(),
            player_lookup: "lukadoncic".into(),
            player_id: Some(1629029),
            team_abbr: Some("LAL".into()),
            line: 28.5,
            over_price: None,
            under_price: None,
            source_file: "test".into(),
        };
        assert!(is_universe_prop(&row, d));
        assert!(!is_universe_prop(&row, date("2025-02-11")));
        let in_game = PlayerProp {
            minutes_before_tipoff: -1,
            ..row.clone()
        };
        let unresolved = PlayerProp {
            player_id: None,
            ..row.clone()
        };
        let assists = PlayerProp {
            market: "player_assists".into(),
            ..row.clone()
        };
        for r in [&in_game, &unresolved, &assists] {
            assert!(!is_universe_prop(r, d));
        }
        assert_eq!(PropPlayer::of(&unresolved), None);
        assert_eq!(
            PropPlayer::of(&row),
            Some(PropPlayer {
                player_name: "Luka Doncic".into(),
                ..prop(1629029, "LAL", "lukadoncic")
            })
        );
    }
}
