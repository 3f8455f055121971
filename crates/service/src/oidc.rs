//! Authentication of Pub/Sub push requests: the Google-signed OIDC token
//! Pub/Sub puts in `Authorization: Bearer …` when the push subscription has
//! an `oidcToken` service account.
//!
//! Checked, in order: an RS256 signature by a key of the JWKS (Google's
//! `https://www.googleapis.com/oauth2/v3/certs` in production; fetched,
//! cached for [`JWKS_TTL`], refetched at most every [`JWKS_MIN_REFRESH`] when
//! a token names an unknown `kid`), the expiry, the audience configured for
//! the service, the issuer (`https://accounts.google.com` or
//! `accounts.google.com`), the configured push service-account `email`, and
//! `email_verified`. Verification is jsonwebtoken's; nothing here is crypto.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Google's public keys for the tokens it signs.
pub const GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";
/// The issuers Google's ID tokens carry.
pub const GOOGLE_ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];
/// How long a fetched JWKS is used before it is fetched again.
pub const JWKS_TTL: Duration = Duration::from_secs(3600);
/// The shortest time between two fetches forced by an unknown `kid`.
pub const JWKS_MIN_REFRESH: Duration = Duration::from_secs(30);

/// Where the keys come from.
#[derive(Debug, Clone)]
pub enum JwksSource {
    /// An HTTPS (or, for tests, loopback HTTP) URL serving a JWKS.
    Url(String),
    /// A JWKS file (tests; an air-gapped deployment with pinned keys).
    File(PathBuf),
}

impl JwksSource {
    /// `file://PATH` or a path → a file; `http(s)://…` → a URL.
    pub fn parse(text: &str) -> Self {
        if text.starts_with("http://") || text.starts_with("https://") {
            JwksSource::Url(text.to_string())
        } else {
            JwksSource::File(PathBuf::from(text.strip_prefix("file://").unwrap_or(text)))
        }
    }
}

/// What a push endpoint accepts.
#[derive(Debug, Clone)]
pub struct PushAuthConfig {
    /// The `aud` the subscription's token is minted for (the push endpoint
    /// URL, or the audience set on the subscription).
    pub audience: String,
    /// The push subscription's service account.
    pub email: String,
    pub jwks: JwksSource,
}

/// Why a push request is refused (always 401: nothing is done).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AuthError {
    #[error("no bearer token in the Authorization header")]
    Missing,
    #[error("token rejected: {0}")]
    Invalid(String),
    #[error("token email {found:?} is not the push service account {expected}")]
    WrongEmail {
        found: Option<String>,
        expected: String,
    },
    #[error("token email {0} is not verified")]
    EmailNotVerified(String),
    #[error("signing keys unavailable: {0}")]
    Keys(String),
}

/// The claims of a Google ID token that are checked beyond the standard
/// ones.
#[derive(Debug, Clone, Deserialize)]
pub struct PushClaims {
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    pub sub: Option<String>,
}

struct Cached {
    keys: JwkSet,
    fetched: Instant,
}

/// Verifies push tokens against a cached JWKS.
pub struct PushAuth {
    config: PushAuthConfig,
    cache: Mutex<Option<Cached>>,
    http: reqwest::Client,
}

impl std::fmt::Debug for PushAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushAuth")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl PushAuth {
    pub fn new(config: PushAuthConfig) -> Self {
        PushAuth {
            config,
            cache: Mutex::new(None),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client with a timeout builds"),
        }
    }

    pub fn config(&self) -> &PushAuthConfig {
        &self.config
    }

    /// Checks the `Authorization` header's value.
    pub async fn verify(&self, authorization: Option<&str>) -> Result<PushClaims, AuthError> {
        let token = authorization
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        let header = decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::Invalid(format!(
                "algorithm {:?}, expected RS256",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::Invalid("the token names no key (kid)".into()))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[&self.config.audience]);
        validation.set_issuer(&GOOGLE_ISSUERS);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        validation.leeway = 30;
        let data = decode::<PushClaims>(token, &key, &validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        let claims = data.claims;
        if claims.email.as_deref() != Some(self.config.email.as_str()) {
            return Err(AuthError::WrongEmail {
                found: claims.email,
                expected: self.config.email.clone(),
            });
        }
        if !claims.email_verified {
            return Err(AuthError::EmailNotVerified(self.config.email.clone()));
        }
        Ok(claims)
    }

    /// The key `kid`, from the cache, or after one (rate-limited) refetch.
    async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        let (found, stale, may_refresh) = {
            let cache = self.cache.lock().expect("jwks lock");
            match cache.as_ref() {
                Some(c) => (
                    c.keys.find(kid).cloned(),
                    c.fetched.elapsed() >= JWKS_TTL,
                    c.fetched.elapsed() >= JWKS_MIN_REFRESH,
                ),
                None => (None, true, true),
            }
        };
        let jwk = match found {
            Some(jwk) if !stale => jwk,
            _ if !stale && !may_refresh => {
                return Err(AuthError::Invalid(format!("unknown signing key {kid}")));
            }
            _ => {
                let keys = self.fetch().await?;
                let jwk = keys.find(kid).cloned();
                *self.cache.lock().expect("jwks lock") = Some(Cached {
                    keys,
                    fetched: Instant::now(),
                });
                jwk.ok_or_else(|| AuthError::Invalid(format!("unknown signing key {kid}")))?
            }
        };
        DecodingKey::from_jwk(&jwk).map_err(|e| AuthError::Keys(format!("key {kid}: {e}")))
    }

    async fn fetch(&self) -> Result<JwkSet, AuthError> {
        let body = match &self.config.jwks {
            JwksSource::File(path) => std::fs::read(path)
                .map_err(|e| AuthError::Keys(format!("{}: {e}", path.display())))?,
            JwksSource::Url(url) => {
                let response = self
                    .http
                    .get(url)
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .map_err(|e| AuthError::Keys(format!("{url}: {e}")))?;
                response
                    .bytes()
                    .await
                    .map_err(|e| AuthError::Keys(format!("{url}: {e}")))?
                    .to_vec()
            }
        };
        serde_json::from_slice(&body).map_err(|e| AuthError::Keys(format!("not a JWKS: {e}")))
    }
}
