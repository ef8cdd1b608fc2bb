//! Token signing with every `auth.key_algorithm` (RS256, EdDSA, ES256): tokens checked by
//! jose (as PowerSync checks them) against the JWKS, rotation from one algorithm to
//! another with the old keys still published, and each key type's JWKS members.

use std::time::Duration;

use axum::http::StatusCode;
use notebox::app::{AppState, router};
use notebox::auth::{keys, tokens};
use notebox::config::KeyAlgorithm::{self, ES256, EdDSA, RS256};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{allow_first_signup, config_for, get_as, node, post_json, serve, signup};

fn header_of(token: &str) -> jsonwebtoken::Header {
    jsonwebtoken::decode_header(token).unwrap()
}

#[sqlx::test]
async fn every_algorithm_signs_tokens_jose_accepts_across_rotations(pool: PgPool) {
    let mut config = config_for(&pool);
    config.auth.key_algorithm = EdDSA;
    let state = AppState::new(config.clone(), pool.clone());
    let app = router(state.clone());
    allow_first_signup(&pool).await;
    let (_, session) = signup(&app, "ada@example.org").await;
    let token = || async {
        let response = get_as(&app, "/api/auth/token", &session).await;
        assert_eq!(response.status, StatusCode::OK);
        response.json()["token"].as_str().unwrap().to_owned()
    };
    // The first key is made with the configured algorithm; each rotation changes it, and
    // the keys it replaces stay published (their tokens are still live).
    let mut issued: Vec<(KeyAlgorithm, String)> = vec![(EdDSA, token().await)];
    for algorithm in [ES256, RS256, EdDSA] {
        keys::rotate(&pool, Duration::ZERO, config.powersync.token_ttl, algorithm)
            .await
            .unwrap();
        state.auth.keys.invalidate().await; // as the 30 s refresh would
        issued.push((algorithm, token().await));
    }
    for (algorithm, token) in &issued {
        let header = header_of(token);
        assert_eq!(
            (header.alg, header.typ.as_deref()),
            (algorithm.jwt(), Some("JWT"))
        );
        // notebox accepts its own tokens of every live key for uploads.
        let response = post_json(&app, "/api/data", json!({"batch": []}), Some(token)).await;
        assert_eq!(response.status, StatusCode::OK, "{algorithm:?}");
    }

    let base = serve(app.clone()).await;
    let jwks_url = format!("{base}/.well-known/jwks.json");
    let mut args = vec![jwks_url.as_str(), "powersync"];
    args.extend(issued.iter().map(|(_, token)| token.as_str()));
    let verdicts = node("verify-token.mjs", &args).await;
    assert_eq!(verdicts.len(), issued.len());
    for (verdict, (algorithm, token)) in verdicts.iter().zip(&issued) {
        assert_eq!(verdict["ok"], true, "{algorithm:?}: {verdict}");
        assert_eq!(verdict["kid"], header_of(token).kid.unwrap().as_str());
    }

    let jwks: Value = reqwest::get(&jwks_url).await.unwrap().json().await.unwrap();
    let published = jwks["keys"].as_array().unwrap();
    assert_eq!(published.len(), issued.len(), "{jwks}");
    let b64 = |value: &Value| -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(value.as_str().unwrap())
            .unwrap()
    };
    for key in published {
        let mut fields: Vec<&str> = key
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        match key["kty"].as_str().unwrap() {
            "OKP" => {
                assert_eq!(fields, ["alg", "crv", "kid", "kty", "use", "x"], "{key}");
                assert_eq!(
                    (key["alg"].as_str(), key["crv"].as_str()),
                    (Some("EdDSA"), Some("Ed25519"))
                );
                assert_eq!(b64(&key["x"]).len(), 32);
            }
            "EC" => {
                assert_eq!(
                    fields,
                    ["alg", "crv", "kid", "kty", "use", "x", "y"],
                    "{key}"
                );
                assert_eq!(
                    (key["alg"].as_str(), key["crv"].as_str()),
                    (Some("ES256"), Some("P-256"))
                );
                assert_eq!((b64(&key["x"]).len(), b64(&key["y"]).len()), (32, 32));
            }
            "RSA" => {
                assert_eq!(fields, ["alg", "e", "kid", "kty", "n", "use"], "{key}");
                assert_eq!(b64(&key["n"]).len(), 256);
            }
            other => panic!("unexpected key type {other}"),
        }
        assert_eq!(key["use"], "sig");
    }
}

/// A token whose header names another algorithm than its key's is refused, whatever the
/// signature: no algorithm confusion between key types.
#[sqlx::test]
async fn a_token_must_use_its_keys_algorithm(pool: PgPool) {
    let mut config = config_for(&pool);
    config.auth.key_algorithm = EdDSA;
    let ring = notebox::auth::KeyRing::default();
    let user = uuid::Uuid::new_v4();
    let issued = tokens::issue(&ring, &pool, &config, user).await.unwrap();
    assert_eq!(header_of(&issued.token).alg, jsonwebtoken::Algorithm::EdDSA);
    assert_eq!(
        tokens::verify(&ring, &pool, &config, &issued.token)
            .await
            .unwrap(),
        user
    );
    let (_, rest) = issued.token.split_once('.').unwrap();
    for alg in ["RS256", "ES256", "HS256", "none"] {
        use base64::Engine;
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(json!({"alg": alg, "kid": issued.kid, "typ": "JWT"}).to_string());
        let forged = format!("{header}.{rest}");
        assert!(
            tokens::verify(&ring, &pool, &config, &forged)
                .await
                .is_err(),
            "{alg} header on an EdDSA key"
        );
    }
}
