//! The Cloud Monitoring files under `deploy/monitoring/` against the code
//! (issue 14). `scripts/lint-deploy.sh` checks their shape with JSON
//! schemas; this checks what a schema cannot:
//! - each log-based metric's filter matches the run-history event the code
//!   logs (`propcast_patterns::run::log_recorded_run`, in the services' JSON
//!   log format, `propcast::cli::json_logs`), and every field it extracts is
//!   in that event;
//! - every metric an alert policy or the dashboard names is defined, with
//!   the labels it filters or groups on, and every label value it compares
//!   is one the code emits;
//! - the phase-duration policy's thresholds are `propcast slo`'s targets.

use chrono::{TimeZone, Utc};
use propcast_core::RunStatus;
use propcast_core::tables::ProcessorRun;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

const MONITORING: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/monitoring");

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn files(dir: &str) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(Path::new(MONITORING).join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.display().to_string(), read(&p)))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!out.is_empty(), "no files in deploy/monitoring/{dir}");
    out
}

/// A writer the JSON subscriber writes into.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn run(processor: &str, phase: i64, status: RunStatus, quarantined: i64) -> ProcessorRun {
    let at = Utc.with_ymd_and_hms(2025, 11, 3, 11, 20, 0).unwrap();
    ProcessorRun {
        run_id: "r1".into(),
        execution_id: "e1".into(),
        correlation_id: "c1".into(),
        processor: processor.into(),
        phase,
        game_date: at.date_naive(),
        status,
        skip_reason: None,
        error: None,
        round_id: "e1".into(),
        entities_in_scope: None,
        entities_changed: None,
        rows_written: 480,
        records_quarantined: quarantined,
        duration_ms: 1234,
        mode: "same_day".into(),
        started_at: at,
        finished_at: at,
    }
}

/// The JSON lines the services log for `runs`.
fn logged(runs: &[ProcessorRun]) -> Vec<Value> {
    let captured = Captured::default();
    let subscriber =
        propcast::cli::json_logs(tracing_subscriber::EnvFilter::new("info"), captured.clone());
    tracing::dispatcher::with_default(&subscriber, || {
        runs.iter()
            .for_each(propcast_patterns::run::log_recorded_run)
    });
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), runs.len(), "one event per run: {text}");
    lines
}

/// `jsonPayload.a.b` in a logged line.
fn field<'a>(line: &'a Value, path: &str) -> Option<&'a Value> {
    let rest = path.strip_prefix("jsonPayload.")?;
    rest.split('.').try_fold(line, |v, key| v.get(key))
}

/// Whether a Logging filter of `a="b" AND …` clauses matches a line
/// logged by a Cloud Run service (`resource.type` is Cloud Run's).
fn matches(filter: &str, line: &Value) -> bool {
    filter.split(" AND ").all(|clause| {
        let (path, value) = clause
            .split_once('=')
            .unwrap_or_else(|| panic!("clause {clause:?} of {filter:?} is not a=\"b\""));
        let value = value.trim_matches('"');
        if path == "resource.type" {
            return value == "cloud_run_revision";
        }
        match field(line, path) {
            Some(Value::String(s)) => s == value,
            Some(other) => serde_json::from_str::<Value>(value).ok().as_ref() == Some(other),
            None => false,
        }
    })
}

