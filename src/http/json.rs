//! `Json` whose rejections are ours, so a bad body gets the same envelope as any error.

use axum::extract::FromRequest;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::ApiError;

#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
