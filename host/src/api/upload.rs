//! `POST /backup/upload?uid=N&name=backup-YYYYMMDD_HHMM_ID.tar.gz[&description=TEXT]`:
//! an archive sent as the request body (streamed to disk, never held in
//! memory) is added back under its own name once the core has checked it
//! completely. The body has its own
//! size limit (`serve --upload-limit`), far above the JSON endpoints' 1 MiB:
//! an announced larger body is refused at once, one that grows past it
//! while streaming is cut off; either answers 413 and keeps nothing. An
//! archive that fails its checks answers 422 and keeps nothing.

use axum::body::{Body, BodyDataStream};
use axum::extract::State;
use axum::http::header::CONTENT_LENGTH;
use axum::http::{HeaderMap, StatusCode};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use utoipa::IntoParams;

use crate::api::answers::{BackupAnswer, FileBytes, Message};
use crate::auth::Caller;
use crate::http::AppState;
use crate::http::extract::ApiQuery;
use crate::http::response::{ApiError, ApiResult, Reply};
use kinesis_backup_core::ops::OpsError;

/// Query of an upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The caller's user id.
    uid: u64,
    /// The archive's own name, `backup-YYYYMMDD_HHMM_ID.tar.gz`.
    name: String,
    /// Its description; default: its offsite record's, else `uploaded`.
    #[serde(default)]
    description: Option<String>,
}

/// Longest a refused upload is read and dropped before the 413 answer, so
/// that a client still sending receives it.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(3);

/// `POST /backup/upload`: the body is the archive itself.
#[utoipa::path(post, path = "/backup/upload", tag = "backups", params(UploadQuery),
    request_body(content = FileBytes, content_type = "application/octet-stream",
        description = "The archive, as a download gave it"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Checked and added", body = BackupAnswer),
        (status = 400, description = "A parameter missing or unknown, a name that is not an archive's, an empty body",
            body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
        (status = 409, description = "Another backup or restore is running, or another upload is being received",
            body = Message),
        (status = 413, description = "Larger than the server's upload limit; nothing is kept", body = Message),
        (status = 422, description = "The archive failed its checks, or a backup with its id exists; nothing is kept",
            body = Message),
        (status = 507, description = "The disk is full, or the upload would pass the tenant's quota", body = Message),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    caller.root(query.uid)?;
    let limit = state.upload_limit;
    let announced = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    // Over the limit is refused before the tenant's upload slot is taken.
    if announced.is_some_and(|len| len > limit) {
        drain(body.into_data_stream()).await;
        return Err(OpsError::TooLarge { limit }.into());
    }
    let name = query.name.clone();
    let staging = state.ops(move |backups| backups.import_begin(&name)).await?;
    if let Some(Err(refused)) = announced.map(|len| staging.refuse_past(len, limit)) {
        drop(staging);
        drain(body.into_data_stream()).await;
        return Err(refused.into());
    }
    let failed = |err| ApiError::from(staging.write_failure(err));
    let mut file = tokio::fs::File::create(staging.path()).await.map_err(failed)?;
    let mut stream = body.into_data_stream();
    let mut written = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| ApiError::bad_request(format!("the upload broke off: {err}")))?;
        written += chunk.len() as u64;
        if let Err(refused) = staging.refuse_past(written, limit) {
            drop(file);
            drop(staging);
            drain(stream).await;
            return Err(refused.into());
        }
        file.write_all(&chunk).await.map_err(failed)?;
    }
    file.sync_all().await.map_err(failed)?;
    drop(file);
    if written == 0 {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "the request body is empty; send the archive as the body"));
    }
    let (name, description) = (query.name, query.description);
    let backup = state
        .ops(move |backups| backups.import(staging, &name, description.as_deref()).map(|b| backups.listed(b)))
        .await?;
    Ok(Reply::ok("Backup uploaded").with("backup", backup))
}

/// Reads and drops what the client is still sending, briefly.
async fn drain(mut stream: BodyDataStream) {
    let _ = tokio::time::timeout(DRAIN_TIME, async { while let Some(Ok(_)) = stream.next().await {} }).await;
}
