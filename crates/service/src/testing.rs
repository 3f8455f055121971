//! Push tokens signed by the test key in `fixtures/` — a stand-in for
//! Google's token issuer, which no test can reach. Feature `testing`.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde::Serialize;
use std::path::PathBuf;

/// The `kid` of the test key.
pub const TEST_KID: &str = "propcast-test-1";

/// The JWKS file with the test key's public half.
pub fn test_jwks_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/push-test-jwks.json")
}

/// The claims of a push token; change fields to forge bad ones.
#[derive(Debug, Clone, Serialize)]
pub struct TestClaims {
    pub iss: String,
    pub aud: String,
    pub email: String,
    pub email_verified: bool,
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
}

impl TestClaims {
    /// A valid token's claims for `audience` and `email`, good for an hour.
    pub fn valid(audience: &str, email: &str) -> Self {
        let now = chrono::Utc::now().timestamp();
        TestClaims {
            iss: "https://accounts.google.com".into(),
            aud: audience.into(),
            email: email.into(),
            email_verified: true,
            sub: "1234567890".into(),
            iat: now,
            exp: now + 3600,
        }
    }

    /// Signs with the test key (RS256, kid [`TEST_KID`]).
    pub fn sign(&self) -> String {
        let pem = include_bytes!("../fixtures/push-test-key.pem");
        let key = EncodingKey::from_rsa_pem(pem).expect("the test key loads");
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(TEST_KID.to_string());
        encode(&header, self, &key).expect("the test key signs")
    }
}
