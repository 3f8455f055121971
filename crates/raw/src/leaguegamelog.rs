//! The stats.nba.com `leaguegamelog` envelope shared by the player and team
//! box score payloads: `resultSets[0].headers` names the columns of every
//! `rowSet` row. Columns are found by header name, never by position.

use crate::error::FileError;
use crate::json_fields::{self, FieldError};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "resultSets")]
    result_sets: Vec<ResultSet>,
}

#[derive(Deserialize)]
struct ResultSet {
    #[serde(default)]
    name: Option<String>,
    headers: Vec<String>,
    #[serde(rename = "rowSet")]
    row_set: Vec<Value>,
}

/// The game-log table of one payload.
pub struct GameLog {
    index: usize,
    headers: Vec<String>,
    rows: Vec<Value>,
}

impl GameLog {
    /// Parses the envelope and picks the `LeagueGameLog` result set (the
    /// first one when none has that name).
    pub fn parse(bytes: &[u8], path: &str) -> Result<GameLog, FileError> {
        let envelope: Envelope =
            serde_json::from_slice(bytes).map_err(|e| FileError::from_json(path, bytes, &e))?;
        let index = envelope
            .result_sets
            .iter()
            .position(|r| r.name.as_deref() == Some("LeagueGameLog"))
            .unwrap_or(0);
        let set = envelope
            .result_sets
            .into_iter()
            .nth(index)
            .ok_or_else(|| FileError::Layout {
                path: path.to_string(),
                message: "resultSets is empty".to_string(),
            })?;
        Ok(GameLog {
            index,
            headers: set.headers,
            rows: set.row_set,
        })
    }

