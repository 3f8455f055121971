//! A bounded load test of the orchestrator service's push endpoint over
//! loopback HTTP: 1,120 authenticated pushes (140 distinct completions —
//! the real phase 2–4 processors of ten dates — each delivered 8 times, as
//! an at-least-once bus may) from 16 concurrent clients. Every transition
//! of every date fires exactly once: 30 triggers, one per (transition,
//! date). Prints requests/s and latency percentiles (docs/BENCHMARKS.md);
//! nothing here asserts a time.
//!
//! Embedded backends (SQLite state store and bus), so it runs without the
//! emulators; tokens are signed by the test key in crates/service/fixtures
//! (a stand-in for Google's issuer).

mod common;

use base64::Engine as _;
use chrono::NaiveDate;
use common::{landing, runtime};
use propcast::pipeline::{Backends, Pipeline, standard_processors};
use propcast::serve::{OrchestratorService, Role};
use propcast_core::Phase;
use propcast_orchestrator::Transition;
use propcast_proto::v1::{CompletionStatus, ProcessorCompletion};
use propcast_service::testing::{TestClaims, test_jwks_path};
use propcast_service::{JwksSource, PushAuth, PushAuthConfig};
use prost::Message;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const AUDIENCE: &str = "https://propcast-orchestrator.test/pubsub/push";
const EMAIL: &str = "pubsub-push@propcast-test.iam.gserviceaccount.com";
const DATES: usize = 10;
const COPIES: usize = 8;
const CLIENTS: usize = 16;

/// One completion per tracked processor of phases 2–4 and date: the names
/// the pipeline really runs.
fn completions(round: &str) -> Vec<ProcessorCompletion> {
    let processors = standard_processors(None);
    let start = NaiveDate::from_ymd_opt(2025, 11, 1).unwrap();
    let mut out = Vec::new();
    for d in 0..DATES {
        let date = (start + chrono::Duration::days(d as i64)).to_string();
        for p in processors
            .iter()
            .filter(|p| matches!(p.phase(), Phase::Raw | Phase::Analytics | Phase::Precompute))
        {
            let mut c = ProcessorCompletion {
                processor: p.name().to_string(),
                phase: p.phase().into(),
                game_date: date.clone(),
                record_count: 10,
                correlation_id: format!("{round}/{date}"),
                execution_id: format!("{}-{date}", p.name()),
                mode: "backfill".to_string(),
                round_id: round.to_string(),
                ..Default::default()
            };
            c.set_status(CompletionStatus::Success);
            out.push(c);
        }
    }
    out
}

fn envelope(c: &ProcessorCompletion, copy: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "message": {
            "data": base64::engine::general_purpose::STANDARD.encode(c.encode_to_vec()),
            // A redelivery keeps the message id; the copies are redeliveries.
            "messageId": format!("{}-{}", c.processor, c.game_date),
            "publishTime": "2025-11-10T08:00:00Z",
        },
        "subscription": format!("projects/p/subscriptions/{}", Role::Orchestrator.subscription()),
        "deliveryAttempt": copy + 1,
    }))
    .unwrap()
}

#[test]
fn a_thousand_duplicated_pushes_fire_each_transition_once() {
    let work = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let backends = Backends::embedded(work.path(), &landing()).unwrap();
        let pipeline = Arc::new(Pipeline::new(backends));
        let bus = pipeline.backends().bus.clone();
        pipeline.orchestrator().ensure_topics().await.unwrap();
        for t in Transition::ALL {
            bus.create_subscription(t.trigger_topic(), &format!("count-{}", t.as_str()), Duration::from_secs(60), 5)
                .await
                .unwrap();
        }
        let auth = PushAuth::new(PushAuthConfig {
            audience: AUDIENCE.into(),
            email: EMAIL.into(),
            jwks: JwksSource::File(test_jwks_path()),
        });
        let app = propcast_service::router(
            Arc::new(OrchestratorService {
                pipeline: pipeline.clone(),
            }),
            Some(Arc::new(auth)),
            pipeline.backends().state.clone(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/pubsub/push", listener.local_addr().unwrap());
        tokio::spawn(propcast_service::serve(
            listener,
            app,
            std::future::pending(),
            Duration::from_secs(1),
        ));

        let round = "load-round";
        let events = completions(round);
        assert_eq!(events.len(), DATES * 17, "17 tracked processors a date");
        let mut bodies: Vec<Vec<u8>> = Vec::new();
        for copy in 0..COPIES {
            for e in &events {
                bodies.push(envelope(e, copy));
            }
        }
        // Interleave the copies so duplicates race each other.
        let mut keyed: Vec<_> = bodies
            .into_iter()
            .map(|b| (uuid::Uuid::new_v4(), b))
            .collect();
        keyed.sort_by_key(|(k, _)| *k);
        let bodies: Vec<Vec<u8>> = keyed.into_iter().map(|(_, b)| b).collect();
        let total = bodies.len();
        assert!(total >= 1000);

        let token = TestClaims::valid(AUDIENCE, EMAIL).sign();
        let client = reqwest::Client::new();
        let chunks: Vec<Vec<Vec<u8>>> = bodies
            .chunks(total.div_ceil(CLIENTS))
            .map(|c| c.to_vec())
            .collect();
        let started = Instant::now();
        let tasks: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let (client, url, token) = (client.clone(), url.clone(), token.clone());
                tokio::spawn(async move {
                    let mut latencies = Vec::with_capacity(chunk.len());
                    for body in chunk {
                        // Pub/Sub redelivers what was not acknowledged.
                        loop {
                            let sent = Instant::now();
                            let status = client
                                .post(&url)
                                .header("authorization", format!("Bearer {token}"))
                                .header("content-type", "application/json")
                                .body(body.clone())
                                .send()
                                .await
                                .unwrap()
                                .status()
                                .as_u16();
                            latencies.push(sent.elapsed());
                            match status {
                                204 => break,
                                503 => continue,
                                other => panic!("push answered {other}"),
                            }
                        }
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies = Vec::new();
        for t in tasks {
            latencies.extend(t.await.unwrap());
        }
        let wall = started.elapsed();
        latencies.sort();
        let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        println!(
            "push load: {} requests ({} distinct, {CLIENTS} clients) in {:.2} s = {:.0} requests/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            latencies.len(),
            events.len(),
            wall.as_secs_f64(),
            latencies.len() as f64 / wall.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1000.0,
            pct(0.99).as_secs_f64() * 1000.0,
            latencies[latencies.len() - 1].as_secs_f64() * 1000.0,
        );

        // Exactly one trigger per transition and date.
        let mut fired: BTreeMap<(String, String), usize> = BTreeMap::new();
        for t in Transition::ALL {
            let sub = format!("count-{}", t.as_str());
            loop {
                let got = bus.pull(&sub, 100).await.unwrap();
                if got.is_empty() {
                    break;
                }
                for d in &got {
                    let trigger = propcast_orchestrator::Trigger::read(t, &d.data).unwrap();
                    *fired
                        .entry((t.as_str().to_string(), trigger.game_date.to_string()))
                        .or_default() += 1;
                }
                let ids: Vec<String> = got.into_iter().map(|d| d.ack_id).collect();
                bus.ack(&sub, &ids).await.unwrap();
            }
        }
        assert_eq!(fired.len(), DATES * 3, "one trigger per transition and date: {fired:?}");
        assert!(fired.values().all(|n| *n == 1), "{fired:?}");
    });
}
