//! Configuration, layered (figment): built-in defaults < `propcast.toml`
//! (or `--config FILE`) < `PROPCAST_*` environment < command-line flags.
//!
//! Backends are chosen by URI, one per concern (after quickwit's
//! `metastore_uri` / `default_index_root_uri`):
//!
//! | key         | URIs                                                       |
//! |-------------|------------------------------------------------------------|
//! | `warehouse` | `duckdb://PATH`, `bigquery://PROJECT[/DATASET_PREFIX]`     |
//! | `state`     | `sqlite://PATH`, `firestore://PROJECT[/DATABASE]`          |
//! | `bus`       | `sqlite://PATH`, `pubsub://PROJECT`                        |
//! | `landing`   | `file://DIR` or a plain path, `gs://BUCKET[/PREFIX]`       |
//! | `data_dir`  | a path: local files (models), and the embedded defaults    |
//!
//! Unset backends default to the embedded ones in `data_dir`
//! (`duckdb://DATA_DIR/warehouse.duckdb`, `sqlite://DATA_DIR/state.sqlite`
//! for the state store and the bus). Emulator endpoints come from the usual
//! `FIRESTORE_EMULATOR_HOST`, `PUBSUB_EMULATOR_HOST`,
//! `BIGQUERY_EMULATOR_HOST` and `STORAGE_EMULATOR_HOST` variables, never
//! from the URI. Every value remembers where it came from, for
//! `propcast config`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Serialize};

/// The configuration file read when present and no `--config` is given.
pub const DEFAULT_CONFIG_FILE: &str = "propcast.toml";
/// The default data directory (relative to the working directory).
pub const DEFAULT_DATA_DIR: &str = "propcast-data";
/// The keys a configuration holds, in the order `propcast config` prints.
pub const KEYS: [&str; 5] = ["data_dir", "warehouse", "state", "bus", "landing"];

/// The embedded warehouse file in the data directory.
pub const EMBEDDED_WAREHOUSE_FILE: &str = "warehouse.duckdb";
/// The embedded state store and event bus file in the data directory.
pub const EMBEDDED_STATE_FILE: &str = "state.sqlite";

const SOURCE_DEFAULT: &str = "default";
const SOURCE_FLAG: &str = "command-line flag";

/// The raw values of one layer, as strings (absent when the layer does not
/// set them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bus: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landing: Option<String>,
}

/// Where the warehouse lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarehouseUri {
    DuckDb(PathBuf),
    BigQuery {
        project: String,
        dataset_prefix: String,
    },
}

/// Where the state store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateUri {
    Sqlite(PathBuf),
    Firestore {
        project: String,
        database: Option<String>,
    },
}

/// Where the event bus lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusUri {
    Sqlite(PathBuf),
    PubSub { project: String },
}

/// Where the scraped payloads are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LandingUri {
    File(PathBuf),
    Gcs { bucket: String, prefix: String },
}

/// A value and the layer it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sourced {
    pub value: String,
    pub source: String,
}

/// The effective configuration: every backend resolved, and where each
/// value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub data_dir: PathBuf,
    pub warehouse: WarehouseUri,
    pub state: StateUri,
    pub bus: BusUri,
    /// `None` when no layer names a landing zone (commands that read
    /// payloads ask for one: [`Config::require_landing`]).
    pub landing: Option<LandingUri>,
    /// Key → value and source, for every key in [`KEYS`] that has a value.
    pub sources: BTreeMap<&'static str, Sourced>,
    /// The configuration file read, if any.
    pub file: Option<PathBuf>,
}

/// A configuration that cannot be used; each message names the key, the
/// value, where it came from and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "configuration file {path} does not exist: pass an existing file with --config or PROPCAST_CONFIG, or drop the option to use the defaults"
    )]
    MissingFile { path: PathBuf },
    #[error("configuration: {message}")]
    Unreadable { message: String },
    #[error("configuration: {key} = {value:?} (from {origin}): {problem}; {hint}")]
    BadValue {
        key: &'static str,
        value: String,
        origin: String,
        problem: String,
        hint: String,
    },
    #[error(
        "configuration: no landing zone: pass --landing DIR (a folder holding nba-com/ and odds-api/), set PROPCAST_LANDING, or `landing = \"file://DIR\"` in propcast.toml"
    )]
    NoLanding,
}

