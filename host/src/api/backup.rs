//! `/backup/...`: create, list, read, change, restore, delete, download and
//! verify backups, and retry their offsite copies. Every endpoint needs a
//! ROOT caller whose id is `uid`. Backups are answered with their offsite
//! state (`offsite`, `offsite_reason`, `local`).

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio_util::io::ReaderStream;

use super::{Page, UidId, parse_time};
use crate::auth::Caller;
use crate::http::AppState;
use crate::http::extract::{ApiJson, ApiQuery, present};
use crate::http::response::{ApiError, ApiResult, Reply};
use kinesis_backup_core::model::ExpiryChange;
use kinesis_backup_core::ops::MAX_BULK_IDS;

/// Body of `POST /backup/create`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    uid: u64,
    #[serde(default)]
    backup: NewBackup,
}

/// The `backup` object of a create.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBackup {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    expiry: Option<String>,
}

/// `POST /backup/create`: a backup of a consistent snapshot of the data.
pub async fn create(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<CreateBody>) -> ApiResult {
    caller.root(body.uid)?;
    let expiry = body.backup.expiry.as_deref().map(|text| parse_time("backup.expiry", text)).transpose()?;
    let description = body.backup.description.unwrap_or_default();
    let backup =
        state.ops(move |backups| backups.create(&description, expiry, None).map(|b| backups.listed(b))).await?;
    Ok(Reply::ok("Backup created").with("backup", backup))
}

/// `GET /backup/fetch`: a page of backups, newest first, and `amount`.
pub async fn fetch(State(state): State<AppState>, caller: Caller, ApiQuery(page): ApiQuery<Page>) -> ApiResult {
    caller.root(page.uid)?;
    let found = state.ops(move |backups| backups.list_listed(page.filter.as_deref(), page.limit, page.offset)).await?;
    Ok(Reply::ok("Backups fetched").with("backups", found.backups).with("amount", found.amount))
}

/// `GET /backup/fetch/one`: one backup.
pub async fn fetch_one(State(state): State<AppState>, caller: Caller, ApiQuery(query): ApiQuery<UidId>) -> ApiResult {
    caller.root(query.uid)?;
    let backup = state.ops(move |backups| backups.get_listed(query.id)).await?;
    Ok(Reply::ok("Backup fetched").with("backup", backup))
}

/// Body of `PATCH /backup/update/description`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescriptionBody {
    uid: u64,
    id: u64,
    description: String,
}

/// `PATCH /backup/update/description`.
pub async fn update_description(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<DescriptionBody>,
) -> ApiResult {
    caller.root(body.uid)?;
    let backup = state
        .ops(move |backups| {
            backups.update(body.id, Some(&body.description), ExpiryChange::Keep).map(|b| backups.listed(b))
        })
        .await?;
    Ok(Reply::ok("Backup description updated").with("backup", backup))
}

/// Body of `PATCH /backup/update/expiry`; `expiry` must be present, `null`
/// removes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpiryBody {
    uid: u64,
    id: u64,
    #[serde(default, deserialize_with = "present")]
    expiry: Option<Option<String>>,
}

/// `PATCH /backup/update/expiry`: set or (with `null`) clear the expiry.
pub async fn update_expiry(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ExpiryBody>,
) -> ApiResult {
    caller.root(body.uid)?;
    let change = match body.expiry {
        None => {
            return Err(ApiError::bad_request(
                "missing field `expiry`: give an RFC 3339 date-time, or null to keep the backup until deleted",
            ));
        }
        Some(None) => ExpiryChange::Clear,
        Some(Some(text)) => ExpiryChange::Set(parse_time("expiry", &text)?),
    };
    let backup = state.ops(move |backups| backups.update(body.id, None, change).map(|b| backups.listed(b))).await?;
    Ok(Reply::ok("Backup expiry updated").with("backup", backup))
}

