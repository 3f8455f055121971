//! What every propcast service shares: the Pub/Sub push envelope
//! ([`push`]), authentication of push requests by Google-signed OIDC tokens
//! ([`oidc`]), and the HTTP server with `/livez`, `/readyz`,
//! `POST /pubsub/push` and graceful shutdown ([`server`]). The roles
//! themselves (what a pushed message does) implement [`PushHandler`].

pub mod oidc;
pub mod push;
pub mod server;
#[cfg(feature = "testing")]
pub mod testing;

pub use oidc::{AuthError, JwksSource, PushAuth, PushAuthConfig};
pub use push::PushEnvelope;
pub use server::{HandleError, PushHandler, SHUTDOWN_GRACE, router, serve, shutdown_signal};
