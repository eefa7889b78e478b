//! `/backup/...`: create, list, read, change, restore, delete, download and
//! verify backups, and retry their offsite copies. Every endpoint needs a
//! ROOT caller whose id is `uid`. Backups are answered with their offsite
//! state (`offsite`, `offsite_reason`, `local`).

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio_util::io::ReaderStream;
use utoipa::ToSchema;

use super::answers::{
    BackupAnswer, BackupsAnswer, BulkAnswer, BulkFailure, FileBytes, Message, RestoreAnswer, VerifyAnswer,
};
use super::{Page, UidId, parse_time};
use crate::auth::Caller;
use crate::http::AppState;
use crate::http::extract::{ApiJson, ApiQuery, present};
use crate::http::response::{ApiError, ApiResult, Reply};
use kinesis_backup_core::model::ExpiryChange;
use kinesis_backup_core::ops::MAX_BULK_IDS;

/// Body of `POST /backup/create`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = BackupCreateBody)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// The caller's user id.
    uid: u64,
    /// May be left out: a backup without description or expiry.
    #[serde(default)]
    backup: NewBackup,
}

/// The `backup` object of a create.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBackup {
    /// Free text to find the backup by; at most 1000 characters.
    #[serde(default)]
    description: Option<String>,
    /// When to remove the backup automatically (RFC 3339, in the future);
    /// absent or null keeps it until deleted.
    #[serde(default)]
    #[schema(format = DateTime)]
    expiry: Option<String>,
}

/// Makes a full backup now, from a consistent snapshot of the database.
///
/// The answer comes when the archive is complete; `GET /backup/activity`
/// shows its progress meanwhile.
#[utoipa::path(post, path = "/backup/create", tag = "backups", request_body = CreateBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Backup created", body = BackupAnswer),
        (status = 400, description = "A bad body, an expiry not in the future, a description too long", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
        (status = 409, description = "Another backup or restore is running", body = Message),
        (status = 500, description = "A fault on the server's side", body = Message),
        (status = 507, description = "The disk is full", body = Message),
    ))]
pub async fn create(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<CreateBody>) -> ApiResult {
    caller.root(body.uid)?;
    let expiry = body.backup.expiry.as_deref().map(|text| parse_time("backup.expiry", text)).transpose()?;
    let description = body.backup.description.unwrap_or_default();
    let backup =
        state.ops(move |backups| backups.create(&description, expiry, None).map(|b| backups.listed(b))).await?;
    Ok(Reply::ok("Backup created").with("backup", backup))
}

/// A page of backups, newest first, and `amount`, how many match in all.
#[utoipa::path(get, path = "/backup/fetch", tag = "backups", params(Page), security(("bearer" = [])),
    responses(
        (status = 200, description = "Backups fetched", body = BackupsAnswer),
        (status = 400, description = "A parameter missing, unknown or out of range", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
    ))]
pub async fn fetch(State(state): State<AppState>, caller: Caller, ApiQuery(page): ApiQuery<Page>) -> ApiResult {
    caller.root(page.uid)?;
    let found = state.ops(move |backups| backups.list_listed(page.filter.as_deref(), page.limit, page.offset)).await?;
    Ok(Reply::ok("Backups fetched").with("backups", found.backups).with("amount", found.amount))
}

/// One backup.
#[utoipa::path(get, path = "/backup/fetch/one", tag = "backups", params(UidId), security(("bearer" = [])),
    responses(
        (status = 200, description = "Backup fetched", body = BackupAnswer),
        (status = 400, description = "A parameter missing, unknown or not a number", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
        (status = 404, description = "No backup with that id", body = Message),
    ))]
pub async fn fetch_one(State(state): State<AppState>, caller: Caller, ApiQuery(query): ApiQuery<UidId>) -> ApiResult {
    caller.root(query.uid)?;
    let backup = state.ops(move |backups| backups.get_listed(query.id)).await?;
    Ok(Reply::ok("Backup fetched").with("backup", backup))
}

/// Body of `PATCH /backup/update/description`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DescriptionBody {
    /// The caller's user id.
    uid: u64,
    /// The backup.
    id: u64,
    /// The new description; `""` removes it; at most 1000 characters.
    description: String,
}

/// Changes a backup's description; the expiry stays.
#[utoipa::path(patch, path = "/backup/update/description", tag = "backups", request_body = DescriptionBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Backup description updated", body = BackupAnswer),
        (status = 400, description = "A bad body, a description too long", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
        (status = 404, description = "No backup with that id", body = Message),
    ))]
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
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpiryBody {
    /// The caller's user id.
    uid: u64,
    /// The backup.
    id: u64,
    /// A time in the future (RFC 3339) sets the expiry; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    expiry: Option<Option<String>>,
}

/// Sets or (with `null`) removes a backup's expiry; the description stays.
#[utoipa::path(patch, path = "/backup/update/expiry", tag = "backups", request_body = ExpiryBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Backup expiry updated", body = BackupAnswer),
        (status = 400, description = "`expiry` left out, not RFC 3339 or not in the future", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
        (status = 404, description = "No backup with that id", body = Message),
    ))]
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