fn extracted(extractor: &str) -> &str {
    extractor
        .strip_prefix("EXTRACT(")
        .and_then(|e| e.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{extractor:?} is not EXTRACT(path)"))
}

#[test]
fn log_metrics_match_the_event_the_code_logs() {
    let runs = [
        run("player_props", 2, RunStatus::Partial, 20),
        run("player_game_summary", 3, RunStatus::Failed, 0),
        run(propcast::slo::READY_PROCESSOR, 5, RunStatus::Success, 0),
    ];
    let lines = logged(&runs);
    for (path, metric) in files("log-metrics") {
        let filter = metric["filter"].as_str().unwrap();
        let matched: Vec<&Value> = lines.iter().filter(|l| matches(filter, l)).collect();
        assert!(
            !matched.is_empty(),
            "{path}: its filter matches no run event: {filter}"
        );
        if metric["name"] == "propcast_records_quarantined" {
            assert_eq!(
                matched.len(),
                1,
                "{path}: only the run with quarantined records"
            );
            assert_eq!(
                field(matched[0], "jsonPayload.fields.records_quarantined"),
                Some(&Value::from(20))
            );
        } else {
            assert_eq!(matched.len(), runs.len(), "{path}: every run event");
        }
        let labels: BTreeSet<&str> = metric["metricDescriptor"]["labels"]
            .as_array()
            .map(|ls| ls.iter().map(|l| l["key"].as_str().unwrap()).collect())
            .unwrap_or_default();
        let extractors = metric["labelExtractors"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            labels,
            extractors.keys().map(String::as_str).collect(),
            "{path}: one extractor per label"
        );
        for (label, extractor) in &extractors {
            let from = extracted(extractor.as_str().unwrap());
            for line in &matched {
                let v = field(line, from)
                    .unwrap_or_else(|| panic!("{path}: label {label}: no {from} in {line}"));
                assert!(v.is_string() || v.is_number(), "{path}: {from} is {v}");
            }
        }
        if let Some(extractor) = metric["valueExtractor"].as_str() {
            let from = extracted(extractor);
            for line in &matched {
                assert!(
                    field(line, from).is_some_and(Value::is_number),
                    "{path}: the value {from} is not a number in {line}"
                );
            }
        }
    }
}

/// Every `metric.type="logging.googleapis.com/user/NAME"` and
/// `metric.label.K="V"` / `metric.label.K` a filter or an aggregation names.
fn check_references(
    path: &str,
    filter: &str,
    group_by: &[String],
    metrics: &BTreeMap<String, BTreeSet<String>>,
) {
    let Some(name) = filter
        .split(" AND ")
        .find_map(|c| c.strip_prefix("metric.type=\"logging.googleapis.com/user/"))
        .map(|n| n.trim_end_matches('"'))
    else {
        // A built-in metric (Cloud Run, Pub/Sub): nothing of ours to check.
        return;
    };
    let labels = metrics
        .get(name)
        .unwrap_or_else(|| panic!("{path}: no log-based metric {name} in log-metrics/"));
    let statuses: BTreeSet<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
    for clause in filter.split(" AND ") {
        if let Some(rest) = clause.strip_prefix("metric.label.") {
            let (key, value) = rest.split_once('=').unwrap();
            let value = value.trim_matches('"');
            assert!(labels.contains(key), "{path}: {name} has no label {key}");
            match key {
                "status" => assert!(statuses.contains(value), "{path}: no status {value:?}"),
                "phase" => assert!(("2"..="5").contains(&value), "{path}: no phase {value:?}"),
                "processor" => assert_eq!(value, propcast::slo::READY_PROCESSOR, "{path}"),
                _ => {}
            }
        }
    }
    for field in group_by {
        if let Some(key) = field.strip_prefix("metric.label.") {
            assert!(
                labels.contains(key),
                "{path}: {name} has no label {key} to group by"
            );
        }
    }
}

fn log_metric_labels() -> BTreeMap<String, BTreeSet<String>> {
    files("log-metrics")
        .into_iter()
        .map(|(_, m)| {
            let labels = m["metricDescriptor"]["labels"]
                .as_array()
                .map(|ls| {
                    ls.iter()
                        .map(|l| l["key"].as_str().unwrap().to_string())
                        .collect()
                })
                .unwrap_or_default();
            (m["name"].as_str().unwrap().to_string(), labels)
        })
        .collect()
}

fn group_by(aggregation: &Value) -> Vec<String> {
    aggregation["groupByFields"]
        .as_array()
        .map(|g| g.iter().map(|f| f.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn alert_policies_and_the_dashboard_name_defined_metrics_and_labels() {
    let metrics = log_metric_labels();
    let mut checked = 0;
    for (path, policy) in files("alert-policies") {
        for condition in policy["conditions"].as_array().unwrap() {
            for kind in ["conditionThreshold", "conditionAbsent"] {
                let Some(c) = condition.get(kind) else {
                    continue;
                };
                let groups: Vec<String> = c["aggregations"]
                    .as_array()
                    .map(|a| a.iter().flat_map(group_by).collect())
                    .unwrap_or_default();
                check_references(&path, c["filter"].as_str().unwrap(), &groups, &metrics);
                checked += 1;
            }
            if let Some(promql) = condition.get("conditionPrometheusQueryLanguage") {
                let query = promql["query"].as_str().unwrap();
                let name = query
                    .split("logging_googleapis_com:user_")
                    .nth(1)
                    .and_then(|rest| rest.split(['{', '[', ')']).next())
                    .unwrap_or_else(|| panic!("{path}: no log-based metric in {query}"));
                let base = name.strip_suffix("_sum").unwrap_or(name);
                let labels = metrics
                    .get(base)
                    .unwrap_or_else(|| panic!("{path}: no log-based metric {base}"));
                if let Some(by) = query.split("by (").nth(1).and_then(|r| r.split(')').next()) {
                    for key in by.split(',').map(str::trim) {
                        assert!(labels.contains(key), "{path}: {base} has no label {key}");
                    }
                }
                checked += 1;
            }
        }
    }
    let dashboard = read(&Path::new(MONITORING).join("dashboard.json"));
    for tile in dashboard["mosaicLayout"]["tiles"].as_array().unwrap() {
        for set in tile["widget"]["xyChart"]["dataSets"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let f = &set["timeSeriesQuery"]["timeSeriesFilter"];
            check_references(
                "deploy/monitoring/dashboard.json",
                f["filter"].as_str().unwrap(),
                &group_by(&f["aggregation"]),
                &metrics,
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 10,
        "only {checked} conditions and charts checked"
    );
}

#[test]
fn the_phase_duration_policy_alerts_at_the_slo_targets() {
    let policy = read(&Path::new(MONITORING).join("alert-policies/phase-duration.json"));
    let mut thresholds = BTreeMap::new();
    for condition in policy["conditions"].as_array().unwrap() {
        let c = &condition["conditionThreshold"];
        let phase: i64 = c["filter"]
            .as_str()
            .unwrap()
            .split("metric.label.phase=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        thresholds.insert(phase, c["thresholdValue"].as_f64().unwrap() / 1000.0);
    }
    assert_eq!(
        thresholds,
        propcast::slo::Targets::default().phase_p95_seconds
    );
}
