//! The real landing zone (`shared/data/landing`) and the edits tests make to
//! a copy of it.

use chrono::NaiveDate;
use std::path::{Path, PathBuf};

/// The shared data directory ([`crate::DATA`]) as a path.
pub fn shared_data() -> PathBuf {
    PathBuf::from(crate::DATA)
}

/// The real landing zone: scraped payloads as received.
pub fn landing() -> PathBuf {
    shared_data().join("landing")
}

/// Copies a directory tree (a landing zone to change, corrupt or cut).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// What [`edit_player_box_score`] changed.
pub struct EditedRow {
    /// The edited row's `PLAYER_NAME`.
    pub player: String,
    /// How many player rows the payload holds.
    pub rows: usize,
    /// The payload file edited.
    pub file: std::path::PathBuf,
}

/// Rewrites field `column` of player row `row` in the date's latest
/// box-score payload of `landing` to `value(old)`.
pub fn edit_player_box_score(
    landing: &Path,
    d: NaiveDate,
    row: usize,
    column: &str,
    value: impl FnOnce(&serde_json::Value) -> serde_json::Value,
) -> EditedRow {
    let dir = landing.join("nba-com/player-boxscores").join(d.to_string());
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .max()
        .unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let set = &mut doc["resultSets"][0];
    let headers: Vec<String> = set["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    let field = headers.iter().position(|h| h == column).unwrap();
    let name = headers.iter().position(|h| h == "PLAYER_NAME").unwrap();
    let rows = set["rowSet"].as_array().unwrap().len();
    let edited = &mut set["rowSet"][row];
    edited[field] = value(&edited[field]);
    let player = edited[name].as_str().unwrap().to_string();
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    EditedRow { player, rows, file }
}

/// Rewrites the points of the first player row in the date's latest
/// box-score payload of `landing` to `points(old)`; returns that player's
/// name.
pub fn edit_first_player_points(
    landing: &Path,
    d: NaiveDate,
    points: impl FnOnce(i64) -> i64,
) -> String {
    edit_player_box_score(landing, d, 0, "PTS", |old| {
        points(old.as_i64().unwrap()).into()
    })
    .player
}

/// Makes row `row`'s points text ("abc"), a record phase 2 must quarantine
/// naming the field `PTS`.
pub fn corrupt_player_points(landing: &Path, d: NaiveDate, row: usize) -> EditedRow {
    edit_player_box_score(landing, d, row, "PTS", |_| "abc".into())
}
