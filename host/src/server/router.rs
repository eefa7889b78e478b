//! The whole HTTP surface: API, web pages, the Kinesis-shaped answers for
//! unknown paths and methods, the body size limit, `Cache-Control: no-store`
//! and the request log.

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::{Router, middleware};

use crate::http::AppState;
use crate::http::extract::BODY_LIMIT_BYTES;
use crate::http::response::ApiError;
use crate::http::{cache, request_log};
use crate::{api, web};

/// The router with every route, bound to `state`.
pub fn build(state: AppState) -> Router {
    Router::new()
        .merge(api::router())
        .merge(web::router())
        .fallback(unknown_path)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(middleware::map_response(cache::no_store))
        .layer(middleware::from_fn(request_log::log_request))
        .with_state(state)
}

async fn unknown_path(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no endpoint at {}; see docs/http-api.md", uri.path()))
}

async fn wrong_method(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, format!("{} does not take {method} requests", uri.path()))
}
