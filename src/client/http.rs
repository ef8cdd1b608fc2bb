//! The PowerSync SDK's HTTP client, on notebox's own reqwest (the SDK's `reqwest` feature
//! would pull a second reqwest major). It also keeps the body of the last refusal, because
//! the SDK reduces every 401 to "credentials not accepted" and the body's `PSYNC_S21xx`
//! code is what tells an audience mismatch from a key the service has not fetched.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use powersync::error::PowerSyncError;
use powersync::http::{HttpClient, Request, Response, ResponseBody};

/// A refused request: its status and (the start of) its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub body: String,
}

impl Refusal {
    /// The service's error code (`PSYNC_S2105`), when the body carries one.
    pub fn code(&self) -> Option<String> {
        let json: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        json["error"]["code"].as_str().map(str::to_owned)
    }
}

/// Failed before any answer: connection refused, DNS, TLS.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

#[derive(Clone, Default)]
pub struct SdkHttp {
    client: reqwest::Client,
    last_refusal: Arc<Mutex<Option<Refusal>>>,
    last_send_error: Arc<Mutex<Option<String>>>,
}

impl SdkHttp {
    pub fn new(client: reqwest::Client) -> Self {
        Self {
            client,
            ..Self::default()
        }
    }

    pub fn last_refusal(&self) -> Option<Refusal> {
        self.last_refusal.lock().expect("not poisoned").clone()
    }

    pub fn last_send_error(&self) -> Option<String> {
        self.last_send_error.lock().expect("not poisoned").clone()
    }
}

#[async_trait]
impl HttpClient for SdkHttp {
    async fn send(&self, request: Request) -> Result<Response, PowerSyncError> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(PowerSyncError::upload_error)?;
        let mut builder = self.client.request(method, request.url);
        for (name, value) in request.headers {
            builder = builder.header(name, value.as_ref());
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let response = match builder.send().await {
            Ok(response) => response,
            Err(error) => {
                let text = error_chain(&error);
                *self.last_send_error.lock().expect("not poisoned") = Some(text.clone());
                return Err(PowerSyncError::upload_error(SendError(text)));
            }
        };
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if !response.status().is_success() {
            let mut body = response.text().await.unwrap_or_default();
            body.truncate(2000);
            *self.last_refusal.lock().expect("not poisoned") = Some(Refusal { status, body });
            return Ok(Response {
                status,
                content_type,
                body: ResponseBody {
                    reader: Box::pin(futures_util::stream::empty::<
                        Result<bytes::Bytes, PowerSyncError>,
                    >()),
                    length: Some(0),
                },
            });
        }
        let length = response.content_length();
        let reader = futures_util::stream::unfold(response, |mut response| async move {
            match response.chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), response)),
                Ok(None) => None,
                Err(error) => Some((
                    Err(PowerSyncError::upload_error(SendError(error_chain(&error)))),
                    response,
                )),
            }
        });
        Ok(Response {
            status,
            content_type,
            body: ResponseBody {
                reader: Box::pin(reader),
                length,
            },
        })
    }
}

/// An error and its causes on one line ("error sending request: connection refused").
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