    /// The position of each requested column, or a file error naming the
    /// first missing one.
    pub fn columns<const N: usize>(
        &self,
        path: &str,
        names: [&'static str; N],
    ) -> Result<Columns<N>, FileError> {
        let mut at = [0usize; N];
        for (slot, name) in at.iter_mut().zip(names) {
            *slot =
                self.headers
                    .iter()
                    .position(|h| h == name)
                    .ok_or_else(|| FileError::Field {
                        path: path.to_string(),
                        record: format!("resultSets[{}].headers", self.index),
                        error: Box::new(FieldError::new(name, "column", "no such header")),
                        excerpt: self.headers.join(","),
                    })?;
        }
        Ok(Columns {
            names,
            at,
            width: self.headers.len(),
        })
    }

    /// `resultSets[i].rowSet[j]`.
    pub fn record(&self, row: usize) -> String {
        format!("resultSets[{}].rowSet[{row}]", self.index)
    }

    pub fn rows(&self) -> &[Value] {
        &self.rows
    }
}

/// Resolved positions of the columns a parser reads.
pub struct Columns<const N: usize> {
    names: [&'static str; N],
    at: [usize; N],
    width: usize,
}

impl<const N: usize> Columns<N> {
    /// The cells of one row, checked to be an array as wide as the headers.
    pub fn row<'r>(&'r self, value: &'r Value) -> Result<Row<'r, N>, FieldError> {
        match value {
            Value::Array(cells) if cells.len() == self.width => Ok(Row {
                columns: self,
                cells,
            }),
            Value::Array(cells) => Err(FieldError::new(
                "",
                "a row as wide as the headers",
                format!("{} values for {} headers", cells.len(), self.width),
            )),
            other => Err(FieldError::new("", "array", json_fields::describe(other))),
        }
    }
}

/// One row, read by column name.
pub struct Row<'r, const N: usize> {
    columns: &'r Columns<N>,
    cells: &'r [Value],
}

impl<'r, const N: usize> Row<'r, N> {
    /// The cell of a requested column (asking for another one is a bug in
    /// the parser, reported as a field error rather than a panic).
    fn cell(&self, name: &'static str) -> Result<&'r Value, FieldError> {
        self.columns
            .names
            .iter()
            .position(|n| *n == name)
            .and_then(|i| self.cells.get(self.columns.at[i]))
            .ok_or_else(|| {
                FieldError::new(
                    name,
                    "a column the parser requested",
                    "an unrequested column",
                )
            })
    }

    pub fn int(&self, name: &'static str) -> Result<i64, FieldError> {
        json_fields::int(name, self.cell(name)?)
    }

    pub fn opt_int(&self, name: &'static str) -> Result<Option<i64>, FieldError> {
        json_fields::opt_int(name, self.cell(name)?)
    }

    pub fn non_empty(&self, name: &'static str) -> Result<&'r str, FieldError> {
        json_fields::non_empty(name, self.cell(name)?)
    }

    pub fn opt_string(&self, name: &'static str) -> Result<Option<&'r str>, FieldError> {
        json_fields::opt_string(name, self.cell(name)?)
    }

    pub fn id(&self, name: &'static str) -> Result<String, FieldError> {
        json_fields::id_string(name, self.cell(name)?)
    }

    pub fn date(&self, name: &'static str) -> Result<NaiveDate, FieldError> {
        json_fields::date(name, self.cell(name)?)
    }

    pub fn minutes(&self, name: &'static str) -> Result<f64, FieldError> {
        json_fields::minutes(name, self.cell(name)?)
    }

    /// A game id: 10 digits with leading zeros ("0022400974"); an integer id
    /// is zero-padded.
    pub fn game_id(&self, name: &'static str) -> Result<String, FieldError> {
        let value = self.cell(name)?;
        let id = json_fields::id_string(name, value)?;
        if id.chars().all(|c| c.is_ascii_digit()) && id.len() <= 10 {
            Ok(format!("{id:0>10}"))
        } else {
            Err(FieldError::new(
                name,
                "game id of up to 10 digits",
                json_fields::describe(value),
            ))
        }
    }

    /// `SEASON_ID` ("22024"): the season-type digit and the start year.
    pub fn season_id(&self, name: &'static str) -> Result<(u8, i64), FieldError> {
        let value = self.cell(name)?;
        let text = json_fields::id_string(name, value)?;
        let bad = || {
            FieldError::new(
                name,
                "season id like \"22024\"",
                json_fields::describe(value),
            )
        };
        if text.len() != 5 || !text.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let kind = text.as_bytes()[0] - b'0';
        let year: i64 = text[1..].parse().map_err(|_| bad())?;
        Ok((kind, year))
    }

    /// `MATCHUP` from this row's team's side. "A @ B" means A away at B
    /// whichever team the row is for: some real team logs write the same
    /// string on both rows of a neutral-site game ("BOS @ DEN" on the DEN
    /// row), which then reads as DEN at home against BOS
    /// ([`Matchup::from_other_side`]).
    pub fn matchup(&self, name: &'static str, team: &str) -> Result<Matchup, FieldError> {
        let value = self.cell(name)?;
        let text = json_fields::string(name, value)?;
        let bad = || {
            FieldError::new(
                name,
                format!("matchup \"TEAM @ OPP\" or \"TEAM vs. OPP\" naming the row's team {team}"),
                json_fields::describe(value),
            )
        };
        let m = parse_matchup(text).ok_or_else(bad)?;
        if m.team == team {
            Ok(m)
        } else if m.opponent == team {
            Ok(Matchup {
                team: m.opponent,
                opponent: m.team,
                is_home: !m.is_home,
                from_other_side: true,
            })
        } else {
            Err(bad())
        }
    }
}

/// A team's side of a game as written in `MATCHUP`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matchup {
    pub team: String,
    pub opponent: String,
    pub is_home: bool,
    /// The text named the opponent first (a neutral-site game written the
    /// same way on both teams' rows).
    pub from_other_side: bool,
}

/// "WAS @ DEN" (WAS away at DEN) or "DEN vs. WAS" (DEN at home).
pub fn parse_matchup(text: &str) -> Option<Matchup> {
    let t = text.trim();
    let (team, opponent, is_home) = if let Some((a, b)) = t.split_once(" @ ") {
        (a, b, false)
    } else if let Some((a, b)) = t.split_once(" vs. ") {
        (a, b, true)
    } else if let Some((a, b)) = t.split_once(" vs ") {
        (a, b, true)
    } else {
        return None;
    };
    let (team, opponent) = (team.trim(), opponent.trim());
    let code =
        |s: &str| !s.is_empty() && s.len() <= 4 && s.chars().all(|c| c.is_ascii_alphanumeric());
    (code(team) && code(opponent)).then(|| Matchup {
        team: team.to_string(),
        opponent: opponent.to_string(),
        is_home,
        from_other_side: false,
    })
}

/// The season type named by the first digit of `SEASON_ID` (or the third
/// digit of a game id).
pub fn season_type_of_digit(digit: u8) -> Option<&'static str> {
    match digit {
        1 => Some("Preseason"),
        2 => Some("Regular Season"),
        3 => Some("All-Star"),
        4 => Some("Playoffs"),
        5 => Some("Play-In"),
        6 => Some("NBA Cup"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchups() {
        let away = parse_matchup("WAS @ DEN").unwrap();
        assert_eq!(
            (away.team.as_str(), away.opponent.as_str(), away.is_home),
            ("WAS", "DEN", false)
        );
        let home = parse_matchup("DEN vs. WAS").unwrap();
        assert_eq!(
            (home.team.as_str(), home.opponent.as_str(), home.is_home),
            ("DEN", "WAS", true)
        );
        assert!(parse_matchup("DEN vs WAS").unwrap().is_home);
        assert_eq!(parse_matchup("DEN - WAS"), None);
        assert_eq!(parse_matchup(" @ WAS"), None);
    }

    #[test]
    fn season_type_digits() {
        assert_eq!(season_type_of_digit(2), Some("Regular Season"));
        assert_eq!(season_type_of_digit(5), Some("Play-In"));
        assert_eq!(season_type_of_digit(9), None);
    }
}
