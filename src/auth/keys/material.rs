//! Key material: generating, parsing and publishing one key of each algorithm
//! (RS256, EdDSA, ES256), and signing with it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256,
    RsaKeyPair,
};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::KeyAlgorithm;

const KEY_BITS: usize = 2048;
/// DER SubjectPublicKeyInfo prefixes (RFC 8410, RFC 5480) before the raw public key.
const ED25519_SPKI: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
const P256_SPKI: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

impl KeyAlgorithm {
    pub fn jwt(self) -> Algorithm {
        match self {
            KeyAlgorithm::RS256 => Algorithm::RS256,
            KeyAlgorithm::EdDSA => Algorithm::EdDSA,
            KeyAlgorithm::ES256 => Algorithm::ES256,
        }
    }
}

/// A public key as published in the JWKS (RFC 7517, RFC 8037 for Ed25519), never with a
/// private part: `n`, `e` for RSA; `crv`, `x` (and `y` for EC) otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
    pub kid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

/// RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order, no spaces.
fn thumbprint(canonical: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

impl Jwk {
    pub fn from_public_key(key: &RsaPublicKey) -> Self {
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        Jwk {
            kty: "RSA",
            use_: "sig",
            alg: "RS256",
            kid: thumbprint(&format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#)),
            crv: None,
            n: Some(n),
            e: Some(e),
            x: None,
            y: None,
        }
    }

    /// An Ed25519 public key (32 bytes).
    pub fn ed25519(public: &[u8]) -> Self {
        let x = URL_SAFE_NO_PAD.encode(public);
        Jwk {
            kty: "OKP",
            use_: "sig",
            alg: "EdDSA",
            kid: thumbprint(&format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#)),
            crv: Some("Ed25519"),
            n: None,
            e: None,
            x: Some(x),
            y: None,
        }
    }

    /// A P-256 public key, uncompressed (0x04, x, y: 65 bytes).
    pub fn p256(public: &[u8]) -> anyhow::Result<Self> {
        let [0x04, point @ ..] = public else {
            anyhow::bail!("not an uncompressed P-256 point");
        };
        anyhow::ensure!(point.len() == 64, "not a P-256 point");
        let (x, y) = point.split_at(32);
        let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
        Ok(Jwk {
            kty: "EC",
            use_: "sig",
            alg: "ES256",
            kid: thumbprint(&format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#
            )),
            crv: Some("P-256"),
            n: None,
            e: None,
            x: Some(x),
            y: Some(y),
        })
    }

    fn decoding_key(&self) -> anyhow::Result<DecodingKey> {
        let part = |value: &Option<String>| value.clone().unwrap_or_default();
        Ok(match self.kty {
            "RSA" => DecodingKey::from_rsa_components(&part(&self.n), &part(&self.e))?,
            "OKP" => DecodingKey::from_ed_components(&part(&self.x))?,
            _ => DecodingKey::from_ec_components(&part(&self.x), &part(&self.y))?,
        })
    }
}

/// A private key, parsed once (signing never re-reads the DER).
enum Signer {
    Rsa(RsaKeyPair),
    Ed25519(Ed25519KeyPair),
    P256(EcdsaKeyPair),
}

/// One signing key, ready to sign and verify.
pub struct SigningKey {
    pub kid: String,
    pub algorithm: KeyAlgorithm,
    pub jwk: Jwk,
    signer: Signer,
    pub decoding: DecodingKey,
    pub created_at: DateTime<Utc>,
    pub signing_from: DateTime<Utc>,
    pub retire_after: Option<DateTime<Utc>>,
}

impl SigningKey {
    /// A key from its PKCS#8 PEM, whichever algorithm it is for.
    pub fn from_pem(
        pem: &str,
        created_at: DateTime<Utc>,
        signing_from: DateTime<Utc>,
        retire_after: Option<DateTime<Utc>>,
    ) -> anyhow::Result<Self> {
        let der = ::pem::parse(pem)?;
        let der = der.contents();
        let rng = SystemRandom::new();
        let (algorithm, jwk, signer) =
            if let Ok(pair) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
                let jwk = Jwk::ed25519(pair.public_key().as_ref());
                (KeyAlgorithm::EdDSA, jwk, Signer::Ed25519(pair))
            } else if let Ok(pair) =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
            {
                let jwk = Jwk::p256(pair.public_key().as_ref())?;
                (KeyAlgorithm::ES256, jwk, Signer::P256(pair))
            } else {
                let private = RsaPrivateKey::from_pkcs8_pem(pem)?;
                let jwk = Jwk::from_public_key(&private.to_public_key());
                let pair = RsaKeyPair::from_pkcs8(der)
                    .map_err(|e| anyhow::anyhow!("unusable RSA key: {e}"))?;
                (KeyAlgorithm::RS256, jwk, Signer::Rsa(pair))
            };
        Ok(Self {
            kid: jwk.kid.clone(),
            algorithm,
            decoding: jwk.decoding_key()?,
            jwk,
            signer,
            created_at,
            signing_from,
            retire_after,
        })
    }

    /// A compact JWS of `claims` with this key: header `alg`, `kid`, `typ: JWT`. RS256
    /// takes about a millisecond of CPU: run it on the blocking pool.
    pub fn sign<T: Serialize>(&self, claims: &T) -> anyhow::Result<String> {
        let header = Header {
            kid: Some(self.kid.clone()),
            typ: Some("JWT".into()),
            ..Header::new(self.algorithm.jwt())
        };
        let mut token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(serde_json::to_vec(claims)?, &mut token);
        let rng = SystemRandom::new();
        let signature = match &self.signer {
            Signer::Rsa(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, token.as_bytes(), &mut signature)
                    .map_err(|_| anyhow::anyhow!("RSA signing failed"))?;
                signature
            }
            Signer::Ed25519(pair) => pair.sign(token.as_bytes()).as_ref().to_vec(),
            Signer::P256(pair) => pair
                .sign(&rng, token.as_bytes())
                .map_err(|_| anyhow::anyhow!("ECDSA signing failed"))?
                .as_ref()
                .to_vec(),
        };
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }

    pub fn is_published(&self, now: DateTime<Utc>) -> bool {
        self.retire_after.is_none_or(|retire| retire > now)
    }

    pub fn can_sign(&self, now: DateTime<Utc>) -> bool {
        self.signing_from <= now && self.is_published(now)
    }
}