/// Replaces the tenant's `.env`, `data/`, `public/` and `translations/` with a backup's.
///
/// Journaled: even a crash leaves the tenant exactly as before or exactly as
/// the backup. `GET /backup/activity` shows its progress meanwhile.
#[utoipa::path(get, path = "/backup/restore", tag = "backups", params(UidId), security(("bearer" = [])),
    responses(
        (status = 200, description = "Backup restored", body = RestoreAnswer),
        (status = 400, description = "A parameter missing, unknown or not a number", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
        (status = 404, description = "No backup with that id", body = Message),
        (status = 409, description = "Another backup or restore is running", body = Message),
        (status = 422, description = "The archive or its content cannot be used; nothing was changed", body = Message),
        (status = 500, description = "A fault on the server's side", body = Message),
        (status = 507, description = "The disk is full; nothing was changed", body = Message),
    ))]
pub async fn restore(State(state): State<AppState>, caller: Caller, ApiQuery(query): ApiQuery<UidId>) -> ApiResult {
    caller.root(query.uid)?;
    let report = state.ops(move |backups| backups.restore(query.id, None)).await?;
    if let Err(err) = state.reload_settings() {
        tracing::warn!("the restored .env could not be read, the previous settings stay in use: {err}");
    }
    Ok(Reply::ok("Backup restored").with("restore", report))
}

/// Removes a backup: its record and its archive file.
#[utoipa::path(delete, path = "/backup/delete", tag = "backups", params(UidId), security(("bearer" = [])),
    responses(
        (status = 200, description = "Backup deleted", body = Message),
        (status = 400, description = "A parameter missing, unknown or not a number", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
        (status = 404, description = "No backup with that id", body = Message),
    ))]
pub async fn delete(State(state): State<AppState>, caller: Caller, ApiQuery(query): ApiQuery<UidId>) -> ApiResult {
    caller.root(query.uid)?;
    state.ops(move |backups| backups.delete(query.id)).await?;
    Ok(Reply::ok(format!("Backup {} deleted", query.id)))
}

/// Body of `POST /backup/delete/bulk`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    /// The caller's user id.
    uid: u64,
    /// 1 to 1000 backup ids; repeated ids count once.
    ids: Vec<u64>,
}

/// Deletes several backups, one after the other, and reports each.
#[utoipa::path(post, path = "/backup/delete/bulk", tag = "backups", request_body = BulkBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Carried out; see `deleted` and `failed`", body = BulkAnswer),
        (status = 400, description = "A bad body; `ids` empty or longer than 1000", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
    ))]
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

/// The archive file itself, streamed (not JSON when it succeeds).
#[utoipa::path(get, path = "/backup/download", tag = "backups", params(UidId), security(("bearer" = [])),
    responses(
        (status = 200, description = "The archive", content_type = "application/gzip", body = FileBytes),
        (status = 400, description = "A parameter missing, unknown or not a number", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
        (status = 404, description = "No backup with that id, or its archive is missing", body = Message),
        (status = 500, description = "The archive cannot be opened", body = Message),
    ))]
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

/// Re-reads a backup's archive and checks it against its manifest and checksum.
///
/// `GET /backup/activity` shows its progress meanwhile.
#[utoipa::path(get, path = "/backup/verify", tag = "backups", params(UidId), security(("bearer" = [])),
    responses(
        (status = 200, description = "The backup is intact, or damaged: see `verify.ok`", body = VerifyAnswer),
        (status = 400, description = "A parameter missing, unknown or not a number", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
        (status = 404, description = "No backup with that id", body = Message),
        (status = 500, description = "A fault on the server's side", body = Message),
    ))]
pub async fn verify(State(state): State<AppState>, caller: Caller, ApiQuery(query): ApiQuery<UidId>) -> ApiResult {
    caller.root(query.uid)?;
    let report = state.ops(move |backups| backups.verify(query.id, None)).await?;
    let message = if report.ok { "The backup is intact" } else { "The backup is damaged" };
    Ok(Reply::ok(message).with("verify", report))
}

/// Body of `POST /backup/offsite/retry`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryBody {
    /// The caller's user id.
    uid: u64,
    /// The backup to copy offsite again.
    id: u64,
}

/// `POST /backup/offsite/retry`: copy a backup offsite again now.
#[utoipa::path(post, path = "/backup/offsite/retry", tag = "backups", request_body = RetryBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The copy is queued", body = BackupAnswer),
        (status = 400, description = "A bad body, or no offsite target is configured", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
        (status = 404, description = "No backup with that id", body = Message),
    ))]
pub async fn offsite_retry(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<RetryBody>,
) -> ApiResult {
    caller.root(body.uid)?;
    let backup = state.ops(move |backups| backups.offsite_retry(body.id)).await?;
    Ok(Reply::ok(format!("Offsite copy of backup {} queued", body.id)).with("backup", backup))
}
