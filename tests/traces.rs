//! Traces end to end, through the real exporter: the spans go over
//! OTLP/gRPC to a collector on loopback (opentelemetry-proto's
//! `TraceService`, in this process), exactly as they would to an
//! OpenTelemetry Collector or Jaeger.
//!
//! Two real dates of the landing zone run through the embedded event flow,
//! the coordinator sending its batches to a gRPC worker on loopback. The
//! second date's trace must be one chain: the landing span → each phase-2
//! processor run → the delivery of its completion to the orchestrator →
//! the orchestrator's decision that fired 2→3 → the delivery of the
//! trigger to the phase runner → the phase-3 processor runs, all one trace
//! id and one correlation id; the later phases too, down to the worker,
//! whose batch span is a child of the coordinator's call. A range run (the
//! backfill's default) is one trace too. A message pushed to a service
//! (`POST /pubsub/push`) is handled in a child of the span its
//! `traceparent` names. And the `propcast` binary exports its own spans
//! before it exits, the message it publishes naming them.

mod common;

use common::{landing_for, runtime};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use propcast::pipeline::{Backends, DateRun, Pipeline};
use propcast_platform::embedded::SqliteStateStore;
use propcast_platform::{Coordination, Delivery};
use propcast_prediction_worker::PredictionCoordinator;
use propcast_prediction_worker::grpc::{WorkerPool, WorkerService, serve_worker};
use propcast_service::{HandleError, PushHandler};
use propcast_telemetry::otlp::Exporter;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

const HISTORY: &str = "2025-11-01";
const DATE: &str = "2025-11-02";
/// The round of the date-by-date run (the range test runs the same dates
/// in a round of its own, in the same process).
const ROUND: &str = "traces";

/// One exported span, as the collector received it.
#[derive(Debug, Clone)]
struct Received {
    name: String,
    trace_id: String,
    span_id: String,
    parent: String,
    service: String,
    attributes: BTreeMap<String, String>,
}

impl Received {
    fn attr(&self, key: &str) -> &str {
        self.attributes.get(key).map(String::as_str).unwrap_or("")
    }
}

/// The collector: keeps every span it is sent.
#[derive(Default, Clone)]
struct Collector {
    spans: Arc<Mutex<Vec<Received>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.spans.lock().unwrap();
        for resource in request.into_inner().resource_spans {
            let service = resource
                .resource
                .iter()
                .flat_map(|r| r.attributes.iter())
                .find(|kv| kv.key == "service.name")
                .map(|kv| text(kv.value.as_ref().and_then(|v| v.value.as_ref())))
                .unwrap_or_default();
            for span in resource.scope_spans.into_iter().flat_map(|s| s.spans) {
                spans.push(Received {
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent: hex(&span.parent_span_id),
                    service: service.clone(),
                    attributes: span
                        .attributes
                        .iter()
                        .map(|kv| {
                            (
                                kv.key.clone(),
                                text(kv.value.as_ref().and_then(|v| v.value.as_ref())),
                            )
                        })
                        .collect(),
                });
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        _ => String::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The collector on loopback and the exporter sending to it, installed
/// as this test binary's subscriber.
struct Harness {
    collector: Collector,
    exporter: Exporter,
    /// Where the collector listens (`http://127.0.0.1:PORT`).
    endpoint: String,
}

impl Harness {
    /// Every span received so far, after flushing this process's exporter.
    fn received(&self) -> Vec<Received> {
        self.exporter.flush().unwrap();
        self.collector.spans.lock().unwrap().clone()
    }
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let collector = Collector::default();
        let (exporter, endpoint) = runtime().block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let endpoint = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(
                tonic::transport::Server::builder()
                    .add_service(TraceServiceServer::new(collector.clone()))
                    .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
            );
            (
                Exporter::start(&endpoint, "propcast-test").unwrap(),
                endpoint,
            )
        });
        tracing_subscriber::registry()
            .with(exporter.layer())
            .try_init()
            .expect("the first subscriber of this test binary");
        Harness {
            collector,
            exporter,
            endpoint,
        }
    })
}

