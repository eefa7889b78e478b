//! The interactive API reference at `/scalar`: the Scalar API reference
//! (vendored in `host/vendor/scalar/`, see its README) reading
//! `/openapi.json`. Everything it needs is served by this binary; its
//! policy allows no other site.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::http::response::ApiError;

/// Scalar applies its styles inline; scripts, data and fonts come from here only.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                      img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
                      base-uri 'none'; object-src 'none'";

const PAGE: &str = include_str!("reference/page.html");
const START: &str = include_str!("reference/start.js");
const SCALAR: &str = include_str!("../../vendor/scalar/standalone.js");

/// `GET /scalar`: the reference page.
pub async fn page() -> Response {
    ([(CONTENT_TYPE, "text/html; charset=utf-8"), (CONTENT_SECURITY_POLICY, POLICY)], PAGE).into_response()
}

/// `GET /scalar/{name}`: the page's scripts.
pub async fn asset(Path(name): Path<String>) -> Response {
    let body = match name.as_str() {
        "standalone.js" => SCALAR,
        "start.js" => START,
        _ => return ApiError::not_found(format!("no file {name:?} of the API reference")).into_response(),
    };
    ([(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "no-cache")], body).into_response()
}
