//! The JSON API of docs/http-api.md: one module per group of endpoints,
//! and the small parsing helpers they share.

pub mod activity;
pub mod answers;
pub mod backup;
pub mod data;
pub mod files;
pub mod openapi;
pub mod reference;
pub mod schedule;
pub mod upload;
pub mod user;

use axum::Router;
use axum::middleware::map_response;
use axum::routing::{delete, get, patch, post};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::AppState;
use crate::http::response::ApiError;
use crate::web::security_headers;

/// Every API route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/user/login", post(user::login))
        .route("/user/create", post(user::create))
        .route("/backup/create", post(backup::create))
        .route("/backup/fetch", get(backup::fetch))
        .route("/backup/fetch/one", get(backup::fetch_one))
        .route("/backup/update/description", patch(backup::update_description))
        .route("/backup/update/expiry", patch(backup::update_expiry))
        .route("/backup/restore", get(backup::restore))
        .route("/backup/delete", delete(backup::delete))
        .route("/backup/delete/bulk", post(backup::delete_bulk))
        .route("/backup/download", get(backup::download))
        .route("/backup/verify", get(backup::verify))
        .route("/backup/upload", post(upload::upload).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/backup/offsite/retry", post(backup::offsite_retry))
        .route("/backup/activity", get(activity::activity))
        .route("/backup/schedule/create", post(schedule::create))
        .route("/backup/schedule/fetch", get(schedule::fetch))
        .route("/backup/schedule/update", patch(schedule::update))
        .route("/backup/schedule/delete", delete(schedule::delete))
        .route("/data/create", post(data::create))
        .route("/data/fetch", get(data::fetch))
        .route("/data/delete", delete(data::delete))
        .route("/public/{*path}", get(files::public))
        .route("/translations/{*path}", get(files::translations))
        .route("/openapi.json", get(openapi::document))
        .route("/scalar", get(reference::page).layer(map_response(security_headers)))
        .route("/scalar/{name}", get(reference::asset))
}

/// The query of endpoints that act on one backup or schedule.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UidId {
    /// The caller's user id.
    pub uid: u64,
    /// The backup or schedule.
    pub id: u64,
}

/// The query of the backups list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// The caller's user id.
    pub uid: u64,
    /// Page size, 1 to 1000.
    pub limit: u32,
    /// How many matching backups to skip.
    pub offset: u32,
    /// Keep backups whose name or description contains this text, in any
    /// letter case; empty means all.
    #[serde(default)]
    pub filter: Option<String>,
}

/// The query of endpoints that take only the caller.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UidOnly {
    /// The caller's user id.
    pub uid: u64,
}

/// Parses an RFC 3339 time given in `field`.
pub fn parse_time(field: &str, text: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(text.trim()).map(|time| time.with_timezone(&Utc)).map_err(|err| {
        ApiError::bad_request(format!(
            "{field}: {text:?} is not an RFC 3339 date-time like 2030-01-31T12:00:00Z ({err})"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_with_offsets_and_bad_ones_name_the_field() {
        let time = parse_time("expiry", "2030-01-31T13:00:00+01:00").unwrap();
        assert_eq!(time.to_rfc3339(), "2030-01-31T12:00:00+00:00");
        let err = parse_time("backup.expiry", "tomorrow").unwrap_err();
        assert_eq!(err.status, 400);
        assert!(err.message.starts_with("backup.expiry: \"tomorrow\""), "{}", err.message);
    }
}