/// Every span the two dates exported, after the exporter flushed.
fn spans() -> &'static [Received] {
    static RUN: OnceLock<Vec<Received>> = OnceLock::new();
    RUN.get_or_init(|| {
        let harness = harness();
        let work = tempfile::tempdir().unwrap();
        let land = landing_for(work.path(), &[HISTORY, DATE]);
        runtime().block_on(async {
            let backends = Backends::embedded(&work.path().join("data"), &land).unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let worker_url = format!("http://{}", listener.local_addr().unwrap());
            let worker = WorkerService::new(
                Arc::new(PredictionCoordinator::standard(None).unwrap()),
                backends.warehouse.clone(),
                backends.state.clone(),
            );
            tokio::spawn(serve_worker(listener, worker, std::future::pending()));
            let pool = WorkerPool::new(&[worker_url], Duration::from_secs(30)).unwrap();
            let pipeline = Pipeline::new(backends).with_workers(pool);
            pipeline.prepare().await.unwrap();
            for date in [HISTORY, DATE] {
                let outcome = pipeline
                    .run_date_with(date.parse().unwrap(), &DateRun::backfill(), ROUND)
                    .await
                    .unwrap();
                assert!(
                    outcome.failed().is_empty(),
                    "{date}: {:?}",
                    outcome.failed()
                );
                if date == DATE {
                    assert_eq!(outcome.fired.len(), 3, "{date}: every transition fires");
                }
            }
        });
        harness.received()
    })
}

/// Whether a span (of those that name their round) is the date-by-date
/// run's.
fn ours(span: &Received) -> bool {
    span.attr("round_id") == ROUND
}

fn by_id(spans: &[Received]) -> BTreeMap<&str, &Received> {
    spans.iter().map(|s| (s.span_id.as_str(), s)).collect()
}

/// The parent of `span` among the exported spans.
fn parent<'a>(ids: &BTreeMap<&str, &'a Received>, span: &Received) -> &'a Received {
    ids.get(span.parent.as_str())
        .unwrap_or_else(|| panic!("the parent of {span:#?} was not exported (a root?)"))
}

/// The one span matching `pred`, or a panic naming `what`.
fn one<'a>(spans: &'a [Received], what: &str, pred: impl Fn(&Received) -> bool) -> &'a Received {
    let found: Vec<&Received> = spans.iter().filter(|s| pred(s)).collect();
    assert_eq!(found.len(), 1, "{what}: {found:#?}");
    found[0]
}

fn assert_child(child: &Received, parent: &Received) {
    assert_eq!(
        child.parent, parent.span_id,
        "{} should be a child of {}: {child:#?} {parent:#?}",
        child.name, parent.name
    );
    assert_eq!(child.trace_id, parent.trace_id);
}

#[test]
fn one_trace_follows_a_date_across_the_phase_transitions() {
    let spans = spans();
    let ids = by_id(spans);
    let correlation = format!("{ROUND}/{DATE}");
    let landing = one(spans, "the landing span of the date", |s| {
        s.name == propcast_telemetry::LANDING && s.attr("game_date") == DATE && ours(s)
    });
    assert_eq!(landing.parent, "", "the landing is the root of the trace");
    assert_eq!(landing.service, "propcast-test");
    assert_eq!(landing.attr("correlation_id"), correlation);
    let trace = landing.trace_id.as_str();

    // The decision that fired 2→3, on the delivery of one completion.
    let fired = one(spans, "the decision that fired 2→3", |s| {
        s.name == propcast_telemetry::ORCHESTRATOR_DECISION
            && s.attr("game_date") == DATE
            && s.attr("transition") == "phase2_to_phase3"
            && s.attr("decision") == "fire"
            && ours(s)
    });
    let delivery = parent(&ids, fired);
    assert_eq!(delivery.name, propcast_telemetry::BUS_DELIVERY);
    assert_eq!(delivery.attr("subscription"), "orchestrator");
    let raw_run = parent(&ids, delivery);
    assert_eq!(raw_run.name, propcast_telemetry::PROCESSOR_RUN);
    assert_eq!(raw_run.attr("phase"), "2");
    assert_eq!(raw_run.attr("processor"), fired.attr("processor"));
    assert_eq!(delivery.attr("processor"), raw_run.attr("processor"));
    assert_child(raw_run, landing);
    assert_child(delivery, raw_run);
    assert_child(fired, delivery);

    // The trigger's delivery to the phase-3 runner, and phase 3 under it.
    let trigger = one(spans, "the delivery of the 2→3 trigger", |s| {
        s.name == propcast_telemetry::BUS_DELIVERY && s.parent == fired.span_id
    });
    assert_eq!(trigger.attr("subscription"), "phase3-trigger-runner");
    let phase3: Vec<&Received> = spans
        .iter()
        .filter(|s| s.name == propcast_telemetry::PROCESSOR_RUN && s.attr("phase") == "3")
        .filter(|s| s.attr("game_date") == DATE && ours(s))
        .collect();
    assert_eq!(phase3.len(), 5, "the five phase-3 processors: {phase3:#?}");
    for run in &phase3 {
        assert_child(run, trigger);
    }
    for span in [raw_run, delivery, fired, trigger, phase3[0]] {
        assert_eq!(span.attr("correlation_id"), correlation, "{span:#?}");
    }

    // The whole date is that one trace: every processor run of every phase
    // (and every decision on the date's completions), nothing else.
    let runs: Vec<&Received> = spans
        .iter()
        .filter(|s| s.name == propcast_telemetry::PROCESSOR_RUN && s.attr("game_date") == DATE)
        .filter(|s| ours(s))
        .collect();
    let phases: std::collections::BTreeSet<&str> = runs.iter().map(|s| s.attr("phase")).collect();
    assert_eq!(phases.into_iter().collect::<Vec<_>>(), ["2", "3", "4", "5"]);
    for span in runs.iter().copied().chain(
        spans
            .iter()
            .filter(|s| s.name == propcast_telemetry::ORCHESTRATOR_DECISION)
            .filter(|s| s.attr("game_date") == DATE && ours(s)),
    ) {
        assert_eq!(span.trace_id, trace, "{span:#?}");
        assert_eq!(span.attr("correlation_id"), correlation, "{span:#?}");
    }
    let history = one(spans, "the landing span of the other date", |s| {
        s.name == propcast_telemetry::LANDING && s.attr("game_date") == HISTORY && ours(s)
    });
    assert_ne!(history.trace_id, trace, "each date is a trace of its own");
    // Decisions record what they decided: one fire per transition.
    let fires = spans
        .iter()
        .filter(|s| s.name == propcast_telemetry::ORCHESTRATOR_DECISION)
        .filter(|s| s.attr("game_date") == DATE && s.attr("decision") == "fire" && ours(s))
        .count();
    assert_eq!(fires, 3);
    assert!(
        spans
            .iter()
            .filter(|s| s.name == propcast_telemetry::ORCHESTRATOR_DECISION)
            .any(|s| s.attr("game_date") == DATE && s.attr("decision") == "not_yet" && ours(s)),
        "completions before the last critical one are decided 'not yet'"
    );
}

