//! The shot-chart bulk import on the real 2023-24 files in `shared/data`:
//! the per player-game-zone CSV parsed and imported into the embedded
//! DuckDB warehouse, a corrupted copy quarantined line by line, and the
//! per-shot file (`shots_2023_24.csv.gz`) as an independent oracle.

use chrono::NaiveDate;
use flate2::read::GzDecoder;
use propcast_core::Table;
use propcast_core::tables::ShotZone;
use propcast_platform::WarehouseExt;
use propcast_platform::embedded::DuckDbWarehouse;
use propcast_raw::shot_zones::zone_of;
use propcast_raw::{import_shot_zones, parse_shot_zones_csv, read_shot_file};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn data(name: &str) -> PathBuf {
    Path::new(DATA).join(name)
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The whole 2023-24 zone file, parsed once.
fn zones_2023_24() -> &'static [ShotZone] {
    static ONCE: OnceLock<Vec<ShotZone>> = OnceLock::new();
    ONCE.get_or_init(|| {
        let (rows, q) = read_shot_file(&data("shot_zones_player_game_2023_24.csv.gz")).unwrap();
        assert!(q.is_empty(), "{:?}", q.entries().first());
        rows
    })
}

#[test]
fn the_2023_24_zone_file_parses_whole_with_three_zones() {
    // zcat shot_zones_player_game_2023_24.csv.gz | tail -n +2 | wc -l → 82517;
    // python over the same file: FGA 218,701 and FGM 103,739 (= the 218,701
    // shots of shots_2023_24, 103,739 made); FGA by zone paint 107,758
    // (RA + non-RA), three 86,354, mid_range 24,589; 160 game dates,
    // 127 rows on 2023-10-24.
    let rows = zones_2023_24();
    assert_eq!(rows.len(), 82_517);
    assert_eq!(rows.iter().map(|r| r.fga).sum::<i64>(), 218_701);
    assert_eq!(rows.iter().map(|r| r.fgm).sum::<i64>(), 103_739);
    let mut by_zone: BTreeMap<&str, i64> = BTreeMap::new();
    for r in rows {
        assert_eq!(Some(r.zone.as_str()), zone_of(&r.basic_zone));
        *by_zone.entry(r.zone.as_str()).or_default() += r.fga;
    }
    assert_eq!(
        by_zone,
        BTreeMap::from([("mid_range", 24_589), ("paint", 107_758), ("three", 86_354)])
    );
    let dates: BTreeMap<NaiveDate, usize> = rows.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r.game_date).or_default() += 1;
        m
    });
    assert_eq!(dates.len(), 160);
    assert_eq!(dates[&d("2023-10-24")], 127);
    assert!(rows.iter().all(|r| r.season == 2023));

    // First data line: Myles Turner (IND, home vs CLE) 0022300001 on
    // 2023-11-03, Restricted Area 5 FGA 3 FGM.
    let turner = rows
        .iter()
        .find(|r| {
            r.game_id == "0022300001" && r.player_id == 1626167 && r.basic_zone == "Restricted Area"
        })
        .unwrap();
    assert_eq!(turner.game_date, d("2023-11-03"));
    assert_eq!(
        (
            turner.team_abbr.as_str(),
            turner.opponent_abbr.as_str(),
            turner.is_home
        ),
        ("IND", "CLE", true)
    );
    assert_eq!(
        (turner.zone.as_str(), turner.fga, turner.fgm),
        ("paint", 5, 3)
    );
    assert_eq!(turner.player_lookup, "mylesturner");
    assert_eq!(turner.source_file, "shot_zones_player_game_2023_24.csv.gz");
    // "LA Clippers" in team_name: the id maps to LAC.
    assert!(
        rows.iter()
            .any(|r| r.team_id == 1610612746 && r.team_abbr == "LAC")
    );
}

#[test]
fn a_corrupted_line_is_quarantined_and_the_rest_loads() {
    // Header + the first 4 real lines, with line 4 (the 3rd data line:
    // Myles Turner, Mid-Range, fga 1) corrupted to fga "1x", then line 6
    // with an unknown team id.
    let file = std::fs::File::open(data("shot_zones_player_game_2023_24.csv.gz")).unwrap();
    let lines: Vec<String> = BufReader::new(GzDecoder::new(file))
        .lines()
        .take(6)
        .map(Result::unwrap)
        .collect();
    let corrupted = lines[3].replace("Mid-Range,1,0", "Mid-Range,1x,0");
    assert_ne!(corrupted, lines[3]);
    let unknown_team = lines[5].replace(",1610612754,", ",1610612999,");
    assert_ne!(unknown_team, lines[5]);
    let mut tmp = tempfile::NamedTempFile::new().unwrap();
    for line in [
        &lines[0],
        &lines[1],
        &lines[2],
        &corrupted,
        &lines[4],
        &unknown_team,
    ] {
        writeln!(tmp, "{line}").unwrap();
    }
    tmp.flush().unwrap();
    let (rows, q) = read_shot_file(tmp.path()).unwrap();
    assert_eq!(rows.len(), 3);
    let got: Vec<(&str, &str)> = q
        .entries()
        .iter()
        .map(|e| (e.record.as_str(), e.field.as_str()))
        .collect();
    assert_eq!(got, [("line 4", "fga"), ("line 6", "team_id")]);
    let name = tmp
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(q.entries().iter().all(|e| e.source_file == name));
    assert!(
        q.entries()[0].reason.contains("1x"),
        "{}",
        q.entries()[0].reason
    );
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    fga: i64,
    fgm: i64,
}