/// The layers below the flags: the file (explicit, or `./propcast.toml`
/// when present) and the environment.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    /// `--config FILE` (must exist).
    pub file: Option<PathBuf>,
    /// The environment variables to read (`PROPCAST_*`); `None` reads the
    /// process environment. Tests pass their own.
    pub env: Option<BTreeMap<String, String>>,
    /// Where `propcast.toml` is looked for when `file` is `None`
    /// (default: the working directory).
    pub dir: Option<PathBuf>,
}

/// One layer with a readable name, for provenance.
struct Named {
    name: String,
    settings: Settings,
}

impl Provider for Named {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name.clone())
    }

    fn data(&self) -> Result<figment::value::Map<Profile, figment::value::Dict>, figment::Error> {
        Serialized::defaults(&self.settings).data()
    }
}

impl Config {
    /// The embedded default on `data_dir`, with nothing else set (what a
    /// bare command line gives).
    pub fn embedded(data_dir: &Path, landing: Option<&Path>) -> Config {
        Config::resolve(
            &Layers {
                env: Some(BTreeMap::new()),
                dir: Some(PathBuf::from("/nonexistent-propcast-config-dir")),
                ..Layers::default()
            },
            &Settings {
                data_dir: Some(data_dir.display().to_string()),
                landing: landing.map(|p| p.display().to_string()),
                ..Settings::default()
            },
        )
        .expect("the embedded default is a valid configuration")
    }

    /// Resolves defaults < file < environment < `flags`.
    pub fn resolve(layers: &Layers, flags: &Settings) -> Result<Config, ConfigError> {
        let file = match &layers.file {
            Some(path) if !path.is_file() => {
                return Err(ConfigError::MissingFile { path: path.clone() });
            }
            Some(path) => Some(path.clone()),
            None => {
                let dir = layers.dir.clone().unwrap_or_else(|| PathBuf::from("."));
                let candidate = dir.join(DEFAULT_CONFIG_FILE);
                candidate.is_file().then_some(candidate)
            }
        };
        let mut figment = Figment::new().merge(Named {
            name: SOURCE_DEFAULT.to_string(),
            settings: Settings {
                data_dir: Some(DEFAULT_DATA_DIR.to_string()),
                ..Settings::default()
            },
        });
        if let Some(path) = &file {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = match &layers.env {
            None => figment.merge(Env::prefixed("PROPCAST_").only(&KEYS)),
            Some(vars) => figment.merge(Named {
                name: "`PROPCAST_` environment variable(s)".to_string(),
                settings: settings_from_env(vars),
            }),
        };
        figment = figment.merge(Named {
            name: SOURCE_FLAG.to_string(),
            settings: flags.clone(),
        });
        let settings: Settings = figment.extract().map_err(|e| ConfigError::Unreadable {
            message: format!(
                "{e} (keys: {}; see docs/OPERATIONS.md#configuration)",
                KEYS.join(", ")
            ),
        })?;

        let source_of = |key: &str| -> String {
            figment
                .find_metadata(key)
                .map(describe)
                .unwrap_or_else(|| SOURCE_DEFAULT.to_string())
        };
        let mut sources = BTreeMap::new();
        let data_dir_text = settings
            .data_dir
            .clone()
            .unwrap_or_else(|| DEFAULT_DATA_DIR.to_string());
        sources.insert(
            "data_dir",
            Sourced {
                value: data_dir_text.clone(),
                source: source_of("data_dir"),
            },
        );
        let data_dir = PathBuf::from(&data_dir_text);
        let derived = format!("default (from data_dir {data_dir_text})");
        let embedded_state = format!("sqlite://{}", data_dir.join(EMBEDDED_STATE_FILE).display());

        let mut pick = |key: &'static str, value: &Option<String>, fallback: String| {
            let sourced = match value {
                Some(v) => Sourced {
                    value: v.clone(),
                    source: source_of(key),
                },
                None => Sourced {
                    value: fallback,
                    source: derived.clone(),
                },
            };
            sources.insert(key, sourced.clone());
            sourced
        };
        let warehouse = pick(
            "warehouse",
            &settings.warehouse,
            format!(
                "duckdb://{}",
                data_dir.join(EMBEDDED_WAREHOUSE_FILE).display()
            ),
        );
        let state = pick("state", &settings.state, embedded_state.clone());
        let bus = pick("bus", &settings.bus, embedded_state);
        let warehouse = parse_warehouse(&warehouse)?;
        let state = parse_state(&state)?;
        let bus = parse_bus(&bus)?;
        let landing = match &settings.landing {
            Some(value) => {
                let sourced = Sourced {
                    value: value.clone(),
                    source: source_of("landing"),
                };
                sources.insert("landing", sourced.clone());
                Some(parse_landing(&sourced)?)
            }
            None => None,
        };
        Ok(Config {
            data_dir,
            warehouse,
            state,
            bus,
            landing,
            sources,
            file,
        })
    }