#[test]
fn a_worker_batch_is_a_child_of_the_coordinators_call() {
    let spans = spans();
    let ids = by_id(spans);
    let batches: Vec<&Received> = spans
        .iter()
        .filter(|s| s.name == propcast_telemetry::WORKER_BATCH && s.attr("game_date") == DATE)
        .collect();
    assert!(
        !batches.is_empty(),
        "the coordinator sent no batch to the worker"
    );
    let coordinator = one(spans, "the coordinator's run", |s| {
        s.name == propcast_telemetry::PROCESSOR_RUN
            && s.attr("game_date") == DATE
            && s.attr("processor") == propcast_prediction_worker::coordinator::NAME
            && ours(s)
    });
    for batch in batches {
        let call = parent(&ids, batch);
        assert_eq!(call.name, propcast_telemetry::WORKER_CALL, "{batch:#?}");
        assert_eq!(call.attr("batch_id"), batch.attr("batch_id"));
        assert_child(batch, call);
        assert_child(call, coordinator);
        assert_eq!(batch.attr("correlation_id"), format!("{ROUND}/{DATE}"));
    }
}

/// What a service does with a push: nothing but accept it.
struct Accept;

#[async_trait::async_trait]
impl PushHandler for Accept {
    fn role(&self) -> &str {
        "probe"
    }

    async fn handle(&self, _subscription: &str, _delivery: &Delivery) -> Result<(), HandleError> {
        Ok(())
    }

    async fn ready(&self) -> Result<(), String> {
        Ok(())
    }
}

#[test]
fn a_pushed_message_is_handled_in_a_child_of_the_span_that_published_it() {
    let harness = harness();
    let (trace, parent) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    let status = runtime().block_on(async {
        let state = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStateStore::open(state.path().join("state.sqlite")).unwrap());
        let router = propcast_service::router(Arc::new(Accept), None, store);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/pubsub/push", listener.local_addr().unwrap());
        tokio::spawn(propcast_service::serve(
            listener,
            router,
            std::future::pending(),
            Duration::from_secs(1),
        ));
        let envelope = format!(
            r#"{{"message":{{"data":"","messageId":"push-1","attributes":{{
                "traceparent":"00-{trace}-{parent}-01","game_date":"{DATE}",
                "correlation_id":"pushed/{DATE}"}}}},
               "subscription":"projects/p/subscriptions/probe-push"}}"#
        );
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .body(envelope)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status.as_u16(), 204);
    let spans = harness.received();
    let delivery = one(&spans, "the push's delivery span", |s| {
        s.name == propcast_telemetry::BUS_DELIVERY && s.attr("subscription") == "probe-push"
    });
    assert_eq!(delivery.trace_id, trace);
    assert_eq!(delivery.parent, parent);
    assert_eq!(delivery.attr("correlation_id"), format!("pushed/{DATE}"));
    assert_eq!(delivery.attr("game_date"), DATE);
}

