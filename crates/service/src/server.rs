//! The HTTP side every role shares: `GET /livez`, `GET /readyz`,
//! `POST /pubsub/push`, and serving until SIGTERM.
//!
//! A push is answered by its status, which is how Pub/Sub learns the
//! outcome:
//! * 401 — no token, or a token that fails [`PushAuth`]: nothing is done;
//! * 400 — the body is not a push envelope (not Pub/Sub speaking);
//! * 204 — handled, or a message that can never be handled (undecodable,
//!   unknown processor…), which is first recorded as a dead letter with the
//!   reason (state-store collection `dead_letters`) and then acknowledged:
//!   never retried forever;
//! * 503 — a transient failure (a backend did not answer): Pub/Sub
//!   redelivers, with backoff, up to the subscription's dead-letter policy.
//!
//! A duplicate delivery is the handler's to make a no-op (the idempotency
//! layer of the processors, the orchestrator's transactions).

use crate::oidc::PushAuth;
use crate::push::PushEnvelope;
use async_trait::async_trait;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use propcast_platform::{Delivery, StateStore, dead_letter};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// What a role does with one pushed message.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// Worth another delivery (a backend did not answer).
    #[error("{0}")]
    Retry(String),
    /// Can never be handled: dead-lettered with this reason.
    #[error("{0}")]
    Poison(String),
}

#[async_trait]
pub trait PushHandler: Send + Sync + 'static {
    /// The role's name, for logs.
    fn role(&self) -> &str;

    /// Handles one delivery pushed on `subscription` (short name).
    async fn handle(&self, subscription: &str, delivery: &Delivery) -> Result<(), HandleError>;

    /// Whether the role's backends answer (`/readyz`).
    async fn ready(&self) -> Result<(), String>;
}

#[derive(Clone)]
struct AppState {
    handler: Arc<dyn PushHandler>,
    auth: Option<Arc<PushAuth>>,
    state: Arc<dyn StateStore>,
}

/// The router of a role. `auth` is `None` only where the operator turned
/// push authentication off explicitly (local runs behind no ingress).
pub fn router(
    handler: Arc<dyn PushHandler>,
    auth: Option<Arc<PushAuth>>,
    state: Arc<dyn StateStore>,
) -> Router {
    Router::new()
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/pubsub/push", post(push))
        .with_state(AppState {
            handler,
            auth,
            state,
        })
}

async fn livez() -> &'static str {
    "ok\n"
}

async fn readyz(State(app): State<AppState>) -> Response {
    match app.handler.ready().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(why) => {
            tracing::warn!(role = app.handler.role(), reason = %why, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {why}\n"),
            )
                .into_response()
        }
    }
}

async fn push(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(auth) = &app.auth {
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if let Err(e) = auth.verify(authorization).await {
            tracing::warn!(role = app.handler.role(), error = %e, "push refused");
            return (StatusCode::UNAUTHORIZED, format!("{e}\n")).into_response();
        }
    }
    let envelope = match PushEnvelope::parse(&body) {
        Ok(envelope) => envelope,
        Err(e) => {
            tracing::warn!(role = app.handler.role(), error = %e, "not a push envelope");
            return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response();
        }
    };
    let subscription = envelope.subscription_name().to_string();
    let outcome = match envelope.delivery() {
        Ok(delivery) => app
            .handler
            .handle(&subscription, &delivery)
            .instrument(delivery.span(&subscription))
            .await
            .map_err(|e| (delivery, e)),
        Err(e) => {
            let delivery = Delivery {
                ack_id: envelope.message.message_id().to_string(),
                message_id: envelope.message.message_id().to_string(),
                data: bytes::Bytes::from(envelope.message.data.clone().into_bytes()),
                attributes: envelope.message.attributes.clone(),
                attempt: envelope.delivery_attempt.unwrap_or(1),
            };
            Err((delivery, HandleError::Poison(e.to_string())))
        }
    };
    match outcome {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err((_, HandleError::Retry(why))) => {
            tracing::warn!(role = app.handler.role(), %subscription, reason = %why, "transient failure; Pub/Sub will redeliver");
            (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response()
        }
        Err((delivery, HandleError::Poison(why))) => {
            match dead_letter::record(app.state.as_ref(), &subscription, &delivery, &why).await {
                Ok(_) => StatusCode::NO_CONTENT.into_response(),
                Err(e) => {
                    tracing::warn!(error = %e, "dead letter not recorded; Pub/Sub will redeliver");
                    (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response()
                }
            }
        }
    }
}

/// How long in-flight requests may run after SIGTERM: Cloud Run kills the
/// instance 10 s after it, so this stays under.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

/// Serves `router` on `listener` until `shutdown` completes; then stops
/// accepting, lets in-flight requests finish for up to `grace`, and
/// returns. A request cut off by the grace sent no response, so Pub/Sub
/// redelivers its message; every write is one atomic statement per
/// partition, so nothing is left half-written.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let signalled = async move {
        shutdown.await;
        let _ = tx.send(true);
    };
    let mut rx_grace = rx.clone();
    let server = axum::serve(listener, router).with_graceful_shutdown(async move {
        signalled.await;
    });
    tokio::select! {
        result = server.into_future() => result,
        _ = async move {
            let _ = rx_grace.wait_for(|s| *s).await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!("requests still running {grace:?} after the shutdown signal were cut off; their messages will be redelivered");
            Ok(())
        }
    }
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutdown signal received");
}
