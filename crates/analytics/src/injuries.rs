//! The injury report as it stood at tip-off: which `nba_raw.injury_report`
//! rows a game's players may be judged by.
//!
//! **Point in time.** Only reports published strictly before the game's
//! tip-off count; a report published after tip-off never does, whatever it
//! says. A game without a tip-off time uses noon ET of its date as the
//! cut-off (no regular-season game tips earlier), so a report of the
//! evening can never leak into a game whose time is unknown.
//!
//! **Which report.** Each fetch of a source is a complete report, so the
//! report used for a game is the latest one published before the cut-off,
//! of the NBA's official report when one was, else of balldontlie's.
//! A player it does not list is "available"; a game with no report before
//! its cut-off has no status at all (NULL): unknown, never assumed.
//!
//! **Matching.** A row names its player by NBA id when resolved, else by
//! `player_lookup` and team, the identity rules of the raw layer.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use propcast_core::date::eastern_instant;
use propcast_core::injury::InjuryStatus;
use propcast_core::tables::InjuryReportEntry;

/// The source preferred when both published before tip-off.
pub const OFFICIAL_SOURCE: &str = "nba_official";

/// The latest report before a game's cut-off.
#[derive(Debug, Clone, PartialEq)]
pub struct GameReport<'a> {
    pub source: &'a str,
    pub report_time: DateTime<Utc>,
    /// Its rows for the date (both teams and every other game of the date).
    pub entries: Vec<&'a InjuryReportEntry>,
}

/// A player's standing in a [`GameReport`].
#[derive(Debug, Clone, PartialEq)]
pub struct PlayerInjury {
    pub status: InjuryStatus,
    pub reason: Option<String>,
}

/// The instant before which a report counts for a game of `date`.
pub fn cutoff(date: NaiveDate, tipoff: Option<DateTime<Utc>>) -> DateTime<Utc> {
    tipoff.unwrap_or_else(|| {
        eastern_instant(date, NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default())
    })
}

/// The report a game of `date` tipping off at `tipoff` is judged by, from
/// every report row of the date; `None` when none was published before.
pub fn report_before<'a>(
    entries: &'a [InjuryReportEntry],
    date: NaiveDate,
    tipoff: Option<DateTime<Utc>>,
) -> Option<GameReport<'a>> {
    let cutoff = cutoff(date, tipoff);
    let published = || {
        entries
            .iter()
            .filter(move |e| e.game_date == date && e.report_time < cutoff)
    };
    let source: &'a str = if published().any(|e| e.source == OFFICIAL_SOURCE) {
        OFFICIAL_SOURCE
    } else {
        published().next()?.source.as_str()
    };
    let report_time = published()
        .filter(|e| e.source == source)
        .map(|e| e.report_time)
        .max()?;
    Some(GameReport {
        source,
        report_time,
        entries: published()
            .filter(|e| e.source == source && e.report_time == report_time)
            .collect(),
    })
}

impl GameReport<'_> {
    fn names(entry: &InjuryReportEntry, player_id: i64, lookup: &str, team: &str) -> bool {
        match entry.player_id {
            Some(id) => id == player_id,
            None => entry.player_lookup == lookup && entry.team_abbr == team,
        }
    }

    /// The player's status: his row's, or available when he is not listed.
    /// A row whose status is not one of the vocabulary's is ignored (the
    /// raw layer quarantines those).
    pub fn player(&self, player_id: i64, lookup: &str, team: &str) -> PlayerInjury {
        self.entries
            .iter()
            .filter(|e| Self::names(e, player_id, lookup, team))
            .find_map(|e| {
                let status = e.status.parse::<InjuryStatus>().ok()?;
                Some(PlayerInjury {
                    status,
                    reason: Some(e.reason.clone()).filter(|r| !r.is_empty()),
                })
            })
            .unwrap_or(PlayerInjury {
                status: InjuryStatus::Available,
                reason: None,
            })
    }

    /// The player's teammates listed out or doubtful (the player himself
    /// excluded).
    pub fn teammates_out(
        &self,
        player_id: i64,
        lookup: &str,
        team: &str,
    ) -> Vec<&InjuryReportEntry> {
        self.entries
            .iter()
            .copied()
            .filter(|e| e.team_abbr == team && !Self::names(e, player_id, lookup, team))
            .filter(|e| {
                e.status
                    .parse::<InjuryStatus>()
                    .is_ok_and(InjuryStatus::is_missing)
            })
            .collect()
    }
}

