//! `/data/...`: the small records API (any signed-in user, `uid` must be
//! the caller's), so that a restore has something a person can see change.

use axum::extract::State;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::answers::{Message, RecordAnswer, RecordsAnswer};

use super::user::db_error;
use crate::auth::Caller;
use crate::http::AppState;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::response::{ApiError, ApiResult, Reply};

/// Body of `POST /data/create`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = RecordCreateBody)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// The caller's user id.
    uid: u64,
    /// The collection.
    collection: String,
    /// The record's key in the collection.
    key: String,
    /// Any JSON value.
    value: serde_json::Value,
}

/// Stores a record, replacing one with the same key. Any signed-in user.
#[utoipa::path(post, path = "/data/create", tag = "data", request_body = CreateBody, security(("bearer" = [])),
    responses(
        (status = 200, description = "Record saved", body = RecordAnswer),
        (status = 400, description = "A bad body, a bad collection or key", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "`uid` is not the caller", body = Message),
    ))]
pub async fn create(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<CreateBody>) -> ApiResult {
    caller.same_user(body.uid)?;
    let record =
        state.db.write(move |db| db.put_record(&body.collection, &body.key, &body.value)).await.map_err(db_error)?;
    Ok(Reply::ok("Record saved").with("record", record))
}

/// Query of `GET /data/fetch`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FetchQuery {
    /// The caller's user id.
    uid: u64,
    /// The collection.
    collection: String,
}

/// Every record of a collection. Any signed-in user.
#[utoipa::path(get, path = "/data/fetch", tag = "data", params(FetchQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "Records fetched", body = RecordsAnswer),
        (status = 400, description = "A parameter missing or unknown", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "`uid` is not the caller", body = Message),
    ))]
pub async fn fetch(State(state): State<AppState>, caller: Caller, ApiQuery(query): ApiQuery<FetchQuery>) -> ApiResult {
    caller.same_user(query.uid)?;
    let records = state.db.read(move |db| db.records(&query.collection)).await.map_err(db_error)?;
    Ok(Reply::ok("Records fetched").with("records", records))
}

/// Query of `DELETE /data/delete`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// The caller's user id.
    uid: u64,
    /// The collection.
    collection: String,
    /// The record's key.
    key: String,
}

/// Removes a record. Any signed-in user.
#[utoipa::path(delete, path = "/data/delete", tag = "data", params(DeleteQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "Record deleted", body = Message),
        (status = 400, description = "A parameter missing or unknown", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "`uid` is not the caller", body = Message),
        (status = 404, description = "No such record", body = Message),
    ))]
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
