//! The opponent rule of incremental runs: a team's rows, and its players',
//! depend on both sides of its game (possessions, the opponent's numbers,
//! the win flag), so a change to one team's box score reaches the other
//! side too. The rule is pure; each phase reads the date's games itself.

use std::collections::BTreeSet;

/// `entities` plus the opponent of every team among them, given the date's
/// games as (side, side) pairs in either order: (home, away) from the
/// schedule, (team, opponent) from the team box scores. A name on no side
/// of a game (a player's lookup, a team without a game) brings nothing; an
/// empty side is no opponent. Only the teams of `entities` bring their
/// opponents: an opponent added here does not bring its own.
pub fn with_opponents<'a>(
    mut entities: BTreeSet<String>,
    games: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> BTreeSet<String> {
    let opponents: Vec<&str> = games
        .into_iter()
        .flat_map(|(a, b)| [(a, b), (b, a)])
        .filter(|(team, opponent)| entities.contains(*team) && !opponent.is_empty())
        .map(|(_, opponent)| opponent)
        .collect();
    entities.extend(opponents.into_iter().map(str::to_string));
    entities
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    /// 2025-11-05: OKC at LAC on the schedule, a BOS box score naming WAS.
    const GAMES: [(&str, &str); 2] = [("LAC", "OKC"), ("BOS", "WAS")];

    #[test]
    fn a_team_brings_its_opponent_from_either_side() {
        assert_eq!(with_opponents(set(&["OKC"]), GAMES), set(&["LAC", "OKC"]));
        assert_eq!(with_opponents(set(&["LAC"]), GAMES), set(&["LAC", "OKC"]));
        assert_eq!(
            with_opponents(set(&["BOS", "shaigilgeousalexander"]), GAMES),
            set(&["BOS", "WAS", "shaigilgeousalexander"])
        );
    }

    #[test]
    fn a_player_or_an_unknown_team_brings_nothing() {
        assert_eq!(
            with_opponents(set(&["shaigilgeousalexander"]), GAMES),
            set(&["shaigilgeousalexander"])
        );
        assert_eq!(with_opponents(set(&["NYK"]), GAMES), set(&["NYK"]));
        assert_eq!(with_opponents(set(&[]), GAMES), set(&[]));
    }

    #[test]
    fn an_opponent_does_not_bring_its_own_and_an_empty_side_is_none() {
        // WAS is brought by BOS; WAS's other game (a duplicate row) does not
        // chain on to CHA.
        let games = [("BOS", "WAS"), ("WAS", "CHA"), ("MIA", "")];
        assert_eq!(with_opponents(set(&["BOS"]), games), set(&["BOS", "WAS"]));
        assert_eq!(with_opponents(set(&["MIA"]), games), set(&["MIA"]));
    }
}
