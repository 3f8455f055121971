//! The 2025-26 `player_points` lines of the props CSV as Phase 2 writes
//! them, in file order.

use crate::{date, records};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use propcast_core::normalize_name_for_lookup;
use propcast_core::tables::PlayerProp;
use std::collections::HashMap;

pub(crate) const NAME: &str = "props_odds_api_2025_26_before_2025-11-10.csv.gz";

/// One tracked player game: (player_lookup, game date, team, player id).
pub(crate) type PlayerGame<'a> = (&'a str, NaiveDate, &'a str, i64);

/// Every `player_points` line; a sportsbook name resolves to the tracked
/// player with that lookup whose latest game on or before the date (of
/// `games`) was for one of the event's teams; other names stay unresolved
/// (`player_id` and `team_abbr` NULL).
pub(crate) fn points_props<'a>(games: impl IntoIterator<Item = PlayerGame<'a>>) -> Vec<PlayerProp> {
    // Team full names (as sportsbooks write them) → tricodes.
    let mut tricodes: HashMap<String, String> =
        records("team_game_logs_2025_26_before_2025-11-10.csv.gz")
            .into_iter()
            .map(|r| (r["TEAM_NAME"].clone(), r["TEAM_ABBREVIATION"].clone()))
            .collect();
    tricodes.insert("Los Angeles Clippers".into(), "LAC".into());
    let mut by_lookup: HashMap<&str, Vec<PlayerGame<'a>>> = HashMap::new();
    for g in games {
        by_lookup.entry(g.0).or_default().push(g);
    }
    let mut out = Vec::new();
    for r in records(NAME)
        .into_iter()
        .filter(|r| r["market"] == "player_points")
    {
        let d = date(&r["game_date_et"]);
        let (away, home) = r["game"].split_once(" @ ").expect("game");
        let (away, home) = (tricodes[away].clone(), tricodes[home].clone());
        let lookup = normalize_name_for_lookup(&r["player"]);
        let resolved = by_lookup
            .get(lookup.as_str())
            .and_then(|gs| gs.iter().filter(|g| g.1 <= d).max_by_key(|g| g.1))
            .filter(|g| g.2 == home || g.2 == away);
        let snapshot = NaiveDateTime::parse_from_str(&r["snapshot_utc"], "%Y%m%d_%H%M%S")
            .unwrap_or_else(|_| panic!("{:?}", r["snapshot_utc"]))
            .and_utc();
        let commence = DateTime::parse_from_rfc3339(&r["game_time"])
            .expect("game_time")
            .with_timezone(&Utc);
        let price = |k: &str| r[k].parse::<f64>().ok().map(|p| p.round() as i64);
        out.push(PlayerProp {
            game_date: d,
            event_id: r["event_id"].clone(),
            snapshot_time: snapshot,
            commence_time: commence,
            minutes_before_tipoff: (commence - snapshot).num_minutes(),
            home_team_abbr: home,
            away_team_abbr: away,
            bookmaker: r["bookmaker"].clone(),
            market: "player_points".to_string(),
            player_name: r["player"].clone(),
            player_lookup: lookup,
            player_id: resolved.map(|g| g.3),
            team_abbr: resolved.map(|g| g.2.to_string()),
            line: r["line"].parse().expect("line"),
            over_price: price("over_odds"),
            under_price: price("under_odds"),
            source_file: NAME.to_string(),
        });
    }
    out
}
