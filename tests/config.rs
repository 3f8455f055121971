//! `propcast config` through the real binary: the layers' precedence
//! (propcast.toml < PROPCAST_* environment < flag), the sources it prints,
//! and a bad value stopping a command before any work, naming the key.

use std::path::Path;
use std::process::{Command, Output};

fn propcast(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_propcast"));
    cmd.current_dir(dir).args(args);
    for var in [
        "PROPCAST_WAREHOUSE",
        "PROPCAST_STATE",
        "PROPCAST_BUS",
        "PROPCAST_LANDING",
        "PROPCAST_DATA_DIR",
        "PROPCAST_CONFIG",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run propcast")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn file_environment_and_flag_layer_in_that_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("propcast.toml"),
        "warehouse = \"duckdb://from-file.duckdb\"\nstate = \"sqlite://file.sqlite\"\nbus = \"sqlite://file-bus.sqlite\"\nlanding = \"landing-from-file\"\n",
    )
    .unwrap();
    let env = [
        ("PROPCAST_STATE", "sqlite://env.sqlite"),
        ("PROPCAST_BUS", "sqlite://env-bus.sqlite"),
    ];
    let out = propcast(
        dir.path(),
        &[
            "config",
            "--format",
            "json",
            "--bus",
            "sqlite://flag-bus.sqlite",
        ],
        &env,
    );
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["warehouse"]["value"], "duckdb://from-file.duckdb");
    assert!(
        json["warehouse"]["source"]
            .as_str()
            .unwrap()
            .ends_with("propcast.toml")
    );
    assert_eq!(json["state"]["value"], "sqlite://env.sqlite");
    assert_eq!(json["state"]["source"], "environment (PROPCAST_*)");
    assert_eq!(json["bus"]["value"], "sqlite://flag-bus.sqlite");
    assert_eq!(json["bus"]["source"], "command-line flag");
    assert_eq!(json["landing"]["value"], "landing-from-file");
    assert_eq!(json["data_dir"]["source"], "default");
}

#[test]
fn a_bad_uri_stops_a_backfill_before_any_work_naming_key_value_and_remedy() {
    let dir = tempfile::tempdir().unwrap();
    let out = propcast(
        dir.path(),
        &[
            "backfill",
            "--landing",
            "nowhere",
            "--warehouse",
            "bigquery:/my-project",
        ],
        &[],
    );
    assert!(!out.status.success());
    let message = text(&out);
    assert!(
        message.contains("warehouse = \"bigquery:/my-project\""),
        "{message}"
    );
    assert!(message.contains("(from command-line flag)"), "{message}");
    assert!(message.contains("bigquery://PROJECT"), "{message}");
    // Nothing was created: the error came before any backend was opened.
    assert!(!dir.path().join("propcast-data").exists());

    let out = propcast(
        dir.path(),
        &["query", "SELECT 1"],
        &[("PROPCAST_STATE", "redis://x")],
    );
    assert!(!out.status.success());
    let message = text(&out);
    assert!(
        message.contains("state = \"redis://x\" (from environment (PROPCAST_*))"),
        "{message}"
    );
    assert!(message.contains("unknown scheme \"redis\""), "{message}");
}

#[test]
fn a_missing_config_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = propcast(dir.path(), &["--config", "missing.toml", "config"], &[]);
    assert!(!out.status.success());
    let message = text(&out);
    assert!(
        message.contains("missing.toml") && message.contains("does not exist"),
        "{message}"
    );
}

/// deploy/bigquery is what `propcast schema bigquery` generates from the
/// table catalog today; a column added to the catalog without regenerating
/// fails here, naming the file.
#[test]
fn deploy_bigquery_matches_the_table_catalog() {
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/bigquery");
    let work = tempfile::tempdir().unwrap();
    let out = propcast(
        work.path(),
        &[
            "schema",
            "bigquery",
            "--check",
            "--out",
            deploy.to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    // One schema per table, and create.sh.
    let files = format!(
        "{} files match",
        propcast_core::tables::ALL_TABLES.len() + 1
    );
    assert!(text(&out).contains(&files), "{}", text(&out));

    // A copy with one schema changed is caught, by name.
    let copy = work.path().join("bigquery");
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(&deploy).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    let victim = copy.join("nba_raw.player_boxscores.json");
    let edited = std::fs::read_to_string(&victim)
        .unwrap()
        .replacen("\"INT64\"", "\"STRING\"", 1);
    std::fs::write(&victim, edited).unwrap();
    let out = propcast(
        work.path(),
        &[
            "schema",
            "bigquery",
            "--check",
            "--out",
            copy.to_str().unwrap(),
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("nba_raw.player_boxscores.json"),
        "{}",
        text(&out)
    );
}
