//! `/data/...`: the small records API (any signed-in user, `uid` must be
//! the caller's), so that a restore has something a person can see change.

use axum::extract::State;
use serde::Deserialize;

use super::user::db_error;
use crate::auth::Caller;
use crate::http::AppState;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::response::{ApiError, ApiResult, Reply};

/// Body of `POST /data/create`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    uid: u64,
    collection: String,
    key: String,
    value: serde_json::Value,
}

/// `POST /data/create`: store a record (replacing one with the same key).
pub async fn create(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<CreateBody>) -> ApiResult {
    caller.same_user(body.uid)?;
    let record =
        state.db.write(move |db| db.put_record(&body.collection, &body.key, &body.value)).await.map_err(db_error)?;
    Ok(Reply::ok("Record saved").with("record", record))
}

/// Query of `GET /data/fetch`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchQuery {
    uid: u64,
    collection: String,
}

/// `GET /data/fetch`: every record of a collection.
pub async fn fetch(State(state): State<AppState>, caller: Caller, ApiQuery(query): ApiQuery<FetchQuery>) -> ApiResult {
    caller.same_user(query.uid)?;
    let records = state.db.read(move |db| db.records(&query.collection)).await.map_err(db_error)?;
    Ok(Reply::ok("Records fetched").with("records", records))
}

/// Query of `DELETE /data/delete`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    uid: u64,
    collection: String,
    key: String,
}

/// `DELETE /data/delete`: remove a record.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<DeleteQuery>,
) -> ApiResult {
    caller.same_user(query.uid)?;
    let missing = format!("no record {:?} in collection {:?}", query.key, query.collection);
    let existed = state.db.write(move |db| db.delete_record(&query.collection, &query.key)).await.map_err(db_error)?;
    if !existed {
        return Err(ApiError::not_found(missing));
    }
    Ok(Reply::ok("Record deleted"))
}
