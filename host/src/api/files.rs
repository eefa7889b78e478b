//! `/public/...` and `/translations/...`: the tenant's files, read-only,
//! without following links, with a content type for common extensions.

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::response::{IntoResponse, Response};
use tokio_util::io::ReaderStream;

use super::answers::{FileBytes, Message};
use crate::http::AppState;
use crate::http::response::ApiError;
use kinesis_backup_core::tenant::safe_files::{SafeOpenError, open_regular};

/// A file of the tenant's `public/` folder; no token needed.
#[utoipa::path(get, path = "/public/{path}", tag = "files",
    params(("path" = String, Path, description = "The file's path inside `public/`")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = FileBytes),
        (status = 404, description = "No such file", body = Message),
    ))]
pub async fn public(State(state): State<AppState>, Path(path): Path<String>) -> Result<Response, ApiError> {
    serve(state.backups.tenant().dirs().public.clone(), "public", path).await
}

/// A file of the tenant's `translations/` folder; no token needed.
#[utoipa::path(get, path = "/translations/{path}", tag = "files",
    params(("path" = String, Path, description = "The file's path inside `translations/`")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = FileBytes),
        (status = 404, description = "No such file", body = Message),
    ))]
pub async fn translations(State(state): State<AppState>, Path(path): Path<String>) -> Result<Response, ApiError> {
    serve(state.backups.tenant().dirs().translations.clone(), "translations", path).await
}

/// Streams `relative` from `base`, or answers 404.
async fn serve(base: PathBuf, folder: &str, relative: String) -> Result<Response, ApiError> {
    let content_type = content_type(&relative);
    let not_found = ApiError::not_found(format!("no file {relative:?} in {folder}/"));
    let opened = crate::blocking::on_blocking_pool(move || open_regular(&base, &relative))
        .await
        .map_err(|err| ApiError::internal(format!("opening the file stopped unexpectedly: {err}")))?
        .map_err(|err| match err {
            SafeOpenError::NotFound => not_found,
            SafeOpenError::Io(err) => ApiError::internal(format!("cannot open the file: {err}")),
        })?;
    let headers = [
        (CONTENT_TYPE, content_type.to_owned()),
        (CONTENT_LENGTH, opened.len.to_string()),
        (X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
    ];
    let stream = ReaderStream::new(tokio::fs::File::from_std(opened.file));
    Ok((headers, Body::from_stream(stream)).into_response())
}

/// The content type for a file name's extension.
fn content_type(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "txt" | "md" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "wasm" => "application/wasm",
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::content_type;

    #[test]
    fn common_extensions_get_their_types() {
        assert_eq!(content_type("a/site.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type("en.json"), "application/json");
        assert_eq!(content_type("logo.svg"), "image/svg+xml");
        assert_eq!(content_type("README"), "application/octet-stream");
    }
}
