//! The Kinesis response shape: every answer is a JSON object
//! `{"status": <code>, "message": "<text>", ...payload}` with the same status
//! on the HTTP line. [`Reply`] builds successful answers, [`ApiError`] the
//! failures; the one mapping from an operation's failure kind to an HTTP
//! status lives here.

use axum::Json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use kinesis_backup_core::ops::{ErrorKind, OpsError};

/// A successful answer: a status, a message and named payload fields.
#[derive(Debug)]
#[must_use]
pub struct Reply {
    status: StatusCode,
    message: String,
    payload: Map<String, Value>,
    /// Set when a payload value could not be turned into JSON.
    broken: Option<String>,
}

impl Reply {
    /// A `200 OK` answer with `message`.
    pub fn ok(message: impl Into<String>) -> Self {
        Reply { status: StatusCode::OK, message: message.into(), payload: Map::new(), broken: None }
    }

    /// Adds the payload field `key`.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        match serde_json::to_value(value) {
            Ok(value) => {
                self.payload.insert(key.to_owned(), value);
            }
            Err(err) => self.broken = Some(format!("cannot encode `{key}` as JSON: {err}")),
        }
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        if let Some(problem) = self.broken {
            return ApiError::internal(problem).into_response();
        }
        kinesis_body(self.status, &self.message, self.payload)
    }
}

/// A failed request: the status code and a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong and, where possible, what to do.
    pub message: String,
    /// Seconds to wait before trying again (`Retry-After`), for a 429.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), retry_after: None }
    }
    /// 400: the request itself is wrong.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    /// 401: no valid credentials, or credentials for another user.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
    /// 403: signed in, but the role does not allow this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    /// 404: nothing with that id or path.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    /// 409: another backup or restore is running.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
    /// 429 with `Retry-After: seconds`: too many attempts; wait, then try again.
    pub fn too_many_requests(message: impl Into<String>, seconds: u64) -> Self {
        ApiError { retry_after: Some(seconds), ..Self::new(StatusCode::TOO_MANY_REQUESTS, message) }
    }
    /// 500: a fault on the server's side the caller cannot fix.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

/// The HTTP status of each kind of operation failure.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadInput => StatusCode::BAD_REQUEST,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Busy => StatusCode::CONFLICT,
        ErrorKind::Unusable => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::DiskFull => StatusCode::INSUFFICIENT_STORAGE,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<OpsError> for ApiError {
    fn from(err: OpsError) -> Self {
        ApiError::new(status_of(err.kind()), err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = kinesis_body(self.status, &self.message, Map::new());
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The result type of every API handler.
pub type ApiResult = Result<Reply, ApiError>;

/// Builds `{"status", "message", ...payload}` with `status` on the HTTP line.
fn kinesis_body(status: StatusCode, message: &str, mut payload: Map<String, Value>) -> Response {
    payload.insert("status".to_owned(), Value::from(status.as_u16()));
    payload.insert("message".to_owned(), Value::from(message));
    (status, Json(Value::Object(payload))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(response: Response) -> (StatusCode, Value) {
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn reply_carries_status_message_and_payload() {
        let (status, body) = body_of(Reply::ok("made").with("thing", [1, 2]).into_response()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, serde_json::json!({"status": 200, "message": "made", "thing": [1, 2]}));
    }

    #[tokio::test]
    async fn operation_failures_map_to_their_status_codes() {
        use kinesis_backup_core::runtime::CallError;
        let cases = [
            (OpsError::from(CallError::InvalidInput("bad cron".into())), 400),
            (OpsError::from(CallError::NotFound("no backup 9".into())), 404),
            (OpsError::Busy, 409),
            (OpsError::from(CallError::CorruptArchive("flipped byte".into())), 422),
            (OpsError::DiskFull { place: "backups/".into(), need: "1 MiB".into(), have: "0 B".into() }, 507),
            (OpsError::from(CallError::Storage("cannot list".into())), 500),
            (OpsError::TooLarge { limit: 10 }, 413),
            (OpsError::ImportRefused("a link".into()), 422),
            (OpsError::NoOffsite, 400),
        ];
        for (err, code) in cases {
            let message = err.to_string();
            let (status, body) = body_of(ApiError::from(err).into_response()).await;
            assert_eq!(status.as_u16(), code);
            assert_eq!(body["status"], code);
            assert_eq!(body["message"], message);
        }
    }
}
