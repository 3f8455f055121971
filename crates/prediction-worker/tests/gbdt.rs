//! The `gbdt_v1` model and system on real data: feature vectors built from
//! the 2024-25 game logs in `/work/shared/data` (points and minutes
//! averages from each player's games strictly before the game, the other
//! features at their defaults or NULL), target = the points he scored.

use chrono::{NaiveDate, TimeZone, Utc};
use propcast_core::Table;
use propcast_core::features::{
    FEATURE_COUNT, FEATURE_VERSION, FEATURES, FeatureSource, FeatureVector, feature_index,
};
use propcast_core::tables::{
    MlFeatureStore, PlayerDailyCache, PlayerGameSummary, PlayerPropPrediction,
};
use propcast_platform::embedded::DuckDbWarehouse;
use propcast_platform::{Warehouse, WarehouseExt};
use propcast_prediction_worker::evaluation::{
    BASELINE_LAST_5, BASELINE_SEASON, EDGES, load_evaluation, system_metrics,
};
use propcast_prediction_worker::gbdt::{
    LIBRARY, MODEL_FORMAT, ModelError, PARAMS, SYSTEM_ID, TrainingWindow,
};
use propcast_prediction_worker::versus_line::BASELINE_LINE;
use propcast_prediction_worker::{
    GbdtSystem, PlayerInputs, PredictionSystem, PropLine, Recommendation, SkipReason, SystemError,
    TrainedModel, load_training_rows, train_model, training_pairs,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Arc, OnceLock};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
const LOGS_2024_25: &str = "player_game_logs_2024_25.csv.gz";
/// The quality score given to every test vector ("bronze": +5 confidence).
const QUALITY: f64 = 75.0;

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test date")
}

#[derive(Debug, Clone, Deserialize)]
struct Log {
    player_id: i64,
    player: String,
    team: String,
    opponent: String,
    date: NaiveDate,
    minutes: f64,
    pts: i64,
}

fn logs() -> &'static [Log] {
    static LOGS: OnceLock<Vec<Log>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let path = format!("{DATA}/{LOGS_2024_25}");
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut text = String::new();
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        csv::Reader::from_reader(text.as_bytes())
            .deserialize()
            .map(|r| r.expect("game log row"))
            .collect()
    })
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Sample standard deviation; `None` under two values.
fn sample_std(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = mean(values);
    let var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64;
    Some(var.sqrt())
}

/// A vector from a player's games before the date (oldest first): the
/// points averages, std and minutes average computed, every other feature
/// at its default (non-nullable) or NULL (nullable).
fn vector_from_history(prior: &[&Log]) -> FeatureVector {
    let points: Vec<f64> = prior.iter().map(|g| g.pts as f64).collect();
    let minutes: Vec<f64> = prior.iter().map(|g| g.minutes).collect();
    let last = |v: &[f64], n: usize| v[v.len().saturating_sub(n)..].to_vec();
    let computed: [(&str, Option<f64>); 5] = [
        ("points_avg_last_5", Some(mean(&last(&points, 5)))),
        ("points_avg_last_10", Some(mean(&last(&points, 10)))),
        ("points_avg_season", Some(mean(&points))),
        ("points_std_last_10", sample_std(&last(&points, 10))),
        ("minutes_avg_last_10", Some(mean(&last(&minutes, 10)))),
    ];
    let mut values: Vec<Option<f64>> = FEATURES
        .iter()
        .map(|f| (!f.nullable).then_some(f.default))
        .collect();
    let mut sources: Vec<FeatureSource> = FEATURES
        .iter()
        .map(|f| {
            if f.nullable {
                FeatureSource::Missing
            } else {
                FeatureSource::Default
            }
        })
        .collect();
    let mut defaulted: Vec<bool> = FEATURES.iter().map(|f| !f.nullable).collect();
    for (name, value) in computed {
        let i = feature_index(name).expect("feature in the layout");
        if let Some(value) = value {
            values[i] = Some(value);
            sources[i] = FeatureSource::Calculated;
            defaulted[i] = false;
        }
    }
    FeatureVector {
        version: FEATURE_VERSION.to_string(),
        values,
        sources,
        defaulted,
        quality_score: QUALITY,
    }
}

