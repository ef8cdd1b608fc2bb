//! The HTTP rules for UI files: caching by name, ETags, and the security headers.

use axum::http::header::{self, HeaderName};
use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use url::Url;

use crate::config::Config;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";
const SHORT: &str = "public, max-age=60, must-revalidate";

/// `index.html` and the service worker are always revalidated, so a deploy shows up on
/// the next load. Vendor files
/// carry a content hash in their name (scripts/vendor/vite.config.js) and never change
/// under that name. Our own modules keep their names across versions: a short cache, then
/// a cheap revalidation with the ETag.
pub fn cache_control(name: &str) -> &'static str {
    if name == "index.html" || name == "sw.js" {
        REVALIDATE
    } else if name.starts_with("vendor/") && is_content_hashed(name) {
        IMMUTABLE
    } else {
        SHORT
    }
}

/// Vite's `[name]-[hash].ext`: an 8-character base64url hash before the extension.
fn is_content_hashed(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    let Some((stem, _ext)) = file.rsplit_once('.') else {
        return false;
    };
    let Some(hash) = stem
        .len()
        .checked_sub(8)
        .and_then(|at| (at > 1 && stem.as_bytes()[at - 1] == b'-').then(|| &stem[at..]))
    else {
        return false;
    };
    hash.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A strong ETag from the content's SHA-256 (the first 128 bits are plenty).
pub fn etag(sha256: &[u8; 32]) -> HeaderValue {
    let value = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&sha256[..16]));
    HeaderValue::from_str(&value).expect("base64url is a valid header value")
}

/// Whether `If-None-Match` names this ETag (or `*`): then the answer is 304. Comparison is
/// weak, as RFC 9110 asks for this header, so `W/"x"` matches `"x"`.
pub fn none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.as_bytes();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/").as_bytes() == ours)
}

/// The Content-Type to send: text formats say they are UTF-8.
pub fn content_type(mime: &str) -> HeaderValue {
    let textual = mime.starts_with("text/")
        || matches!(
            mime,
            "application/javascript"
                | "application/json"
                | "image/svg+xml"
                | "application/manifest+json"
        );
    let value = if textual && !mime.contains("charset") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

/// The policy for every UI response, worker scripts included (a worker's CSP is the one
/// delivered with its script). Scripts and workers only from us; `wasm-unsafe-eval` lets
/// wa-sqlite compile its wasm (it never allows `eval`); network access only to us and to
/// the PowerSync service the browser syncs with.
pub fn content_security_policy(config: &Config) -> String {
    let mut connect = String::from("'self'");
    if let Some(origin) = origin_of(&config.powersync.url) {
        connect.push(' ');
        connect.push_str(&origin);
    }
    [
        "default-src 'none'".to_owned(),
        "script-src 'self' 'wasm-unsafe-eval'".to_owned(),
        "worker-src 'self'".to_owned(),
        format!("connect-src {connect}"),
        "style-src 'self'".to_owned(),
        "img-src 'self'".to_owned(),
        "font-src 'self'".to_owned(),
        "manifest-src 'self'".to_owned(),
        "base-uri 'none'".to_owned(),
        "form-action 'self'".to_owned(),
        "frame-ancestors 'none'".to_owned(),
    ]
    .join("; ")
}

/// `scheme://host[:port]` of a URL, as CSP source expressions want it.
fn origin_of(url: &Url) -> Option<String> {
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

pub fn security_headers(config: &Config) -> Vec<(HeaderName, HeaderValue)> {
    let csp = content_security_policy(config);
    vec![
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static("default-src 'self'")),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_content_hashed("vendor/entry-C1UtTfXI.js"));
        assert!(is_content_hashed("vendor/IDBBatchAtomicVFS-BiUU-Rgr.js"));
        assert!(is_content_hashed("vendor/wa-sqlite-async-zc68fxQq.wasm"));
        assert!(!is_content_hashed("vendor/powersync.js"));
        assert!(!is_content_hashed("vendor/wa-sqlite-async.wasm"));
        assert!(!is_content_hashed("-abcdefgh.js"));
    }

    #[test]
    fn cache_policy_by_name() {
        assert_eq!(cache_control("index.html"), "no-cache");
        assert_eq!(cache_control("vendor/worker-BujopRIn.js"), IMMUTABLE);
        assert_eq!(cache_control("vendor/powersync.js"), SHORT);
        // Our own modules are never treated as hashed, whatever their names look like.
        assert_eq!(cache_control("app-settings.js"), SHORT);
    }

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        let tag = HeaderValue::from_static("\"abc\"");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"x\", W/\"abc\""),
        );
        assert!(none_match(&headers, &tag));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"abcd\""));
        assert!(!none_match(&headers, &tag));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(none_match(&headers, &tag));
    }

    #[test]
    fn csp_allows_the_powersync_origin_only() {
        let mut config = Config::default();
        config.powersync.url = Url::parse("https://sync.example.com:8443/some/path").unwrap();
        let csp = content_security_policy(&config);
        assert!(
            csp.contains("connect-src 'self' https://sync.example.com:8443;"),
            "{csp}"
        );
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{csp}");
    }
}
