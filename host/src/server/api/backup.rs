//! `/backup/...`: create, list, read, change, restore, delete, download and
//! verify backups. Every endpoint needs a ROOT caller whose id is `uid`.

use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio_util::io::ReaderStream;

use super::{Page, UidId, parse_time};
use crate::model::ExpiryChange;
use crate::server::auth::Caller;
use crate::server::extract::{ApiJson, ApiQuery, present};
use crate::server::response::{ApiError, ApiResult, Reply};
use crate::server::restore;
use crate::server::safe_files::{SafeOpenError, open_regular};
use crate::server::snapshot::run_on_snapshot;
use crate::server::state::AppState;

/// Most ids one bulk delete takes.
const MAX_BULK_IDS: usize = 1000;

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
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult {
    caller.root(body.uid)?;
    let expiry = body
        .backup
        .expiry
        .as_deref()
        .map(|text| parse_time("backup.expiry", text))
        .transpose()?;
    let description = body.backup.description.unwrap_or_default();
    let operation = state.tenant.try_begin_operation()?;
    let started = Instant::now();
    let backup = run_on_snapshot(&state, move |runtime, invocation| {
        let _operation = operation;
        runtime.create(invocation, &description, expiry)
    })
    .await?;
    tracing::info!(
        "created backup {} in {} ms: {} bytes",
        backup.name,
        started.elapsed().as_millis(),
        backup.size
    );
    Ok(Reply::ok("Backup created").with("backup", backup))
}

/// `GET /backup/fetch`: a page of backups, newest first, and `amount`.
pub async fn fetch(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult {
    caller.root(page.uid)?;
    let found = state
        .call(move |runtime, invocation| {
            runtime.list(invocation, page.filter.as_deref(), page.limit, page.offset)
        })
        .await?;
    Ok(Reply::ok("Backups fetched")
        .with("backups", found.backups)
        .with("amount", found.amount))
}

/// `GET /backup/fetch/one`: one backup.
pub async fn fetch_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<UidId>,
) -> ApiResult {
    caller.root(query.uid)?;
    let backup = state
        .call(move |runtime, invocation| runtime.get(invocation, query.id))
        .await?;
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
        .call(move |runtime, invocation| {
            runtime.update(
                invocation,
                body.id,
                Some(&body.description),
                ExpiryChange::Keep,
            )
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
    let backup = state
        .call(move |runtime, invocation| runtime.update(invocation, body.id, None, change))
        .await?;
    Ok(Reply::ok("Backup expiry updated").with("backup", backup))
}

/// `GET /backup/restore`: replace the current data with a backup's.
pub async fn restore(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<UidId>,
) -> ApiResult {
    caller.root(query.uid)?;
    let report = restore::restore(&state, query.id).await?;
    Ok(Reply::ok("Backup restored").with("restore", report))
}

/// `DELETE /backup/delete`: remove a backup and its archive.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<UidId>,
) -> ApiResult {
    caller.root(query.uid)?;
    state
        .call(move |runtime, invocation| runtime.delete(invocation, query.id))
        .await?;
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
pub async fn delete_bulk(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<BulkBody>,
) -> ApiResult {
    caller.root(body.uid)?;
    let mut ids = body.ids;
    if ids.is_empty() || ids.len() > MAX_BULK_IDS {
        return Err(ApiError::bad_request(format!(
            "ids: give 1 to {MAX_BULK_IDS} backup ids"
        )));
    }
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
    let (deleted, failed) = state
        .call(move |runtime, invocation| {
            let (mut deleted, mut failed) = (Vec::new(), Vec::new());
            for id in ids {
                match runtime.delete(invocation, id) {
                    Ok(()) => deleted.push(id),
                    Err(err) => failed.push(BulkFailure {
                        id,
                        reason: err.to_string(),
                    }),
                }
            }
            Ok((deleted, failed))
        })
        .await?;
    let message = format!("{} deleted, {} failed", deleted.len(), failed.len());
    Ok(Reply::ok(message)
        .with("deleted", deleted)
        .with("failed", failed))
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
/// without following links. Shared by the API and the web pages' download
/// link.
pub async fn archive_response(state: &AppState, id: u64) -> Result<Response, ApiError> {
    let backup = state
        .call(move |runtime, invocation| runtime.get(invocation, id))
        .await?;
    if !is_archive_name(&backup.name) {
        return Err(ApiError::internal(format!(
            "the catalog names the archive of backup {} {:?}, which is not an archive file name; it is not served",
            backup.id, backup.name
        )));
    }
    let backups_dir = state.tenant.dirs().backups.clone();
    let name = backup.name.clone();
    let opened = tokio::task::spawn_blocking(move || open_regular(&backups_dir, &name))
        .await
        .map_err(|err| {
            ApiError::internal(format!("opening the archive stopped unexpectedly: {err}"))
        })?
        .map_err(|err| match err {
            SafeOpenError::NotFound => ApiError::not_found(format!(
                "the archive {} of backup {} is missing from backups/",
                backup.name, backup.id
            )),
            SafeOpenError::Io(err) => {
                ApiError::internal(format!("cannot open {}: {err}", backup.name))
            }
        })?;
    let stream = ReaderStream::with_capacity(tokio::fs::File::from_std(opened.file), 256 * 1024);
    let headers = [
        (CONTENT_TYPE, "application/gzip".to_owned()),
        (CONTENT_LENGTH, opened.len.to_string()),
        (
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", backup.name),
        ),
    ];
    Ok((headers, Body::from_stream(stream)).into_response())
}

/// `GET /backup/verify`: check an archive against its manifest.
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<UidId>,
) -> ApiResult {
    caller.root(query.uid)?;
    let report = state
        .call(move |runtime, invocation| runtime.verify(invocation, query.id))
        .await?;
    let message = if report.ok {
        "The backup is intact"
    } else {
        "The backup is damaged"
    };
    Ok(Reply::ok(message).with("verify", report))
}

/// `backup-YYYYMMDD_HHMM_ID.tar.gz`: a plain file name that is safe to put
/// in a header and to open.
fn is_archive_name(name: &str) -> bool {
    let Some(middle) = name
        .strip_prefix("backup-")
        .and_then(|rest| rest.strip_suffix(".tar.gz"))
    else {
        return false;
    };
    let mut parts = middle.split('_');
    let shape = [8usize, 4, 0];
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    shape.iter().all(|&len| {
        parts
            .next()
            .is_some_and(|part| all_digits(part) && (len == 0 || part.len() == len))
    }) && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::is_archive_name;

    #[test]
    fn only_catalog_shaped_names_are_served() {
        assert!(is_archive_name("backup-20300131_1200_7.tar.gz"));
        for bad in [
            "../backup-20300131_1200_7.tar.gz",
            "backup-2030_1200_7.tar.gz",
            "backup-20300131_1200_.tar.gz",
            "backup-20300131_1200_7_8.tar.gz",
            "backup-20300131_1200_7.tar.gz\"",
            "catalog.json",
        ] {
            assert!(!is_archive_name(bad), "{bad}");
        }
    }
}