/// One training row per player-game with at least one earlier game, by
/// date then player id (a fixed order).
fn real_rows() -> &'static [(NaiveDate, i64, FeatureVector, f64)] {
    static ROWS: OnceLock<Vec<(NaiveDate, i64, FeatureVector, f64)>> = OnceLock::new();
    ROWS.get_or_init(|| {
        let mut by_player: BTreeMap<i64, Vec<&Log>> = BTreeMap::new();
        for log in logs() {
            by_player.entry(log.player_id).or_default().push(log);
        }
        let mut rows = Vec::new();
        for games in by_player.values_mut() {
            games.sort_by_key(|g| g.date);
            for k in 1..games.len() {
                rows.push((
                    games[k].date,
                    games[k].player_id,
                    vector_from_history(&games[..k]),
                    games[k].pts as f64,
                ));
            }
        }
        rows.sort_by_key(|r| (r.0, r.1));
        rows
    })
}

fn pairs(rows: &[(NaiveDate, i64, FeatureVector, f64)]) -> Vec<(FeatureVector, f64)> {
    rows.iter().map(|r| (r.2.clone(), r.3)).collect()
}

fn season_window() -> TrainingWindow {
    TrainingWindow {
        from: date("2024-10-22"),
        to: date("2025-04-13"),
    }
}