/// `GET /backup/restore`: replace the current data with a backup's.
pub async fn restore(State(state): State<AppState>, caller: Caller, ApiQuery(query): ApiQuery<UidId>) -> ApiResult {
    caller.root(query.uid)?;
    let report = state.ops(move |backups| backups.restore(query.id, None)).await?;
    if let Err(err) = state.reload_settings() {
        tracing::warn!("the restored .env could not be read, the previous settings stay in use: {err}");
    }
    Ok(Reply::ok("Backup restored").with("restore", report))
}

/// `DELETE /backup/delete`: remove a backup and its archive.
pub async fn delete(State(state): State<AppState>, caller: Caller, ApiQuery(query): ApiQuery<UidId>) -> ApiResult {
    caller.root(query.uid)?;
    state.ops(move |backups| backups.delete(query.id)).await?;
    Ok(Reply::ok(format!("Backup {} deleted", query.id)))
}

/// Body of `POST /backup/delete/bulk`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    uid: u64,
    ids: Vec<u64>,
}

/// A backup a bulk delete could not remove.
#[derive(Debug, Serialize)]
pub struct BulkFailure {
    id: u64,
    reason: String,
}

/// `POST /backup/delete/bulk`: delete several backups; reports each.
pub async fn delete_bulk(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<BulkBody>) -> ApiResult {
    caller.root(body.uid)?;
    let ids = body.ids;
    if ids.is_empty() || ids.len() > MAX_BULK_IDS {
        return Err(ApiError::bad_request(format!("ids: give 1 to {MAX_BULK_IDS} backup ids")));
    }
    let (deleted, failures) = state.ops(move |backups| Ok(backups.delete_many(&ids))).await?;
    let failed: Vec<BulkFailure> =
        failures.into_iter().map(|failure| BulkFailure { id: failure.id, reason: failure.error.to_string() }).collect();
    let message = format!("{} deleted, {} failed", deleted.len(), failed.len());
    Ok(Reply::ok(message).with("deleted", deleted).with("failed", failed))
}

/// `GET /backup/download`: the archive, streamed.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<UidId>,
) -> Result<Response, ApiError> {
    caller.root(query.uid)?;
    archive_response(&state, query.id).await
}

/// The archive of backup `id` as a streamed `application/gzip` attachment;
/// the caller has checked that the user may have it. The file name comes
/// from the catalog record, never from the request, and the file is opened
/// without following links (see `Backups::open_archive`). Shared by the API
/// and the web pages' download link.
pub async fn archive_response(state: &AppState, id: u64) -> Result<Response, ApiError> {
    let (backup, opened) = state.ops(move |backups| backups.open_archive(id)).await?;
    let stream = ReaderStream::with_capacity(tokio::fs::File::from_std(opened.file), 256 * 1024);
    let headers = [
        (CONTENT_TYPE, "application/gzip".to_owned()),
        (CONTENT_LENGTH, opened.len.to_string()),
        (CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", backup.name)),
    ];
    Ok((headers, Body::from_stream(stream)).into_response())
}

/// `GET /backup/verify`: check an archive against its manifest.
pub async fn verify(State(state): State<AppState>, caller: Caller, ApiQuery(query): ApiQuery<UidId>) -> ApiResult {
    caller.root(query.uid)?;
    let report = state.ops(move |backups| backups.verify(query.id, None)).await?;
    let message = if report.ok { "The backup is intact" } else { "The backup is damaged" };
    Ok(Reply::ok(message).with("verify", report))
}

/// Body of `POST /backup/offsite/retry`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryBody {
    uid: u64,
    id: u64,
}

/// `POST /backup/offsite/retry`: copy a backup offsite again now.
pub async fn offsite_retry(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<RetryBody>,
) -> ApiResult {
    caller.root(body.uid)?;
    let backup = state.ops(move |backups| backups.offsite_retry(body.id)).await?;
    Ok(Reply::ok(format!("Offsite copy of backup {} queued", body.id)).with("backup", backup))
}
