//! Box-score rates shared by the team and player summaries: possessions,
//! pace, ratings, shooting efficiency, usage and game score.
//!
//! Every function is total: a rate whose denominator is zero is `None`,
//! never NaN or infinity.

use propcast_core::tables::{PlayerBoxscore, TeamBoxscore};

/// Minutes in a regulation game.
pub const REGULATION_MINUTES: f64 = 48.0;
/// Minutes in one overtime period.
pub const OVERTIME_MINUTES: f64 = 5.0;

/// The nominal length of a game in minutes (48, 53, 58, …), from one team's
/// minutes played (the sum of its players' minutes: 240 in regulation, +25
/// per overtime).
///
/// The stats source rounds every player's minutes, so team minutes carry
/// noise: in 2024-25 regulation games they range 237–243 (only 1,110 of 2,640
/// team rows say 240) and one-overtime games 263–267. Dividing the raw value
/// by five would move pace and usage by up to 1.3 %, so the value is snapped
/// to the nearest whole number of overtime periods. Non-standard games
/// shorter than 40 team-minutes per player slot (All-Star weekend formats,
/// team minutes 39–73) have no periods to snap to and keep `minutes / 5`.
pub fn game_minutes(team_minutes: f64) -> Option<f64> {
    if !team_minutes.is_finite() || team_minutes <= 0.0 {
        return None;
    }
    let per_slot = team_minutes / 5.0;
    if per_slot < 40.0 {
        return Some(per_slot);
    }
    let overtimes = ((per_slot - REGULATION_MINUTES) / OVERTIME_MINUTES)
        .round()
        .max(0.0);
    Some(REGULATION_MINUTES + OVERTIME_MINUTES * overtimes)
}

/// One team's half of Oliver's possession estimate:
/// FGA + 0.4·FTA − 1.07·ORB/(ORB + OppDRB)·(FGA − FGM) + TOV.
pub fn oliver_possession_term(team: &TeamBoxscore, opponent_dreb: i64) -> f64 {
    let rebound_chances = team.oreb + opponent_dreb;
    let oreb_rate = if rebound_chances > 0 {
        team.oreb as f64 / rebound_chances as f64
    } else {
        0.0
    };
    team.fga as f64 + 0.4 * team.fta as f64 - 1.07 * oreb_rate * (team.fga - team.fgm) as f64
        + team.tov as f64
}

/// Oliver possessions of a game, averaged over both teams (the same number
/// for both sides).
pub fn oliver_possessions(a: &TeamBoxscore, b: &TeamBoxscore) -> f64 {
    0.5 * (oliver_possession_term(a, b.dreb) + oliver_possession_term(b, a.dreb))
}

/// Possessions from one team's box score alone, for games where the
/// opponent's box score is missing: the standard basic estimate
/// FGA + 0.44·FTA − ORB + TOV (Kubatko, Oliver, Pelton & Rosenbaum 2007).
/// Oliver's formula needs the opponent's defensive rebounds; this one
/// charges every offensive rebound as a continued possession instead.
pub fn single_team_possessions(team: &TeamBoxscore) -> f64 {
    team.fga as f64 + 0.44 * team.fta as f64 - team.oreb as f64 + team.tov as f64
}

/// Possessions per 48 minutes.
pub fn pace(possessions: f64, game_minutes: f64) -> Option<f64> {
    (possessions > 0.0 && game_minutes > 0.0)
        .then(|| possessions * REGULATION_MINUTES / game_minutes)
}

/// Points per 100 possessions (offensive or defensive rating).
pub fn rating(points: i64, possessions: f64) -> Option<f64> {
    (possessions > 0.0).then(|| 100.0 * points as f64 / possessions)
}

/// (FGM + 0.5·3PM) / FGA; `None` without field-goal attempts.
pub fn effective_fg_pct(fgm: i64, fg3m: i64, fga: i64) -> Option<f64> {
    (fga > 0).then(|| (fgm as f64 + 0.5 * fg3m as f64) / fga as f64)
}

/// PTS / (2·(FGA + 0.44·FTA)); `None` without attempts.
pub fn true_shooting_pct(points: i64, fga: i64, fta: i64) -> Option<f64> {
    let attempts = fga as f64 + 0.44 * fta as f64;
    (attempts > 0.0).then(|| points as f64 / (2.0 * attempts))
}

/// Usage rate: the share of the team's plays a player used while on the
/// floor, 100·(FGA + 0.44·FTA + TOV)·(team minutes / 5) / (MIN·(TmFGA +
/// 0.44·TmFTA + TmTOV)).
///
/// The reference system writes `·48` for `team minutes / 5`, which assumes a
/// regulation game; using the game's length (see [`game_minutes`]) keeps
/// overtime games right and equals the reference in regulation. `None`
/// without minutes, without team plays, or above 100 (rounded minutes of a
/// very short stint can push the ratio over the possible range).
pub fn usage_rate(player: &PlayerBoxscore, team: &TeamBoxscore) -> Option<f64> {
    let length = game_minutes(team.minutes)?;
    let player_plays = player.fga as f64 + 0.44 * player.fta as f64 + player.tov as f64;
    let team_plays = team.fga as f64 + 0.44 * team.fta as f64 + team.tov as f64;
    if player.minutes <= 0.0 || team_plays <= 0.0 {
        return None;
    }
    let usage = 100.0 * player_plays * length / (player.minutes * team_plays);
    (usage.is_finite() && usage <= 100.0).then_some(usage)
}

/// Hollinger's game score: PTS + 0.4·FGM − 0.7·FGA − 0.4·(FTA − FTM) +
/// 0.7·OREB + 0.3·DREB + STL + 0.7·AST + 0.7·BLK − 0.4·PF − TOV.
pub fn game_score(p: &PlayerBoxscore) -> f64 {
    p.pts as f64 + 0.4 * p.fgm as f64 - 0.7 * p.fga as f64 - 0.4 * (p.fta - p.ftm) as f64
        + 0.7 * p.oreb as f64
        + 0.3 * p.dreb as f64
        + p.stl as f64
        + 0.7 * p.ast as f64
        + 0.7 * p.blk as f64
        - 0.4 * p.pf as f64
        - p.tov as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn game_minutes_snap_to_periods() {
        assert_eq!(game_minutes(240.0), Some(48.0));
        assert_eq!(game_minutes(237.0), Some(48.0));
        assert_eq!(game_minutes(243.0), Some(48.0));
        assert_eq!(game_minutes(263.0), Some(53.0));
        assert_eq!(game_minutes(267.0), Some(53.0));
        assert_eq!(game_minutes(289.0), Some(58.0));
        assert_eq!(game_minutes(292.0), Some(58.0));
        // All-Star weekend mini-games keep their own length.
        assert_eq!(game_minutes(40.0), Some(8.0));
        assert_eq!(game_minutes(0.0), None);
        assert_eq!(game_minutes(f64::NAN), None);
    }

    #[test]
    fn rates_without_attempts_are_null() {
        assert_eq!(effective_fg_pct(0, 0, 0), None);
        assert_eq!(true_shooting_pct(2, 0, 0), None);
        assert_eq!(true_shooting_pct(2, 0, 2), Some(2.0 / (2.0 * 0.88)));
        assert_eq!(rating(100, 0.0), None);
        assert_eq!(pace(0.0, 48.0), None);
    }
}
