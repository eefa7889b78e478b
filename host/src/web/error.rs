//! What a page answers when it cannot be shown: a small HTML page that says
//! why, in words, with the matching status code.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// Why a web page could not be served.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// No page or asset at that address.
    #[error("There is no page at this address.")]
    NotFound,
    /// A form arrived without the token of the page that showed it.
    #[error("This form has expired or was sent from another site. Go back, reload the page and try again.")]
    FormExpired,
    /// A template failed to render (a bug, logged).
    #[error("The page could not be drawn: {0}")]
    Render(#[from] askama::Error),
    /// Checking the session or the credentials failed on the server's side.
    #[error("The server could not check your sign-in: {0}")]
    Auth(String),
    /// The signed-in user is not ROOT, and the page needs ROOT.
    #[error("Backups can only be managed by a ROOT user.")]
    RootRequired,
    /// An operation behind the page failed; the message says why.
    #[error("{message}")]
    Failed {
        /// The HTTP status to answer with.
        status: StatusCode,
        /// What went wrong, in words.
        message: String,
    },
}

impl From<crate::db::DbError> for WebError {
    fn from(err: crate::db::DbError) -> Self {
        WebError::Auth(err.to_string())
    }
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::FormExpired | WebError::RootRequired => StatusCode::FORBIDDEN,
            WebError::Failed { status, .. } => *status,
            WebError::Render(_) | WebError::Auth(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: StatusCode,
    message: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!("web page failed: {self}");
        }
        let page = ErrorPage { status, message: self.to_string() };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, page.message).into_response(),
        }
    }
}