/// The backfill's default path: phase 2 once for a range of dates, every
/// later phase once for the dates its transition fired. The range is one
/// trace under one landing span; each phase's range run is a child of the
/// delivery of the trigger that completed it (linked to the other dates'
/// triggers).
#[test]
fn a_range_run_is_one_trace_from_its_landing_to_its_last_phase() {
    let harness = harness();
    let work = tempfile::tempdir().unwrap();
    let land = landing_for(work.path(), &[HISTORY, DATE]);
    let round = "traces-range";
    runtime().block_on(async {
        let pipeline = Pipeline::new(Backends::embedded(&work.path().join("data"), &land).unwrap());
        pipeline.prepare().await.unwrap();
        let dates = [HISTORY.parse().unwrap(), DATE.parse().unwrap()];
        let outcomes = pipeline
            .run_range(&dates, propcast_patterns::RunMode::Backfill, round)
            .await
            .unwrap();
        assert!(outcomes.iter().all(|o| o.failed().is_empty()));
    });
    let spans = harness.received();
    let ids = by_id(&spans);
    let landing = one(&spans, "the range's landing span", |s| {
        s.name == propcast_telemetry::LANDING && s.attr("round_id") == round
    });
    assert_eq!(
        (landing.attr("game_date"), landing.attr("last_date")),
        (HISTORY, DATE)
    );
    assert_eq!(landing.attr("dates"), "2");
    let runs: Vec<&Received> = spans
        .iter()
        .filter(|s| s.name == propcast_telemetry::PROCESSOR_RUN && s.attr("round_id") == round)
        .collect();
    let raw: Vec<&&Received> = runs.iter().filter(|s| s.attr("phase") == "2").collect();
    assert_eq!(
        raw.len(),
        propcast_raw::processors().len(),
        "one range run per phase-2 processor: {raw:#?}"
    );
    for run in raw {
        assert_eq!(run.attr("dates"), "2");
        assert_child(run, landing);
    }
    let analytics: Vec<&&Received> = runs.iter().filter(|s| s.attr("phase") == "3").collect();
    assert_eq!(analytics.len(), 5, "one range run per phase-3 processor");
    for run in analytics {
        assert_eq!(run.trace_id, landing.trace_id, "{run:#?}");
        let delivery = parent(&ids, run);
        assert_eq!(delivery.attr("subscription"), "phase3-trigger-runner");
        let decision = parent(&ids, delivery);
        assert_eq!(decision.name, propcast_telemetry::ORCHESTRATOR_DECISION);
        assert_eq!(decision.attr("decision"), "fire");
        assert_eq!(decision.attr("transition"), "phase2_to_phase3");
    }
}

/// The `propcast` binary exports its spans, flushed before it exits: the
/// landing span `propcast landed` opens (service `propcast`) is the parent
/// the landing event's `traceparent` names on the embedded bus.
#[test]
fn the_binary_exports_its_spans_and_its_messages_name_them() {
    let harness = harness();
    let data = tempfile::tempdir().unwrap();
    let coordination = Coordination::embedded(data.path()).unwrap();
    let topic = propcast::serve::LANDING_TOPIC;
    runtime().block_on(async {
        let bus = &coordination.bus;
        bus.create_topic(topic).await.unwrap();
        bus.create_subscription(topic, "raw-push", Duration::from_secs(60), 5)
            .await
            .unwrap();
    });
    let round = "traces-binary";
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_propcast"))
        .args(["landed", "--date", DATE, "--round", round, "--data-dir"])
        .arg(data.path())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &harness.endpoint)
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_SERVICE_NAME")
        .env_remove("PROPCAST_BUS")
        .env_remove("PROPCAST_STATE")
        .env_remove("PROPCAST_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // No flush of ours: what the binary sent arrived before it exited.
    let spans = harness.collector.spans.lock().unwrap().clone();
    let landing = one(&spans, "the binary's landing span", |s| {
        s.name == propcast_telemetry::LANDING && s.attr("round_id") == round
    });
    assert_eq!(landing.service, "propcast");
    assert_eq!(landing.attr("correlation_id"), format!("{round}/{DATE}"));
    let delivered = runtime()
        .block_on(coordination.bus.pull("raw-push", 10))
        .unwrap();
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        delivered[0].attributes[propcast_telemetry::propagation::TRACEPARENT],
        format!("00-{}-{}-01", landing.trace_id, landing.span_id)
    );
}
