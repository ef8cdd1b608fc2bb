//! The edge's part of the OpenAPI document (`/api/openapi.json`): the error envelope's
//! schema, the security schemes, and the answers the edge itself gives on any operation
//! (timeouts, oversized headers, the session and CSRF checks, rejected JSON bodies), added to
//! every operation here so each handler documents only what it decides.

use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr, ResponseBuilder};

/// Every `/api` error: `{"error":{"code":"…","message":"…"}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable: `bad_request`, `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `gone`, `payload_too_large`, `unsupported_media_type`,
    /// `rate_limited`, `unavailable`, `method_not_allowed`, `timeout`, `headers_too_large`,
    /// `internal`.
    pub code: String,
    /// One sentence for people: what is wrong and what to do.
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.to_owned(),
                message: message.into(),
            },
        }
    }
}

/// Security scheme names, as operations cite them in `security(...)`.
pub const BEARER: &str = "bearer";
pub const SESSION_COOKIE: &str = "session_cookie";
pub const POWERSYNC_TOKEN: &str = "powersync_token";

/// Adds the security schemes and the edge's answers to a finished document.
pub fn finish(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "A session token (`session_token` from /api/auth/login or /api/auth/signup) \
                     as `Authorization: Bearer …`: what native apps send.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        SESSION_COOKIE,
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            crate::auth::SESSION_COOKIE,
            "The web UI's session cookie (set by login and sign-up). A write authenticated by \
             this cookie must also carry an `Origin` header naming this site and a JSON \
             `Content-Type` (CSRF defence): otherwise 403 or 415.",
        ))),
    );
    components.add_security_scheme(
        POWERSYNC_TOKEN,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "A PowerSync token this server signed (from /api/auth/token): what the \
                     PowerSync connector uploads with.",
                ))
                .build(),
        ),
    );
    for item in doc.paths.paths.values_mut() {
        let operations = [
            (false, item.get.as_mut()),
            (true, item.post.as_mut()),
            (true, item.put.as_mut()),
            (true, item.patch.as_mut()),
            (true, item.delete.as_mut()),
        ];
        for (writes, operation) in operations {
            let Some(operation) = operation else { continue };
            let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            let has_body = operation.request_body.is_some();
            let responses = &mut operation.responses.responses;
            let mut add = |status: &str, description: &str| {
                responses.entry(status.to_owned()).or_insert_with(|| {
                    RefOr::T(
                        ResponseBuilder::new()
                            .description(description)
                            .content(
                                "application/json",
                                utoipa::openapi::ContentBuilder::new()
                                    .schema(Some(RefOr::Ref(
                                        utoipa::openapi::Ref::from_schema_name("Error"),
                                    )))
                                    .build(),
                            )
                            .build(),
                    )
                });
            };
            add("408", "The request took too long (`timeout`).");
            add(
                "431",
                "The request headers are larger than this server accepts (`headers_too_large`).",
            );
            if secured {
                add(
                    "401",
                    "No credential, or the session has expired or was ended.",
                );
                add(
                    "503",
                    "The database is unavailable; retry (see `Retry-After`).",
                );
            }
            if secured && writes {
                add(
                    "403",
                    "A cookie-authenticated write without this site's `Origin` header.",
                );
                add(
                    "415",
                    "A cookie-authenticated write whose body is not JSON.",
                );
            }
            if has_body {
                add(
                    "400",
                    "The body is not valid JSON or not of the documented shape.",
                );
                add(
                    "413",
                    "The body is larger than this server accepts (`payload_too_large`).",
                );
                add(
                    "415",
                    "The body was not sent with `Content-Type: application/json`.",
                );
            }
        }
    }
}
