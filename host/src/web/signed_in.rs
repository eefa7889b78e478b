//! The extractor of pages that need a signed-in user: without a valid
//! session the browser is sent to the sign-in page, which brings it back to
//! the page it asked for after signing in.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

use super::error::WebError;
use super::login::login_returning_to;
use crate::auth::session::Session;
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
            Ok(None) => {
                let asked = parts.uri.path_and_query().map_or("", |asked| asked.as_str());
                Err(Redirect::to(&login_returning_to(asked)).into_response())
            }
            Err(error) => Err(WebError::Auth(error.to_string()).into_response()),
        }
    }
}
