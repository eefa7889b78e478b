//! The extractor of pages that need a signed-in user: without a valid
//! session the browser is sent to the sign-in page.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

use super::error::WebError;
use crate::auth::session::{LOGIN_PATH, Session};
use crate::http::AppState;

/// Extractor for pages that need a signed-in user: without a valid session
/// the browser is sent to the sign-in page.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Session);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match Session::of(state, &parts.headers).await {
            Ok(Some(session)) => Ok(SignedIn(session)),
            Ok(None) => Err(Redirect::to(LOGIN_PATH).into_response()),
            Err(error) => Err(WebError::Auth(error.to_string()).into_response()),
        }
    }
}
