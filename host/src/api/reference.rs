//! The interactive API reference at `/scalar`: a small page of this
//! binary's own (`reference/`) that reads `/openapi.json` and shows every
//! endpoint with its parameters, body and answers, and sends any of them
//! with a token. It loads nothing from other sites.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::http::response::ApiError;

const PAGE: &str = include_str!("reference/page.html");

/// The page's script and stylesheet: name, content type, body.
const FILES: &[(&str, &str, &str)] = &[
    ("reference.js", "text/javascript; charset=utf-8", include_str!("reference/reference.js")),
    ("reference.css", "text/css; charset=utf-8", include_str!("reference/reference.css")),
];

/// `GET /scalar`: the reference page, under the pages' security headers
/// (the router adds them).
pub async fn page() -> Response {
    ([(CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response()
}

/// `GET /scalar/{name}`: the page's script and stylesheet.
pub async fn asset(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, body)) => {
            ([(CONTENT_TYPE, *content_type), (CACHE_CONTROL, "no-cache")], *body).into_response()
        }
        None => ApiError::not_found(format!("no file {name:?} of the API reference")).into_response(),
    }
}