    /// The landing zone, or the error that says how to name one.
    pub fn require_landing(&self) -> Result<&LandingUri, ConfigError> {
        self.landing.as_ref().ok_or(ConfigError::NoLanding)
    }

    /// Whether every backend is the embedded one.
    pub fn is_embedded(&self) -> bool {
        matches!(self.warehouse, WarehouseUri::DuckDb(_))
            && matches!(self.state, StateUri::Sqlite(_))
            && matches!(self.bus, BusUri::Sqlite(_))
            && !matches!(self.landing, Some(LandingUri::Gcs { .. }))
    }

    /// A readable table of the effective configuration: key, value, source.
    pub fn render(&self) -> String {
        let width = KEYS.iter().map(|k| k.len()).max().unwrap_or(0);
        let mut out = String::new();
        match &self.file {
            Some(path) => out.push_str(&format!("# configuration file: {}\n", path.display())),
            None => out.push_str(&format!(
                "# configuration file: none ({DEFAULT_CONFIG_FILE} not found; --config FILE names one)\n"
            )),
        }
        for key in KEYS {
            match self.sources.get(key) {
                Some(s) => out.push_str(&format!(
                    "{key:<width$} = {:<48} # {}\n",
                    quote(&s.value),
                    s.source
                )),
                None => out.push_str(&format!(
                    "{key:<width$}   (not set)                                        # pass --{} or set PROPCAST_{}\n",
                    key.replace('_', "-"),
                    key.to_uppercase()
                )),
            }
        }
        for (var, what) in EMULATOR_VARIABLES {
            if let Ok(value) = std::env::var(var)
                && !value.is_empty()
            {
                out.push_str(&format!("# {var}={value} ({what} emulator)\n"));
            }
        }
        out
    }

    /// The same as JSON: `{key: {value, source}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for key in KEYS {
            if let Some(s) = self.sources.get(key) {
                map.insert(
                    key.to_string(),
                    serde_json::json!({"value": s.value, "source": s.source}),
                );
            }
        }
        serde_json::Value::Object(map)
    }
}

/// The emulator variables the cloud backends honour.
pub const EMULATOR_VARIABLES: [(&str, &str); 4] = [
    ("BIGQUERY_EMULATOR_HOST", "BigQuery"),
    ("FIRESTORE_EMULATOR_HOST", "Firestore"),
    ("PUBSUB_EMULATOR_HOST", "Pub/Sub"),
    ("STORAGE_EMULATOR_HOST", "Cloud Storage"),
];

fn quote(value: &str) -> String {
    format!("{value:?}")
}

fn describe(metadata: &Metadata) -> String {
    match &metadata.source {
        Some(figment::Source::File(path)) => format!("file {}", path.display()),
        _ if metadata.name.contains("environment") => "environment (PROPCAST_*)".to_string(),
        _ => metadata.name.to_string(),
    }
}

