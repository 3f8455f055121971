//! Each player's games of D's season strictly before D, cut from game rows
//! read once for a whole range of dates: the one rule behind the player
//! histories of `upcoming_player_game_context` and `player_daily_cache`,
//! by date and by range alike.

use crate::date::{GameDate, Season};
use std::collections::BTreeMap;

/// A game row of one player: who, when, and which game (the order of two
/// games on one date, which `player_game_summary` never holds).
pub trait PlayerGame {
    fn player_id(&self) -> i64;
    fn game_date(&self) -> GameDate;
    fn game_id(&self) -> &str;
}

/// Game rows of any dates, by player, oldest first.
#[derive(Debug, Clone)]
pub struct SeasonGames<G>(BTreeMap<i64, Vec<G>>);

impl<G> Default for SeasonGames<G> {
    fn default() -> Self {
        SeasonGames(BTreeMap::new())
    }
}

impl<G: PlayerGame> SeasonGames<G> {
    pub fn new(games: impl IntoIterator<Item = G>) -> SeasonGames<G> {
        let mut by_player: BTreeMap<i64, Vec<G>> = BTreeMap::new();
        for g in games {
            by_player.entry(g.player_id()).or_default().push(g);
        }
        for games in by_player.values_mut() {
            games.sort_by(|a, b| (a.game_date(), a.game_id()).cmp(&(b.game_date(), b.game_id())));
        }
        SeasonGames(by_player)
    }

    /// Every player with a game of `date`'s season before `date`, with those
    /// games oldest first (never empty), by player id.
    pub fn before(&self, date: GameDate) -> impl Iterator<Item = (i64, &[G])> {
        let first = Season::of(date).first_day();
        self.0.iter().filter_map(move |(&id, games)| {
            let from = games.partition_point(|g| g.game_date() < first);
            let to = games.partition_point(|g| g.game_date() < date);
            (to > from).then(|| (id, &games[from..to]))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct G(i64, &'static str, &'static str);

    impl PlayerGame for G {
        fn player_id(&self) -> i64 {
            self.0
        }
        fn game_date(&self) -> GameDate {
            self.1.parse().unwrap()
        }
        fn game_id(&self) -> &str {
            self.2
        }
    }

    fn cut(games: &SeasonGames<G>, date: &str) -> Vec<(i64, Vec<&'static str>)> {
        games
            .before(date.parse().unwrap())
            .map(|(id, gs)| (id, gs.iter().map(|g| g.1).collect()))
            .collect()
    }

    #[test]
    fn only_the_season_of_the_date_and_strictly_before_it() {
        let games = SeasonGames::new([
            G(2, "2025-11-02", "b"),
            G(1, "2025-04-13", "a0"),
            G(1, "2025-10-22", "a1"),
            G(1, "2025-10-24", "a2"),
            G(2, "2025-10-24", "b0"),
        ]);
        assert_eq!(
            cut(&games, "2025-10-24"),
            vec![(1, vec!["2025-10-22"])],
            "the previous season and the date itself are left out"
        );
        assert_eq!(
            cut(&games, "2025-11-03"),
            vec![
                (1, vec!["2025-10-22", "2025-10-24"]),
                (2, vec!["2025-10-24", "2025-11-02"])
            ]
        );
        assert_eq!(cut(&games, "2025-04-14"), vec![(1, vec!["2025-04-13"])]);
        assert!(
            cut(&games, "2025-08-01").is_empty(),
            "a new season starts empty"
        );
    }
}