/// The reference system's star: ≥ 18 points a game, or ≥ 28 minutes and
/// ≥ 12 points.
pub fn is_star(points_per_game: f64, minutes_per_game: f64) -> bool {
    points_per_game >= 18.0 || (minutes_per_game >= 28.0 && points_per_game >= 12.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(
        source: &str,
        at: DateTime<Utc>,
        lookup: &str,
        team: &str,
        status: &str,
    ) -> InjuryReportEntry {
        InjuryReportEntry {
            game_date: NaiveDate::from_ymd_opt(2025, 11, 5).unwrap(),
            source: source.to_string(),
            report_time: at,
            player_name: lookup.to_string(),
            player_lookup: lookup.to_string(),
            player_id: None,
            team_abbr: team.to_string(),
            status: status.to_string(),
            reason: "Injury/Illness - Left Ankle; Sprain".to_string(),
            matchup: None,
            source_file: String::new(),
        }
    }

    fn utc(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 11, 5, h, m, 0).unwrap()
    }

    #[test]
    fn a_report_before_tipoff_counts_and_one_after_does_not() {
        let d = NaiveDate::from_ymd_opt(2025, 11, 5).unwrap();
        // MIL @ TOR tipped off at 00:30 UTC on 11-06 (19:30 ET).
        let tipoff = Utc.with_ymd_and_hms(2025, 11, 6, 0, 30, 0).unwrap();
        let rows = vec![
            entry(
                "balldontlie",
                utc(17, 0),
                "giannisantetokounmpo",
                "MIL",
                "questionable",
            ),
            entry(
                "balldontlie",
                utc(23, 0),
                "giannisantetokounmpo",
                "MIL",
                "out",
            ),
            // Published after tip-off: never counts.
            entry(
                "balldontlie",
                Utc.with_ymd_and_hms(2025, 11, 6, 1, 0, 0).unwrap(),
                "giannisantetokounmpo",
                "MIL",
                "available",
            ),
        ];
        let report = report_before(&rows, d, Some(tipoff)).unwrap();
        assert_eq!(report.report_time, utc(23, 0));
        let giannis = report.player(1, "giannisantetokounmpo", "MIL");
        assert_eq!(giannis.status, InjuryStatus::Out);
        // Before the 23:00 report only the 17:00 one counts.
        let early = report_before(&rows, d, Some(utc(20, 0))).unwrap();
        assert_eq!(
            early.player(1, "giannisantetokounmpo", "MIL").status,
            InjuryStatus::Questionable
        );
        // Nothing published before: no status at all.
        assert!(report_before(&rows, d, Some(utc(16, 0))).is_none());
        // Not listed in a report that exists: available.
        assert_eq!(
            report.player(2, "kylekuzma", "MIL").status,
            InjuryStatus::Available
        );
    }

    #[test]
    fn the_official_report_wins_and_teammates_out_exclude_the_player() {
        let d = NaiveDate::from_ymd_opt(2025, 11, 5).unwrap();
        let rows = vec![
            entry("balldontlie", utc(22, 0), "a", "MIL", "out"),
            entry(OFFICIAL_SOURCE, utc(21, 30), "b", "MIL", "doubtful"),
            entry(OFFICIAL_SOURCE, utc(21, 30), "c", "MIL", "questionable"),
            entry(OFFICIAL_SOURCE, utc(21, 30), "d", "MIL", "out"),
            entry(OFFICIAL_SOURCE, utc(21, 30), "e", "TOR", "out"),
        ];
        let report = report_before(&rows, d, Some(utc(23, 0))).unwrap();
        assert_eq!(report.source, OFFICIAL_SOURCE);
        let out: Vec<&str> = report
            .teammates_out(9, "d", "MIL")
            .iter()
            .map(|e| e.player_lookup.as_str())
            .collect();
        assert_eq!(out, ["b"]);
        // Without a tip-off time the cut-off is noon ET (17:00 UTC in
        // November): the 21:30 report does not count.
        assert!(report_before(&rows, d, None).is_none());
        assert!(is_star(18.0, 20.0) && is_star(12.0, 28.0) && !is_star(17.9, 27.9));
    }
}