fn settings_from_env(vars: &BTreeMap<String, String>) -> Settings {
    let get = |key: &str| {
        vars.get(&format!("PROPCAST_{}", key.to_uppercase()))
            .cloned()
    };
    Settings {
        data_dir: get("data_dir"),
        warehouse: get("warehouse"),
        state: get("state"),
        bus: get("bus"),
        landing: get("landing"),
    }
}

fn bad(
    key: &'static str,
    sourced: &Sourced,
    problem: impl fmt::Display,
    hint: &str,
) -> ConfigError {
    ConfigError::BadValue {
        key,
        value: sourced.value.clone(),
        origin: sourced.source.clone(),
        problem: problem.to_string(),
        hint: hint.to_string(),
    }
}

/// `scheme://rest`, or `None` without a scheme.
fn split_scheme(value: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = value.split_once("://")?;
    let valid = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.');
    valid.then_some((scheme, rest))
}

/// A path after `scheme://` (`duckdb:///abs/file`, `duckdb://rel/file`).
fn path_part(
    key: &'static str,
    sourced: &Sourced,
    rest: &str,
    hint: &str,
) -> Result<PathBuf, ConfigError> {
    if rest.is_empty() {
        return Err(bad(key, sourced, "the URI has no path", hint));
    }
    Ok(PathBuf::from(rest))
}

/// Google project ids: 6–30 characters, lowercase letters, digits and
/// hyphens, starting with a letter (emulators accept more; so do we, but
/// never an empty id or one with a slash or space).
fn project_part<'a>(
    key: &'static str,
    sourced: &Sourced,
    rest: &'a str,
    hint: &str,
) -> Result<(&'a str, Option<&'a str>), ConfigError> {
    let (project, tail) = match rest.split_once('/') {
        Some((p, t)) => (p, Some(t.trim_end_matches('/')).filter(|t| !t.is_empty())),
        None => (rest, None),
    };
    if project.is_empty() {
        return Err(bad(key, sourced, "the URI names no project", hint));
    }
    if !project
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':' || c == '.')
    {
        return Err(bad(
            key,
            sourced,
            format!("{project:?} is not a Google Cloud project id"),
            hint,
        ));
    }
    Ok((project, tail))
}

const WAREHOUSE_HINT: &str = "use duckdb://PATH (embedded) or bigquery://PROJECT[/DATASET_PREFIX]";
const STATE_HINT: &str = "use sqlite://PATH (embedded) or firestore://PROJECT[/DATABASE]";
const BUS_HINT: &str = "use sqlite://PATH (embedded) or pubsub://PROJECT";
const LANDING_HINT: &str = "use a folder path, file://DIR or gs://BUCKET[/PREFIX]";

fn parse_warehouse(s: &Sourced) -> Result<WarehouseUri, ConfigError> {
    let key = "warehouse";
    match split_scheme(&s.value) {
        Some(("duckdb", rest)) => Ok(WarehouseUri::DuckDb(path_part(
            key,
            s,
            rest,
            WAREHOUSE_HINT,
        )?)),
        Some(("bigquery", rest)) => {
            let (project, prefix) = project_part(key, s, rest, WAREHOUSE_HINT)?;
            let prefix = prefix.unwrap_or("");
            if !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(bad(
                    key,
                    s,
                    format!(
                        "dataset prefix {prefix:?} may hold only letters, digits and underscores"
                    ),
                    "e.g. bigquery://my-project/prod_",
                ));
            }
            Ok(WarehouseUri::BigQuery {
                project: project.to_string(),
                dataset_prefix: prefix.to_string(),
            })
        }
        Some((scheme, _)) => Err(bad(
            key,
            s,
            format!("unknown scheme {scheme:?}"),
            WAREHOUSE_HINT,
        )),
        None => Err(bad(key, s, "not a URI (no scheme://)", WAREHOUSE_HINT)),
    }
}

