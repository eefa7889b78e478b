//! `Cache-Control: no-store` on every answer that does not choose its own
//! caching: pages and API answers carry a user's data, which must not stay
//! in a browser's or a proxy's cache (nor be shown again by Back after
//! signing out).

use axum::http::HeaderValue;
use axum::http::header::CACHE_CONTROL;
use axum::response::Response;

/// Middleware (for `map_response`) that adds `Cache-Control: no-store`
/// unless the handler set a `Cache-Control` of its own.
pub async fn no_store(mut response: Response) -> Response {
    response.headers_mut().entry(CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}
