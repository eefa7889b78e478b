//! Request extractors whose rejections speak the Kinesis shape: a JSON body
//! ([`ApiJson`]) and query parameters ([`ApiQuery`]). axum's own extractors
//! answer in plain text; these answer `400` naming the field that is wrong,
//! and `413` for a body over the size limit.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_LENGTH;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use super::response::ApiError;

/// Largest request body accepted, in bytes.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;
/// Largest refused body read and dropped before the 413 answer, so that a
/// client still sending it receives the answer.
const DRAIN_LIMIT_BYTES: usize = 16 * 1024 * 1024;
/// Longest the server reads a refused body before answering 413.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(3);

/// A JSON request body deserialized into `T`. The `Content-Type` is not
/// checked, so that `curl -d '{...}'` works as written; the body must parse
/// as JSON all the same. (Cross-site forms cannot use this leniency: they
/// cannot send the bearer header or the CSRF header the API requires.)
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is larger than the {} KiB limit", BODY_LIMIT_BYTES / 1024),
            )
        };
        // Refuse an announced oversize body at once, without waiting for it.
        let announced = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if let Some(len) = announced.filter(|len| *len > BODY_LIMIT_BYTES as u64) {
            // Read what the client is sending (up to a bound, briefly) so that
            // the answer reaches it before the connection closes.
            if len <= DRAIN_LIMIT_BYTES as u64 {
                let body = req.into_body();
                let _ = tokio::time::timeout(DRAIN_TIME, axum::body::to_bytes(body, DRAIN_LIMIT_BYTES)).await;
            }
            return Err(too_large());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::bad_request(format!("cannot read the request body: {}", rejection.body_text()))
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Deserializes a JSON body, naming the field at fault when it fails.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the request body is empty; send a JSON object"));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." {
            ApiError::bad_request(format!("invalid JSON body: {inner}"))
        } else {
            ApiError::bad_request(format!("invalid JSON body at `{path}`: {inner}"))
        }
    })?;
    deserializer.end().map_err(|err| {
        ApiError::bad_request(format!(
            "invalid JSON body: something follows the JSON object ({err}); send one object only"
        ))
    })?;
    Ok(value)
}

/// Query parameters deserialized into `T`.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::try_from_uri(&parts.uri).map(|Query(value)| ApiQuery(value)).map_err(|rejection| {
            let text = rejection.body_text();
            let detail = text.strip_prefix("Failed to deserialize query string: ").unwrap_or(&text);
            ApiError::bad_request(format!("invalid query parameters: {detail}"))
        })
    }
}

/// For fields where "absent" and "null" mean different things: absent
/// deserializes to `None` (with `#[serde(default)]`), `null` to
/// `Some(None)` and a value to `Some(Some(value))`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        uid: u64,
        #[serde(default, deserialize_with = "present")]
        expiry: Option<Option<String>>,
    }

    #[test]
    fn absent_null_and_value_are_told_apart() {
        let absent: Body = parse_json(br#"{"uid": 1}"#).unwrap();
        let null: Body = parse_json(br#"{"uid": 1, "expiry": null}"#).unwrap();
        let set: Body = parse_json(br#"{"uid": 1, "expiry": "x"}"#).unwrap();
        assert_eq!((absent.uid, absent.expiry), (1, None));
        assert_eq!(null.expiry, Some(None));
        assert_eq!(set.expiry, Some(Some("x".to_owned())));
    }

    #[test]
    fn errors_name_the_field() {
        let err = parse_json::<Body>(br#"{"uid": "one"}"#).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(err.message.contains("`uid`"), "{}", err.message);
        let err = parse_json::<Body>(br#"{"uid": 1, "colour": 2}"#).unwrap_err();
        assert!(err.message.contains("unknown field `colour`"), "{}", err.message);
        let err = parse_json::<Body>(br#"{}"#).unwrap_err();
        assert!(err.message.contains("missing field `uid`"), "{}", err.message);
        let err = parse_json::<Body>(br#"{"uid": 1} xyz"#).unwrap_err();
        assert!(err.message.contains("something follows the JSON object"), "{}", err.message);
        parse_json::<Body>(b"{\"uid\": 1}\n  ").expect("trailing white space is fine");
        let err = parse_json::<Body>(b"  ").unwrap_err();
        assert!(err.message.contains("empty"), "{}", err.message);
    }
}