fn parse_state(s: &Sourced) -> Result<StateUri, ConfigError> {
    let key = "state";
    match split_scheme(&s.value) {
        Some(("sqlite", rest)) => Ok(StateUri::Sqlite(path_part(key, s, rest, STATE_HINT)?)),
        Some(("firestore", rest)) => {
            let (project, database) = project_part(key, s, rest, STATE_HINT)?;
            if database.is_some_and(|d| d.contains('/')) {
                return Err(bad(key, s, "too many path segments", STATE_HINT));
            }
            Ok(StateUri::Firestore {
                project: project.to_string(),
                database: database.map(str::to_string),
            })
        }
        Some((scheme, _)) => Err(bad(
            key,
            s,
            format!("unknown scheme {scheme:?}"),
            STATE_HINT,
        )),
        None => Err(bad(key, s, "not a URI (no scheme://)", STATE_HINT)),
    }
}

fn parse_bus(s: &Sourced) -> Result<BusUri, ConfigError> {
    let key = "bus";
    match split_scheme(&s.value) {
        Some(("sqlite", rest)) => Ok(BusUri::Sqlite(path_part(key, s, rest, BUS_HINT)?)),
        Some(("pubsub", rest)) => {
            let (project, tail) = project_part(key, s, rest, BUS_HINT)?;
            if tail.is_some() {
                return Err(bad(
                    key,
                    s,
                    "a Pub/Sub URI names only the project (topics come from the event catalog)",
                    BUS_HINT,
                ));
            }
            Ok(BusUri::PubSub {
                project: project.to_string(),
            })
        }
        Some((scheme, _)) => Err(bad(key, s, format!("unknown scheme {scheme:?}"), BUS_HINT)),
        None => Err(bad(key, s, "not a URI (no scheme://)", BUS_HINT)),
    }
}

fn parse_landing(s: &Sourced) -> Result<LandingUri, ConfigError> {
    let key = "landing";
    match split_scheme(&s.value) {
        Some(("file", rest)) => Ok(LandingUri::File(path_part(key, s, rest, LANDING_HINT)?)),
        Some(("gs", rest)) => {
            let (bucket, prefix) = match rest.split_once('/') {
                Some((b, p)) => (b, p.trim_matches('/')),
                None => (rest, ""),
            };
            if bucket.is_empty() {
                return Err(bad(key, s, "the URI names no bucket", LANDING_HINT));
            }
            Ok(LandingUri::Gcs {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
            })
        }
        Some((scheme, _)) => Err(bad(
            key,
            s,
            format!("unknown scheme {scheme:?}"),
            LANDING_HINT,
        )),
        None if s.value.is_empty() => Err(bad(key, s, "empty", LANDING_HINT)),
        // A plain path keeps working as before.
        None => Ok(LandingUri::File(PathBuf::from(&s.value))),
    }
}

impl fmt::Display for WarehouseUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WarehouseUri::DuckDb(path) => write!(f, "duckdb://{}", path.display()),
            WarehouseUri::BigQuery {
                project,
                dataset_prefix,
            } => write!(f, "bigquery://{project}/{dataset_prefix}"),
        }
    }
}

impl fmt::Display for StateUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateUri::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            StateUri::Firestore { project, database } => match database {
                Some(db) => write!(f, "firestore://{project}/{db}"),
                None => write!(f, "firestore://{project}"),
            },
        }
    }
}

impl fmt::Display for BusUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BusUri::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            BusUri::PubSub { project } => write!(f, "pubsub://{project}"),
        }
    }
}

