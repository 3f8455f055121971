//! Test support: the real shared data (`<repository>/../shared/data`, read
//! in place, never copied) parsed into the core row types, once per test
//! binary. A dev-dependency of the crates whose tests read it; nothing in a
//! normal build depends on it.
//!
//! - [`box_scores`]: the raw rows Phase 3 reads (team and player box
//!   scores, final schedule, the 2025-26 landing schedule, the CDN scores of
//!   2024-25, the 2025-26 `player_points` lines).
//! - [`player_games`]: the rows Phase 4 reads (player game logs as
//!   `player_game_summary` rows, final schedule, resolved 2025-26
//!   `player_points` lines).
//! - [`landing`]: the real landing zone, copied and edited.
//! - [`bench_stats`]: the min / median / max rows the benches print.

pub mod bench_stats;
pub mod box_scores;
pub mod landing;
pub mod player_games;
mod points_props;

use chrono::NaiveDate;
use flate2::read::GzDecoder;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Read;

/// The shared data directory: `shared/data` beside the repository (this
/// crate sits at `<repository>/crates/test-support`).
pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

/// One CSV row: header → text.
pub(crate) type Row = HashMap<String, String>;

/// Every record of a CSV file under [`DATA`] (gunzipped when `.gz`).
pub(crate) fn records(name: &str) -> Vec<Row> {
    let path = format!("{DATA}/{name}");
    let file = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let input: Box<dyn Read> = if name.ends_with(".gz") {
        Box::new(GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut rdr = csv::Reader::from_reader(input);
    let headers = rdr.headers().expect("csv header").clone();
    rdr.records()
        .map(|r| {
            let r = r.expect("csv record");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// A `YYYY-MM-DD` date.
pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

/// A numeric column rounded to an integer (the logs write some as `12.0`).
pub(crate) fn int(row: &Row, key: &str) -> i64 {
    let text = row.get(key).unwrap_or_else(|| panic!("column {key}"));
    text.parse::<f64>()
        .unwrap_or_else(|_| panic!("{key}={text:?}"))
        .round() as i64
}

pub(crate) fn float(row: &Row, key: &str) -> f64 {
    row[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key}={:?}", row[key]))
}

/// The final games of 2024-25 and 2025-26 from the games file, with the
/// file's own `season_type` text (`regular`, `playoffs`, …).
pub(crate) fn games_file_schedule() -> Vec<propcast_core::tables::ScheduleGame> {
    const NAME: &str = "games_2014_15_to_2025_26_before_2025-11-10.csv";
    records(NAME)
        .into_iter()
        .filter(|r| r["season"] == "2024-25" || r["season"] == "2025-26")
        .map(|r| {
            let game_date = date(&r["game_date"]);
            let home = r["home_team"].clone();
            let away = r["away_team"].clone();
            propcast_core::tables::ScheduleGame {
                game_date,
                game_id: Some(r["game_id"].clone()),
                game_code: format!("{}/{away}{home}", game_date.format("%Y%m%d")),
                season: r["season"][..4].parse().expect("season"),
                season_type: r["season_type"].clone(),
                game_status: 3,
                home_team_abbr: home,
                away_team_abbr: away,
                home_team_id: r["home_team_id"].parse().unwrap_or(0),
                away_team_id: r["away_team_id"].parse().unwrap_or(0),
                home_score: r["home_pts"].parse().ok(),
                away_score: r["away_pts"].parse().ok(),
                tipoff_time: None,
                arena_name: None,
                source_file: NAME.to_string(),
            }
        })
        .collect()
}

/// Rows of one kind grouped by game date.
pub struct ByDate<T> {
    pub all: Vec<T>,
    index: BTreeMap<NaiveDate, (usize, usize)>,
}

impl<T> ByDate<T> {
    /// Sorts `all` by date (stably: rows of one date keep their order).
    pub fn new(mut all: Vec<T>, key: impl Fn(&T) -> NaiveDate) -> Self {
        all.sort_by_key(|r| key(r));
        let mut index: BTreeMap<NaiveDate, (usize, usize)> = BTreeMap::new();
        for (i, r) in all.iter().enumerate() {
            index.entry(key(r)).or_insert((i, i)).1 = i + 1;
        }
        ByDate { all, index }
    }

    pub fn on(&self, date: NaiveDate) -> &[T] {
        self.index
            .get(&date)
            .map(|&(a, b)| &self.all[a..b])
            .unwrap_or(&[])
    }

    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.index.keys().copied()
    }
}
