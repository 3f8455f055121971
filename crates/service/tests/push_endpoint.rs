//! The push endpoint over real HTTP on loopback: authentication (tokens
//! signed by the test key in fixtures/, a stand-in for Google's issuer),
//! the envelope, dead letters, redelivery codes, health.

use async_trait::async_trait;
use base64::Engine as _;
use propcast_platform::embedded::SqliteStateStore;
use propcast_platform::{Delivery, StateStore, dead_letter};
use propcast_service::testing::{TestClaims, test_jwks_path};
use propcast_service::{
    HandleError, JwksSource, PushAuth, PushAuthConfig, PushHandler, router, serve,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const AUDIENCE: &str = "https://propcast-orchestrator.example.run.app/pubsub/push";
const EMAIL: &str = "pubsub-push@project.iam.gserviceaccount.com";

/// Records every delivery it is handed; fails on cue by payload.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Delivery>>,
}

#[async_trait]
impl PushHandler for Recorder {
    fn role(&self) -> &str {
        "test"
    }
    async fn handle(&self, _subscription: &str, delivery: &Delivery) -> Result<(), HandleError> {
        self.seen.lock().unwrap().push(delivery.clone());
        match &delivery.data[..] {
            b"backend down" => Err(HandleError::Retry("warehouse did not answer".into())),
            b"poison" => Err(HandleError::Poison("unknown processor \"nope\"".into())),
            _ => Ok(()),
        }
    }
    async fn ready(&self) -> Result<(), String> {
        Ok(())
    }
}

struct Server {
    url: String,
    recorder: Arc<Recorder>,
    state: Arc<SqliteStateStore>,
}

async fn start() -> Server {
    let recorder = Arc::new(Recorder::default());
    let state = Arc::new(SqliteStateStore::in_memory().unwrap());
    let auth = PushAuth::new(PushAuthConfig {
        audience: AUDIENCE.into(),
        email: EMAIL.into(),
        jwks: JwksSource::File(test_jwks_path()),
    });
    let app = router(recorder.clone(), Some(Arc::new(auth)), state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(
        listener,
        app,
        std::future::pending(),
        Duration::from_secs(1),
    ));
    Server {
        url,
        recorder,
        state,
    }
}

fn envelope(data: &[u8], id: &str) -> serde_json::Value {
    serde_json::json!({
        "message": {
            "data": base64::engine::general_purpose::STANDARD.encode(data),
            "attributes": {"processor": "p"},
            "messageId": id,
            "publishTime": "2025-11-05T10:00:00Z",
        },
        "subscription": "projects/p/subscriptions/orchestrator-push",
        "deliveryAttempt": 1,
    })
}

async fn post(server: &Server, token: Option<String>, body: &serde_json::Value) -> u16 {
    let client = reqwest::Client::new();
    let mut request = client
        .post(format!("{}/pubsub/push", server.url))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap());
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_request_without_a_good_token_is_refused_and_does_nothing() {
    let server = start().await;
    let body = envelope(b"hello", "m-1");
    let expired = TestClaims {
        exp: chrono::Utc::now().timestamp() - 600,
        iat: chrono::Utc::now().timestamp() - 4200,
        ..TestClaims::valid(AUDIENCE, EMAIL)
    };
    let wrong_audience = TestClaims::valid("https://someone-else.run.app/", EMAIL);
    let wrong_email = TestClaims::valid(AUDIENCE, "intruder@project.iam.gserviceaccount.com");
    let unverified = TestClaims {
        email_verified: false,
        ..TestClaims::valid(AUDIENCE, EMAIL)
    };
    let wrong_issuer = TestClaims {
        iss: "https://evil.example".into(),
        ..TestClaims::valid(AUDIENCE, EMAIL)
    };
    // A good token whose payload was altered after signing.
    let tampered = {
        let good = TestClaims::valid(AUDIENCE, EMAIL).sign();
        let mut parts: Vec<String> = good.split('.').map(String::from).collect();
        let forged = TestClaims::valid(AUDIENCE, "intruder@x.iam.gserviceaccount.com");
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&forged).unwrap());
        parts.join(".")
    };
    for (case, token) in [
        ("no token", None),
        ("not a JWT", Some("abc".to_string())),
        ("expired", Some(expired.sign())),
        ("wrong audience", Some(wrong_audience.sign())),
        ("wrong email", Some(wrong_email.sign())),
        ("email not verified", Some(unverified.sign())),
        ("wrong issuer", Some(wrong_issuer.sign())),
        ("tampered payload", Some(tampered)),
    ] {
        assert_eq!(post(&server, token, &body).await, 401, "{case}");
    }
    assert!(
        server.recorder.seen.lock().unwrap().is_empty(),
        "a refused push reached the handler"
    );
    assert!(
        dead_letter::list(server.state.as_ref(), "")
            .await
            .unwrap()
            .is_empty()
    );

    // The same body with a good token is handled once.
    let token = TestClaims::valid(AUDIENCE, EMAIL).sign();
    assert_eq!(post(&server, Some(token), &body).await, 204);
    let seen = server.recorder.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(&seen[0].data[..], b"hello");
    assert_eq!(seen[0].message_id, "m-1");
}

#[tokio::test]
async fn undecodable_and_poison_messages_are_acknowledged_into_dead_letters() {
    let server = start().await;
    let token = || Some(TestClaims::valid(AUDIENCE, EMAIL).sign());

    // data that is not base64: never reaches the handler.
    let mut bad = envelope(b"", "m-bad");
    bad["message"]["data"] = "%%% not base64".into();
    assert_eq!(post(&server, token(), &bad).await, 204);
    assert!(server.recorder.seen.lock().unwrap().is_empty());

    // a message the handler can never handle.
    assert_eq!(
        post(&server, token(), &envelope(b"poison", "m-poison")).await,
        204
    );
    let letters = dead_letter::list(server.state.as_ref(), "orchestrator-push")
        .await
        .unwrap();
    let reasons: Vec<(&str, &str)> = letters
        .iter()
        .map(|l| (l.message_id.as_str(), l.reason.as_str()))
        .collect();
    assert_eq!(letters.len(), 2, "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|(id, why)| *id == "m-bad" && why.contains("message.data"))
    );
    assert!(
        reasons
            .iter()
            .any(|(id, why)| *id == "m-poison" && why.contains("unknown processor"))
    );

    // not an envelope at all: 400, nothing recorded.
    let client = reqwest::Client::new();
    let status = client
        .post(format!("{}/pubsub/push", server.url))
        .header("authorization", format!("Bearer {}", token().unwrap()))
        .body("not json")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 400);
    assert_eq!(
        dead_letter::list(server.state.as_ref(), "")
            .await
            .unwrap()
            .len(),
        2
    );
    let _ = server.state.as_ref() as &dyn StateStore;
}

#[tokio::test]
async fn a_transient_failure_asks_for_redelivery() {
    let server = start().await;
    let token = Some(TestClaims::valid(AUDIENCE, EMAIL).sign());
    assert_eq!(
        post(&server, token, &envelope(b"backend down", "m-2")).await,
        503
    );
    assert!(
        dead_letter::list(server.state.as_ref(), "")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn health_endpoints_answer_without_a_token() {
    let server = start().await;
    for path in ["/livez", "/readyz"] {
        let status = reqwest::get(format!("{}{path}", server.url))
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 200, "{path}");
    }
}