/// The model trained on every real row of 2024-25, trained once per test
/// binary.
fn season_model() -> &'static TrainedModel {
    static MODEL: OnceLock<TrainedModel> = OnceLock::new();
    MODEL.get_or_init(|| train_model(&pairs(real_rows()), season_window()).expect("training"))
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("propcast-gbdt-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn training_twice_on_the_same_real_rows_gives_identical_model_bytes() {
    // 22,124 game-log rows of 2024-25; each player's first game has no
    // history, which leaves 21,692 rows (python: Σ over players of games − 1).
    let rows = pairs(real_rows());
    assert_eq!(rows.len(), 21_692);
    let first = season_model();
    let second = train_model(&rows, season_window()).expect("training");
    let bytes = first.to_bytes().expect("bytes");
    assert_eq!(bytes, second.to_bytes().expect("bytes"));
    assert_eq!(first.sha256(), second.sha256());
    assert_eq!(first.sha256().len(), 64);
    // Printed so two runs (two processes, two hash seeds) can be compared.
    println!("gbdt_v1 model sha256 {}", first.sha256());

    let meta = first.metadata();
    assert_eq!(meta.system_id, SYSTEM_ID);
    assert_eq!(meta.feature_version, FEATURE_VERSION);
    assert_eq!(meta.feature_names.len(), FEATURE_COUNT);
    assert_eq!(meta.feature_names[31], "minutes_avg_last_10");
    assert_eq!(meta.training_rows, 21_692);
    assert_eq!(meta.window, season_window());
    assert_eq!(meta.target, "actual_points");
    assert_eq!(meta.library, LIBRARY);
    assert_eq!(meta.format, MODEL_FORMAT);
    assert_eq!(meta.params, PARAMS);
    // A fixed number of trees: no early stopping, nothing machine-dependent.
    assert_eq!(meta.trees, PARAMS.iterations);

    // Written and read back, the model gives the same bytes and the same
    // predictions.
    let dir = temp_dir("roundtrip");
    let path = dir.join("models/gbdt_v1.json");
    first.save(&path).expect("save");
    assert_eq!(std::fs::read(&path).expect("read"), bytes);
    let loaded = TrainedModel::load(&path).expect("load");
    assert_eq!(loaded.to_bytes().expect("bytes"), bytes);
    for (vector, _) in rows.iter().step_by(997) {
        assert_eq!(
            loaded.predict_raw(vector).expect("prediction"),
            first.predict_raw(vector).expect("prediction")
        );
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_model_beats_the_season_average_in_sample() {
    // A sanity fact about the real data rather than about perpetual: the
    // season average of the earlier games predicts the next game with an MAE
    // the fitted model (which sees that average and more) must not exceed.
    let rows = real_rows();
    let season = feature_index("points_avg_season").unwrap();
    let baseline_mae = rows
        .iter()
        .map(|r| (r.2.values[season].unwrap() - r.3).abs())
        .sum::<f64>()
        / rows.len() as f64;
    let model = season_model();
    assert!(
        model.metadata().in_sample_mae < baseline_mae,
        "model {} vs season average {baseline_mae}",
        model.metadata().in_sample_mae
    );
}

/// Mean |prediction − actual| of `predict` over rows.
fn mae_of(
    rows: &[(NaiveDate, i64, FeatureVector, f64)],
    predict: impl Fn(&FeatureVector) -> f64,
) -> f64 {
    rows.iter()
        .map(|r| (predict(&r.2) - r.3).abs())
        .sum::<f64>()
        / rows.len() as f64
}

#[test]
fn trained_on_the_first_months_the_model_beats_the_season_average_on_the_rest() {
    // The fact the first gbdt_v1 (perpetual 3.0.0-rc.2) failed: trained on
    // the games up to 2025-01-31 it memorised them (in-sample MAE far below
    // anything reachable) and predicted the later games worse than the
    // season-average feature it was given. A model that generalises beats
    // that baseline out of sample, and fits its training rows only a little
    // better than the rows it never saw.
    let split = date("2025-02-01");
    let (train, test): (Vec<_>, Vec<_>) = real_rows().iter().cloned().partition(|r| r.0 < split);
    assert!(
        train.len() > 10_000 && test.len() > 8_000,
        "{} / {}",
        train.len(),
        test.len()
    );
    let window = TrainingWindow {
        from: date("2024-10-22"),
        to: date("2025-01-31"),
    };
    let model = train_model(&pairs(&train), window).expect("training");
    let season = feature_index("points_avg_season").unwrap();
    let last_5 = feature_index("points_avg_last_5").unwrap();
    let baseline = mae_of(&test, |v| v.values[season].unwrap());
    let baseline_last_5 = mae_of(&test, |v| v.values[last_5].unwrap());
    let out_of_sample = mae_of(&test, |v| model.predict_points(v).unwrap());
    let in_sample = model.metadata().in_sample_mae;
    println!(
        "out of sample: gbdt {out_of_sample:.3}, season average {baseline:.3}, last 5 {baseline_last_5:.3}; in sample {in_sample:.3}"
    );
    assert!(
        out_of_sample < baseline && out_of_sample < baseline_last_5,
        "gbdt {out_of_sample} vs season average {baseline} / last 5 {baseline_last_5}"
    );
    assert!(
        in_sample > 0.8 * out_of_sample,
        "in sample {in_sample} vs out of sample {out_of_sample}: the model memorises its rows"
    );
}

#[test]
fn a_model_of_another_feature_version_is_refused_with_what_to_do() {
    let bytes = season_model().to_bytes().expect("bytes");
    let mut file: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    file["metadata"]["feature_version"] = "v0_25features".into();
    let dir = temp_dir("version");
    let path = dir.join("old.json");
    std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
    let err = TrainedModel::load(&path).expect_err("another feature version");
    assert!(
        matches!(&err, ModelError::FeatureVersion { found, expected, .. }
            if found == "v0_25features" && expected == FEATURE_VERSION),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("propcast train --from"), "{message}");

    // Another library release is refused too (REFERENCE lesson 13).
    let mut file: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    file["metadata"]["library"] = "perpetual 3.0.0-rc.2".into();
    let err = TrainedModel::from_bytes(&serde_json::to_vec(&file).unwrap()).unwrap_err();
    assert!(matches!(err, ModelError::Library { .. }), "{err:?}");
    // And a file of the previous layout.
    let mut file: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    file["metadata"]["format"] = "propcast-gbdt-model/1".into();
    let err = TrainedModel::from_bytes(&serde_json::to_vec(&file).unwrap()).unwrap_err();
    assert!(
        matches!(&err, ModelError::Corrupt { message, .. } if message.contains("format")),
        "{err:?}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_missing_or_corrupt_model_file_is_a_clear_error_naming_the_path() {
    let dir = temp_dir("missing");
    let path = dir.join("models/gbdt_v1.json");
    let err = TrainedModel::load(&path).expect_err("no file");
    assert!(matches!(err, ModelError::Missing { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("run `propcast train --from"), "{message}");
    assert!(GbdtSystem::load(&path).is_err());

    // Truncated: not JSON any more.
    let bytes = season_model().to_bytes().expect("bytes");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = TrainedModel::load(&path).expect_err("truncated");
    assert!(matches!(err, ModelError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()));

    // Valid JSON whose booster was edited: the sha no longer matches.
    let mut file: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    let base = file["booster"]["base_score"].as_f64().expect("base score");
    file["booster"]["base_score"] = (base + 1.0).into();
    let err = TrainedModel::from_bytes(&serde_json::to_vec(&file).unwrap()).unwrap_err();
    assert!(
        matches!(&err, ModelError::Corrupt { message, .. } if message.contains("sha256")),
        "{err:?}"
    );
    std::fs::remove_dir_all(dir).ok();
}

fn cache_row(player_lookup: &str, game_date: NaiveDate) -> PlayerDailyCache {
    PlayerDailyCache {
        game_date,
        player_lookup: player_lookup.into(),
        player_id: 203999,
        player_name: "Nikola Jokic".into(),
        team_abbr: "DEN".into(),
        opponent_abbr: "MIN".into(),
        is_home: false,
        game_id: "0022401000".into(),
        season: 2024,
        games_played_season: 61,
        points_avg_last_5: Some(30.4),
        points_avg_last_10: Some(26.7),
        points_avg_season: None,
        points_std_last_10: None,
        minutes_avg_last_5: None,
        minutes_avg_last_10: None,
        minutes_avg_season: None,
        games_last_7_days: 3,
        days_rest: Some(2),
        last_game_date: None,
        calculation_quality: "complete".into(),
    }
}

fn inputs_for<'a>(
    cache: &'a PlayerDailyCache,
    line: Option<&'a PropLine>,
    features: Option<&'a FeatureVector>,
) -> PlayerInputs<'a> {
    PlayerInputs {
        cache,
        line,
        features,
        factors: None,
        context: None,
        history: &[],
    }
}

fn line(value: f64) -> PropLine {
    PropLine {
        line: value,
        bookmaker: "draftkings".into(),
        event_id: "e".into(),
        snapshot_time: Utc.with_ymd_and_hms(2025, 3, 15, 20, 0, 0).unwrap(),
        commence_time: Utc.with_ymd_and_hms(2025, 3, 15, 23, 0, 0).unwrap(),
        minutes_before_tipoff: 180,
        over_price: Some(-110),
        under_price: Some(-110),
        lines_in_snapshot: 1,
    }
}

#[test]
fn jokic_on_2025_03_15_follows_the_confidence_and_pass_rules() {
    // Jokić's 61 games before 2025-03-15; the last 10 scored 18, 32, 23, 20,
    // 22, 31, 24, 35, 34, 28 (python over the CSV): L5 30.4, L10 26.7,
    // sample std 6.09, season 28.95, minutes L10 39.0.
    let prior: Vec<&Log> = {
        let mut g: Vec<&Log> = logs()
            .iter()
            .filter(|l| l.player_id == 203999 && l.date < date("2025-03-15"))
            .collect();
        g.sort_by_key(|l| l.date);
        g
    };
    assert_eq!(prior.len(), 61);
    assert_eq!(prior[0].player, "Nikola Jokic");
    assert_eq!(
        (prior[0].team.as_str(), prior[0].opponent.is_empty()),
        ("DEN", false)
    );
    let vector = vector_from_history(&prior);
    assert_eq!(vector.get("points_avg_last_5"), Some(30.4));
    let std10 = vector.get("points_std_last_10").unwrap();
    assert!((std10 - 6.0928).abs() < 1e-4, "{std10}");

    let system = GbdtSystem::new(Arc::new(season_model().clone()));
    let cache = cache_row("nikolajokic", date("2025-03-15"));

    let no_line = system
        .predict(&inputs_for(&cache, None, Some(&vector)))
        .expect("prediction");
    let predicted = no_line.predicted_points;
    assert_eq!(predicted, season_model().predict_points(&vector).unwrap());
    assert!((0.0..=60.0).contains(&predicted));
    // 70 + 5 (quality 75 ≥ 70) + 5 (std 6.09: not < 6, < 8) = 80.
    assert_eq!(no_line.confidence, 0.80);
    assert_eq!(no_line.recommendation, Recommendation::NoLine);
    assert_eq!(no_line.metadata["system_id"], SYSTEM_ID);
    assert_eq!(no_line.metadata["model_sha256"], season_model().sha256());
    assert_eq!(no_line.metadata["feature_version"], FEATURE_VERSION);
    assert_eq!(no_line.metadata["training_window"]["to"], "2025-04-13");
    assert_eq!(no_line.metadata["confidence"]["volatility"], 5);

    // Lines at whole hundredths around the prediction: an edge of exactly
    // 1.5 is a call, 1.49 is PASS.
    let call = |offset_hundredths: i64| {
        let l = line(((predicted * 100.0).round() as i64 + offset_hundredths) as f64 / 100.0);
        system
            .predict(&inputs_for(&cache, Some(&l), Some(&vector)))
            .expect("prediction")
            .recommendation
    };
    assert_eq!(call(-150), Recommendation::Over);
    assert_eq!(call(-149), Recommendation::Pass);
    assert_eq!(call(0), Recommendation::Pass);
    assert_eq!(call(149), Recommendation::Pass);
    assert_eq!(call(150), Recommendation::Under);

    // No vector: a skip, not a failure.
    assert_eq!(
        system.predict(&inputs_for(&cache, None, None)).unwrap_err(),
        SystemError::Skip(SkipReason::NoFeatures)
    );
    // A vector of another version: the system fails, saying why.
    let mut old = vector.clone();
    old.version = "v0_25features".into();
    match system.predict(&inputs_for(&cache, None, Some(&old))) {
        Err(SystemError::Failed(message)) => {
            assert!(message.contains("v0_25features"), "{message}");
            assert!(message.contains(FEATURE_VERSION), "{message}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn store_row(game_date: NaiveDate, player_lookup: &str, vector: &FeatureVector) -> MlFeatureStore {
    MlFeatureStore {
        game_date,
        player_lookup: player_lookup.into(),
        player_id: 1,
        game_id: "g".into(),
        team_abbr: "DEN".into(),
        opponent_abbr: "MIN".into(),
        feature_version: vector.version.clone(),
        feature_count: vector.values.len() as i64,
        features: serde_json::to_string(&vector.values).unwrap(),
        feature_sources: serde_json::to_string(
            &vector
                .sources
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>(),
        )
        .unwrap(),
        feature_defaulted: serde_json::to_string(&vector.defaulted).unwrap(),
        feature_quality_score: vector.quality_score,
        quality_tier: "bronze".into(),
        defaulted_required_count: 0,
        data_source: "mixed".into(),
    }
}

fn summary_row(
    game_date: NaiveDate,
    player_lookup: &str,
    minutes: f64,
    points: i64,
) -> PlayerGameSummary {
    PlayerGameSummary {
        game_date,
        game_id: "g".into(),
        season: 2024,
        player_id: 1,
        player_lookup: player_lookup.into(),
        player_name: player_lookup.into(),
        team_abbr: "DEN".into(),
        opponent_abbr: "MIN".into(),
        is_home: true,
        minutes,
        points,
        fgm: 0,
        fga: 0,
        fg3m: 0,
        fg3a: 0,
        ftm: 0,
        fta: 0,
        oreb: 0,
        dreb: 0,
        reb: 0,
        ast: 0,
        stl: 0,
        blk: 0,
        tov: 0,
        pf: 0,
        plus_minus: None,
        ts_pct: None,
        efg_pct: None,
        usage_rate: None,
        game_score: 0.0,
        win_flag: None,
        is_dnp: false,
        data_quality: "player_only".into(),
    }
}

#[tokio::test]
async fn training_rows_join_the_feature_store_with_the_points_of_players_who_played() {
    let warehouse = DuckDbWarehouse::in_memory().expect("warehouse");
    for def in [&MlFeatureStore::DEF, &PlayerGameSummary::DEF] {
        warehouse.ensure_table(def).await.expect("table");
    }
    let (d1, d2, d3) = (date("2025-03-14"), date("2025-03-15"), date("2025-03-16"));
    let jokic: Vec<&Log> = {
        let mut g: Vec<&Log> = logs().iter().filter(|l| l.player_id == 203999).collect();
        g.sort_by_key(|l| l.date);
        g
    };
    let v = vector_from_history(&jokic[..61]);
    // d2: jokic played (40 points, as on 2025-03-15), "benched" has a
    // 0-minute 0-point row (did not play), "absent" has no row at all.
    warehouse
        .replace_rows(
            d2,
            &[],
            &[
                store_row(d2, "nikolajokic", &v),
                store_row(d2, "benched", &v),
                store_row(d2, "absent", &v),
            ],
        )
        .await
        .unwrap();
    warehouse
        .replace_rows(
            d1,
            &[],
            &[store_row(d1, "zed", &v), store_row(d1, "amy", &v)],
        )
        .await
        .unwrap();
    warehouse
        .replace_rows(d3, &[], &[store_row(d3, "nikolajokic", &v)])
        .await
        .unwrap();
    warehouse
        .replace_rows(
            d2,
            &[],
            &[
                summary_row(d2, "nikolajokic", 36.0, 40),
                summary_row(d2, "benched", 0.0, 0),
            ],
        )
        .await
        .unwrap();
    warehouse
        .replace_rows(
            d1,
            &[],
            &[
                summary_row(d1, "zed", 20.0, 7),
                summary_row(d1, "amy", 31.0, 0),
            ],
        )
        .await
        .unwrap();
    warehouse
        .replace_rows(d3, &[], &[summary_row(d3, "nikolajokic", 35.0, 39)])
        .await
        .unwrap();

    let rows = load_training_rows(&warehouse, TrainingWindow { from: d1, to: d2 })
        .await
        .expect("rows");
    let keys: Vec<(NaiveDate, &str, f64)> = rows
        .iter()
        .map(|r| (r.game_date, r.player_lookup.as_str(), r.actual_points))
        .collect();
    // By date then player; d3 is outside the window; "amy" played 31
    // minutes for 0 points and is a real row; "benched" and "absent" are not.
    assert_eq!(
        keys,
        vec![
            (d1, "amy", 0.0),
            (d1, "zed", 7.0),
            (d2, "nikolajokic", 40.0),
        ]
    );
    assert_eq!(rows[2].features, v);
    assert_eq!(training_pairs(&rows)[2].1, 40.0);

    // An empty window has no rows, and a warehouse without the feature
    // store says to run the backfill.
    let none = load_training_rows(
        &warehouse,
        TrainingWindow {
            from: date("2024-01-01"),
            to: date("2024-01-31"),
        },
    )
    .await
    .unwrap();
    assert!(none.is_empty());
    let empty = DuckDbWarehouse::in_memory().expect("warehouse");
    let err = load_training_rows(&empty, TrainingWindow { from: d1, to: d2 })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("propcast backfill"), "{err}");
}

fn stored_prediction(
    game_date: NaiveDate,
    player_lookup: &str,
    system_id: &str,
    predicted_points: f64,
    line: Option<f64>,
) -> PlayerPropPrediction {
    PlayerPropPrediction {
        game_date,
        game_id: "g".into(),
        player_lookup: player_lookup.into(),
        player_id: 1,
        team_abbr: "DEN".into(),
        opponent_abbr: "MIN".into(),
        system_id: system_id.into(),
        predicted_points,
        confidence: 0.6,
        line_value: line,
        line_source: if line.is_some() {
            "ACTUAL_PROP"
        } else {
            "NO_PROP_LINE"
        }
        .into(),
        sportsbook: line.map(|_| "draftkings".into()),
        line_snapshot_time: None,
        line_minutes_before_tipoff: None,
        line_over_price: line.map(|_| 120),
        line_under_price: line.map(|_| -135),
        recommendation: if line.is_some() { "OVER" } else { "NO_LINE" }.into(),
        metadata: "{}".into(),
        execution_id: "test".into(),
        created_at: Utc.with_ymd_and_hms(2025, 10, 22, 12, 0, 0).unwrap(),
    }
}

fn cache_with(
    game_date: NaiveDate,
    player_lookup: &str,
    season: Option<f64>,
    last_5: Option<f64>,
) -> PlayerDailyCache {
    let mut row = cache_row(player_lookup, game_date);
    row.points_avg_season = season;
    row.points_avg_last_5 = last_5;
    row
}

#[tokio::test]
async fn evaluation_grades_every_system_on_the_same_outcomes_and_real_lines() {
    let warehouse = DuckDbWarehouse::in_memory().expect("warehouse");
    for def in [
        &MlFeatureStore::DEF,
        &PlayerGameSummary::DEF,
        &PlayerPropPrediction::DEF,
        &PlayerDailyCache::DEF,
    ] {
        warehouse.ensure_table(def).await.expect("table");
    }
    let (e, f) = (date("2025-10-22"), date("2025-10-23"));
    let jokic: Vec<&Log> = {
        let mut g: Vec<&Log> = logs().iter().filter(|l| l.player_id == 203999).collect();
        g.sort_by_key(|l| l.date);
        g
    };
    let v = vector_from_history(&jokic[..61]);
    // On e: "a" played (30 points) with a real 22.5 line; "b" has no game
    // row (voided); "c" played (12) without a line. f has no box score at
    // all: its prediction is ungraded, not voided.
    warehouse
        .replace_rows(
            e,
            &[],
            &[summary_row(e, "a", 34.0, 30), summary_row(e, "c", 20.0, 12)],
        )
        .await
        .unwrap();
    warehouse
        .replace_rows(
            e,
            &[],
            &[
                stored_prediction(e, "a", "moving_average", 25.0, Some(22.5)),
                stored_prediction(e, "a", "zone_matchup", 20.0, Some(22.5)),
                stored_prediction(e, "b", "moving_average", 10.0, None),
                stored_prediction(e, "c", "moving_average", 14.0, None),
            ],
        )
        .await
        .unwrap();
    warehouse
        .replace_rows(
            f,
            &[],
            &[stored_prediction(
                f,
                "a",
                "moving_average",
                25.0,
                Some(23.5),
            )],
        )
        .await
        .unwrap();
    warehouse
        .replace_rows(e, &[], &[store_row(e, "a", &v), store_row(e, "b", &v)])
        .await
        .unwrap();
    warehouse
        .replace_rows(
            e,
            &[],
            &[
                cache_with(e, "a", Some(28.95), Some(30.4)),
                cache_with(e, "b", Some(8.0), Some(9.0)),
                cache_with(e, "c", None, Some(11.0)),
            ],
        )
        .await
        .unwrap();

    let model = season_model();
    let label = "gbdt_v1 (trained to 2025-04-13)";
    let evaluation = load_evaluation(&warehouse, model, label, &[], e, f)
        .await
        .expect("evaluation");
    let graded: Vec<(&str, &str, f64, f64, Option<f64>)> = evaluation
        .rows
        .iter()
        .map(|r| {
            (
                r.system.as_str(),
                r.player_lookup.as_str(),
                r.predicted,
                r.actual,
                r.line,
            )
        })
        .collect();
    let gbdt_a = model.predict_points(&v).unwrap();
    assert_eq!(
        graded,
        vec![
            ("moving_average", "a", 25.0, 30.0, Some(22.5)),
            ("moving_average", "c", 14.0, 12.0, None),
            ("zone_matchup", "a", 20.0, 30.0, Some(22.5)),
            (label, "a", gbdt_a, 30.0, Some(22.5)),
            (BASELINE_SEASON, "a", 28.95, 30.0, Some(22.5)),
            (BASELINE_LAST_5, "a", 30.4, 30.0, Some(22.5)),
            (BASELINE_LAST_5, "c", 11.0, 12.0, None),
            // The line as a system, on every player-game with a line.
            (BASELINE_LINE, "a", 22.5, 30.0, Some(22.5)),
        ]
    );
    // Every row of a carries the line's prices.
    assert!(
        evaluation
            .rows
            .iter()
            .filter(|r| r.player_lookup == "a")
            .all(|r| (r.over_price, r.under_price) == (Some(120), Some(-135)))
    );
    assert_eq!(evaluation.ungraded.get(BASELINE_LINE), Some(&1));
    for system in ["moving_average", label, BASELINE_SEASON, BASELINE_LAST_5] {
        assert_eq!(evaluation.voided.get(system), Some(&1), "{system}");
    }
    assert_eq!(evaluation.voided.get("zone_matchup"), None);
    assert_eq!(evaluation.ungraded.get("moving_average"), Some(&1));
    assert_eq!(evaluation.dates_with_results.len(), 1);

    let metrics = system_metrics(&evaluation.rows, &EDGES);
    let ma = &metrics[0];
    // |25 − 30| and |14 − 12|: MAE 3.5, bias (−5 + 2) / 2 = −1.5; one OVER
    // call at edge 2.5 that won (30 > 22.5).
    assert_eq!(
        (ma.predictions, ma.with_line, ma.mae, ma.bias),
        (2, 1, 3.5, -1.5)
    );
    assert_eq!(
        (
            ma.hit_rates[1].bets,
            ma.hit_rates[1].wins,
            ma.hit_rates[2].bets
        ),
        (1, 1, 0)
    );
    // zone_matchup: 20 vs 22.5 is UNDER at edge 2.5, and 30 went over: a loss.
    assert_eq!(
        (metrics[1].hit_rates[1].bets, metrics[1].hit_rates[1].wins),
        (1, 0)
    );
}
