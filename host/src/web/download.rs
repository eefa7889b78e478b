//! `GET /web/backups/download?id=N`: a backup's archive for the signed-in
//! ROOT user, behind a plain link so that the browser streams it to disk and
//! a large archive is never held in the page's memory.
//!
//! The JSON API accepts the session cookie only with the `X-CSRF-Token`
//! header, which a link cannot send. This route needs no such header because
//! it changes nothing, and the session cookie is `SameSite=Strict`: a link on
//! another site arrives without it.

use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::error::WebError;
use super::signed_in::SignedIn;
use crate::api::backup::archive_response;
use crate::http::AppState;

/// Query of the download link.
#[derive(Debug, Deserialize)]
pub struct DownloadQuery {
    /// The backup's id.
    id: u64,
}

/// Streams the archive, or shows an error page that says why not.
pub async fn download(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(query): Query<DownloadQuery>,
) -> Result<Response, WebError> {
    if !session.is_root() {
        return Err(WebError::RootRequired);
    }
    archive_response(&state, query.id)
        .await
        .map_err(|err| WebError::Failed { status: err.status, message: err.message })
}
