//! Web pages (`/web/...`) for people: server-rendered askama templates
//! (`host/templates/`, checked at compile time) and a little plain
//! JavaScript (`assets/`) that calls the JSON API with the session cookie and
//! the `X-CSRF-Token` header. No front-end build step.
//!
//! - [`session`]: the session and sign-in cookies, CSRF checks;
//! - [`login`]: signing in and out;
//! - [`pages`]: the backups and schedules pages;
//! - [`assets`]: the embedded stylesheet and scripts;
//! - [`error`]: the error page.

mod assets;
mod download;
pub mod error;
mod login;
mod pages;
mod signed_in;

use axum::Router;
use axum::http::HeaderValue;
use axum::http::header;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};

use crate::http::AppState;

/// The routes of the web pages, to be merged into the server's router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/web", get(|| async { Redirect::to(login::HOME_PATH) }))
        .route("/web/", get(|| async { Redirect::to(login::HOME_PATH) }))
        .route(crate::auth::session::LOGIN_PATH, get(login::show).post(login::submit))
        .route("/web/logout", post(login::logout))
        .route("/web/backups", get(pages::backups))
        .route("/web/backups/schedules", get(pages::schedules))
        .route("/web/backups/download", get(download::download))
        .route("/web/assets/{name}", get(assets::serve))
        .route("/web/{*rest}", get(|| async { error::WebError::NotFound }))
        .layer(axum::middleware::map_response(security_headers))
}

/// The pages (and the API reference) load scripts and styles from this
/// server only, cannot be framed, and do not leak their address to other
/// sites.
pub(crate) async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