#[test]
fn the_per_shot_file_agrees_with_the_zone_file() {
    // Independent oracle: count Jordan Poole's shots of game 22300003
    // (WAS @ MIA, 2023-11-03) straight from shots_2023_24.csv.gz with the
    // csv crate. By zcat|awk: Restricted Area 6 (5 made), In The Paint
    // (Non-RA) 2 (0), Mid-Range 2 (0), Above the Break 3 4 (3).
    let file = std::fs::File::open(data("shots_2023_24.csv.gz")).unwrap();
    let mut rdr = csv::Reader::from_reader(GzDecoder::new(file));
    let h = rdr.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (gid, pname, zone, made) = (
        col("GAME_ID"),
        col("PLAYER_NAME"),
        col("BASIC_ZONE"),
        col("SHOT_MADE"),
    );
    let mut oracle: BTreeMap<String, Counts> = BTreeMap::new();
    for r in rdr.records() {
        let r = r.unwrap();
        if &r[gid] == "22300003" && &r[pname] == "Jordan Poole" {
            let c = oracle.entry(r[zone].to_string()).or_default();
            c.fga += 1;
            c.fgm += i64::from(&r[made] == "TRUE");
        }
    }
    let imported: BTreeMap<String, Counts> = zones_2023_24()
        .iter()
        .filter(|r| r.game_id == "0022300003" && r.player_id == 1629673)
        .map(|r| {
            (
                r.basic_zone.clone(),
                Counts {
                    fga: r.fga,
                    fgm: r.fgm,
                },
            )
        })
        .collect();
    assert_eq!(imported, oracle);
    assert_eq!(oracle["Restricted Area"], Counts { fga: 6, fgm: 5 });
    assert_eq!(oracle["Above the Break 3"], Counts { fga: 4, fgm: 3 });

    // The per-shot layout through the import's own aggregation gives
    // exactly the zone file's rows (only the source file differs).
    let (shots, q) = read_shot_file(&data("shots_2023_24.csv.gz")).unwrap();
    assert!(q.is_empty(), "{:?}", q.entries().first());
    assert_eq!(shots.len(), zones_2023_24().len());
    for (a, b) in shots.iter().zip(zones_2023_24()) {
        let a = ShotZone {
            source_file: b.source_file.clone(),
            ..a.clone()
        };
        assert_eq!(&a, b);
    }
}

#[derive(Debug, Deserialize)]
struct DateCount {
    game_date: NaiveDate,
    n: i64,
    fga: i64,
}

#[tokio::test]
async fn importing_twice_replaces_each_date_partition() {
    let wh = DuckDbWarehouse::in_memory().unwrap();
    let path = data("shot_zones_player_game_2023_24.csv.gz");
    let first = import_shot_zones(&wh, &path).await.unwrap();
    assert_eq!(first.total_rows(), 82_517);
    assert_eq!(first.rows_per_date.len(), 160);
    assert_eq!(first.rows_per_date[&d("2023-10-24")], 127);
    assert!(first.quarantine.is_empty());
    let second = import_shot_zones(&wh, &path).await.unwrap();
    assert_eq!(second, first);

    let sql = format!(
        "SELECT game_date, COUNT(*) AS n, CAST(SUM(fga) AS BIGINT) AS fga FROM {} \
         GROUP BY game_date ORDER BY game_date",
        ShotZone::DEF.qualified()
    );
    let counts: Vec<DateCount> = wh.query_as(&sql).await.unwrap();
    assert_eq!(counts.len(), 160);
    assert_eq!(counts.iter().map(|c| c.n).sum::<i64>(), 82_517);
    assert_eq!(counts.iter().map(|c| c.fga).sum::<i64>(), 218_701);
    assert_eq!((counts[0].game_date, counts[0].n), (d("2023-10-24"), 127));

    // Rows read back are the parsed rows.
    let sql = format!(
        "SELECT * FROM {} WHERE game_id = '0022300003' AND player_id = 1629673 ORDER BY basic_zone",
        ShotZone::DEF.qualified()
    );
    let back: Vec<ShotZone> = wh.query_as(&sql).await.unwrap();
    let parsed: Vec<ShotZone> = zones_2023_24()
        .iter()
        .filter(|r| r.game_id == "0022300003" && r.player_id == 1629673)
        .cloned()
        .collect();
    assert_eq!(back, parsed);
}

#[test]
fn a_file_that_is_no_shot_file_is_quarantined_whole() {
    let (rows, q) = parse_shot_zones_csv("a,b\n1,2\n".as_bytes(), "x.csv");
    assert!(rows.is_empty());
    assert_eq!(q.len(), 1);
    assert_eq!(
        (
            q.entries()[0].record.as_str(),
            q.entries()[0].field.as_str()
        ),
        ("header", "season")
    );
}