impl fmt::Display for LandingUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LandingUri::File(path) => write!(f, "{}", path.display()),
            LandingUri::Gcs { bucket, prefix } => write!(f, "gs://{bucket}/{prefix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn layers(dir: &Path, vars: &[(&str, &str)]) -> Layers {
        Layers {
            file: None,
            env: Some(env(vars)),
            dir: Some(dir.to_path_buf()),
        }
    }

    #[test]
    fn bare_defaults_are_the_embedded_files_in_propcast_data() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::resolve(&layers(dir.path(), &[]), &Settings::default()).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("propcast-data"));
        assert_eq!(
            config.warehouse,
            WarehouseUri::DuckDb(PathBuf::from("propcast-data/warehouse.duckdb"))
        );
        assert_eq!(
            config.state,
            StateUri::Sqlite(PathBuf::from("propcast-data/state.sqlite"))
        );
        assert_eq!(
            config.bus,
            BusUri::Sqlite(PathBuf::from("propcast-data/state.sqlite"))
        );
        assert_eq!(config.landing, None);
        assert!(config.is_embedded());
        assert_eq!(config.sources["data_dir"].source, "default");
        assert!(
            config.sources["warehouse"]
                .source
                .starts_with("default (from data_dir")
        );
        assert!(matches!(
            config.require_landing(),
            Err(ConfigError::NoLanding)
        ));
    }

    #[test]
    fn file_then_environment_then_flag_each_win_over_the_layer_below() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("propcast.toml"),
            "warehouse = \"bigquery://from-file/f_\"\nstate = \"firestore://from-file\"\nbus = \"pubsub://from-file\"\nlanding = \"gs://bucket/from-file\"\n",
        )
        .unwrap();
        // The file alone.
        let config = Config::resolve(&layers(dir.path(), &[]), &Settings::default()).unwrap();
        assert_eq!(
            config.warehouse,
            WarehouseUri::BigQuery {
                project: "from-file".into(),
                dataset_prefix: "f_".into()
            }
        );
        assert_eq!(
            config.landing,
            Some(LandingUri::Gcs {
                bucket: "bucket".into(),
                prefix: "from-file".into()
            })
        );
        let file_source = config.sources["warehouse"].source.clone();
        assert!(file_source.starts_with("file "), "{file_source}");
        assert!(file_source.ends_with("propcast.toml"), "{file_source}");
        assert!(!config.is_embedded());

        // The environment over the file.
        let vars = [
            ("PROPCAST_WAREHOUSE", "bigquery://from-env"),
            ("PROPCAST_STATE", "sqlite:///tmp/env.sqlite"),
        ];
        let config = Config::resolve(&layers(dir.path(), &vars), &Settings::default()).unwrap();
        assert_eq!(
            config.warehouse,
            WarehouseUri::BigQuery {
                project: "from-env".into(),
                dataset_prefix: String::new()
            }
        );
        assert_eq!(
            config.state,
            StateUri::Sqlite(PathBuf::from("/tmp/env.sqlite"))
        );
        assert_eq!(
            config.sources["warehouse"].source,
            "environment (PROPCAST_*)"
        );
        assert_eq!(
            config.bus,
            BusUri::PubSub {
                project: "from-file".into()
            }
        );

        // A flag over both.
        let flags = Settings {
            warehouse: Some("duckdb:///tmp/flag.duckdb".into()),
            landing: Some("/data/landing".into()),
            ..Settings::default()
        };
        let config = Config::resolve(&layers(dir.path(), &vars), &flags).unwrap();
        assert_eq!(
            config.warehouse,
            WarehouseUri::DuckDb(PathBuf::from("/tmp/flag.duckdb"))
        );
        assert_eq!(config.sources["warehouse"].source, "command-line flag");
        assert_eq!(
            config.landing,
            Some(LandingUri::File(PathBuf::from("/data/landing")))
        );
        assert_eq!(config.sources["state"].source, "environment (PROPCAST_*)");
        assert!(config.sources["bus"].source.starts_with("file "));
    }

    #[test]
    fn the_data_dir_moves_every_embedded_default() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::resolve(
            &layers(dir.path(), &[("PROPCAST_DATA_DIR", "/srv/propcast")]),
            &Settings::default(),
        )
        .unwrap();
        assert_eq!(
            config.warehouse,
            WarehouseUri::DuckDb(PathBuf::from("/srv/propcast/warehouse.duckdb"))
        );
        assert_eq!(
            config.state,
            StateUri::Sqlite(PathBuf::from("/srv/propcast/state.sqlite"))
        );
        assert_eq!(
            config.sources["warehouse"].source,
            "default (from data_dir /srv/propcast)"
        );
    }

    #[test]
    fn an_explicit_file_that_does_not_exist_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let layers = Layers {
            file: Some(dir.path().join("nope.toml")),
            ..layers(dir.path(), &[])
        };
        let err = Config::resolve(&layers, &Settings::default()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("nope.toml") && text.contains("does not exist"),
            "{text}"
        );
    }

    #[test]
    fn an_unknown_key_in_the_file_names_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("propcast.toml"),
            "warehous = \"duckdb://x\"\n",
        )
        .unwrap();
        let err = Config::resolve(&layers(dir.path(), &[]), &Settings::default()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("warehous"), "{text}");
        assert!(text.contains("keys: data_dir, warehouse"), "{text}");
    }

    fn error_for(key: &str, value: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let var = format!("PROPCAST_{}", key.to_uppercase());
        Config::resolve(&layers(dir.path(), &[(&var, value)]), &Settings::default())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn each_bad_value_names_the_key_the_value_its_source_and_what_to_use() {
        let cases = [
            (
                "warehouse",
                "postgres://db/x",
                "unknown scheme \"postgres\"",
                "duckdb://PATH",
            ),
            (
                "warehouse",
                "warehouse.duckdb",
                "not a URI",
                "bigquery://PROJECT",
            ),
            ("warehouse", "duckdb://", "no path", "duckdb://PATH"),
            (
                "warehouse",
                "bigquery://",
                "no project",
                "bigquery://PROJECT",
            ),
            (
                "warehouse",
                "bigquery://p/bad-prefix",
                "letters, digits and underscores",
                "bigquery://my-project/prod_",
            ),
            (
                "warehouse",
                "bigquery://my project",
                "not a Google Cloud project id",
                "bigquery://",
            ),
            (
                "state",
                "redis://localhost",
                "unknown scheme \"redis\"",
                "firestore://PROJECT",
            ),
            (
                "state",
                "firestore://p/db/extra",
                "too many path segments",
                "firestore://PROJECT",
            ),
            (
                "bus",
                "kafka://broker",
                "unknown scheme \"kafka\"",
                "pubsub://PROJECT",
            ),
            (
                "bus",
                "pubsub://p/topic",
                "names only the project",
                "pubsub://PROJECT",
            ),
            (
                "landing",
                "s3://bucket/x",
                "unknown scheme \"s3\"",
                "gs://BUCKET",
            ),
            ("landing", "gs://", "no bucket", "gs://BUCKET"),
        ];
        for (key, value, problem, hint) in cases {
            let text = error_for(key, value);
            assert!(
                text.contains(&format!("{key} = {value:?}")),
                "{key}={value}: {text}"
            );
            assert!(
                text.contains("environment (PROPCAST_*)"),
                "{key}={value}: {text}"
            );
            assert!(text.contains(problem), "{key}={value}: {text}");
            assert!(text.contains(hint), "{key}={value}: {text}");
        }
    }

    #[test]
    fn a_plain_landing_path_and_file_uris_are_the_same_folder() {
        for value in ["../shared/data/landing", "file://../shared/data/landing"] {
            let dir = tempfile::tempdir().unwrap();
            let config = Config::resolve(
                &layers(dir.path(), &[("PROPCAST_LANDING", value)]),
                &Settings::default(),
            )
            .unwrap();
            assert_eq!(
                config.landing,
                Some(LandingUri::File(PathBuf::from("../shared/data/landing")))
            );
        }
    }

    #[test]
    fn render_lists_every_key_with_its_source() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::resolve(
            &layers(dir.path(), &[("PROPCAST_BUS", "pubsub://proj-1")]),
            &Settings {
                landing: Some("landing".into()),
                ..Settings::default()
            },
        )
        .unwrap();
        let text = config.render();
        assert!(text.contains("bus       = \"pubsub://proj-1\""), "{text}");
        assert!(text.contains("# environment (PROPCAST_*)"), "{text}");
        assert!(text.contains("landing   = \"landing\""), "{text}");
        assert!(text.contains("# command-line flag"), "{text}");
        assert!(text.contains("configuration file: none"), "{text}");
        let json = config.to_json();
        assert_eq!(json["bus"]["value"], "pubsub://proj-1");
    }
}