/// A freshly generated key pair, PEM encoded.
pub struct GeneratedKey {
    pub private_pem: String,
    pub public_pem: String,
    pub jwk: Jwk,
}

/// Generates a key pair. RSA is CPU-heavy (hundreds of ms): call off the async runtime.
pub fn generate(algorithm: KeyAlgorithm) -> anyhow::Result<GeneratedKey> {
    let rng = SystemRandom::new();
    let unavailable = |_| anyhow::anyhow!("the system random generator failed");
    let pem = |tag: &str, der: &[u8]| {
        ::pem::encode_config(
            &::pem::Pem::new(tag, der),
            ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF),
        )
    };
    match algorithm {
        KeyAlgorithm::RS256 => {
            let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, KEY_BITS)?;
            let public = private.to_public_key();
            Ok(GeneratedKey {
                private_pem: private.to_pkcs8_pem(LineEnding::LF)?.to_string(),
                public_pem: public.to_public_key_pem(LineEnding::LF)?,
                jwk: Jwk::from_public_key(&public),
            })
        }
        KeyAlgorithm::EdDSA => {
            let der = Ed25519KeyPair::generate_pkcs8(&rng).map_err(unavailable)?;
            let pair =
                Ed25519KeyPair::from_pkcs8(der.as_ref()).map_err(|e| anyhow::anyhow!("{e}"))?;
            let public = pair.public_key().as_ref();
            Ok(GeneratedKey {
                private_pem: pem("PRIVATE KEY", der.as_ref()),
                public_pem: pem("PUBLIC KEY", &[&ED25519_SPKI[..], public].concat()),
                jwk: Jwk::ed25519(public),
            })
        }
        KeyAlgorithm::ES256 => {
            let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(unavailable)?;
            let pair =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.as_ref(), &rng)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            let public = pair.public_key().as_ref();
            Ok(GeneratedKey {
                private_pem: pem("PRIVATE KEY", der.as_ref()),
                public_pem: pem("PUBLIC KEY", &[&P256_SPKI[..], public].concat()),
                jwk: Jwk::p256(public)?,
            })
        }
    }
}

pub(super) async fn generate_blocking(algorithm: KeyAlgorithm) -> anyhow::Result<GeneratedKey> {
    tokio::task::spawn_blocking(move || generate(algorithm)).await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kid_is_the_rfc7638_thumbprint() {
        // RFC 7638 §3.1 example key and its thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let public = RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(n).unwrap()),
            rsa::BigUint::from(65537u32),
        )
        .unwrap();
        assert_eq!(
            Jwk::from_public_key(&public).kid,
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn ed25519_kid_is_the_rfc8037_thumbprint() {
        // RFC 8037 appendix A.3.
        let x = URL_SAFE_NO_PAD
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .unwrap();
        assert_eq!(
            Jwk::ed25519(&x).kid,
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn generated_keys_round_trip_through_pem_and_verify_their_signatures() {
        for algorithm in [
            KeyAlgorithm::RS256,
            KeyAlgorithm::EdDSA,
            KeyAlgorithm::ES256,
        ] {
            let key = generate(algorithm).unwrap();
            let loaded =
                SigningKey::from_pem(&key.private_pem, Utc::now(), Utc::now(), None).unwrap();
            assert_eq!((loaded.algorithm, &loaded.jwk), (algorithm, &key.jwk));
            assert!(key.public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
            // The published public key (PEM and JWK) verifies what the private key signs.
            let claims = serde_json::json!({"sub": "x", "exp": 4_000_000_000_i64});
            let token = loaded.sign(&claims).unwrap();
            let mut validation = jsonwebtoken::Validation::new(algorithm.jwt());
            validation.required_spec_claims.clear();
            let from_pem = match algorithm {
                KeyAlgorithm::RS256 => DecodingKey::from_rsa_pem(key.public_pem.as_bytes()),
                KeyAlgorithm::EdDSA => DecodingKey::from_ed_pem(key.public_pem.as_bytes()),
                KeyAlgorithm::ES256 => DecodingKey::from_ec_pem(key.public_pem.as_bytes()),
            }
            .unwrap();
            for decoding in [&from_pem, &loaded.decoding] {
                let verified =
                    jsonwebtoken::decode::<serde_json::Value>(&token, decoding, &validation);
                assert_eq!(verified.unwrap().claims, claims, "{algorithm:?}");
            }
        }
    }
}
