//! The browser session: the `kinesis_session` cookie carrying the session
//! id (what it stands for is kept by the server, see
//! [`super::session_store`]), the CSRF token the pages send back, and the
//! pre-session cookie that protects the sign-in form itself.
//!
//! The session cookie is HttpOnly (page scripts never see the id) and
//! SameSite=Strict (no other site's page sends it). Page scripts prove they
//! run on our pages with the `X-CSRF-Token` header, whose value
//! (`auth::csrf_token`, an HMAC of the id) is embedded in the page.

use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;

use crate::auth::session_store::{SessionRecord, still_valid};
use crate::auth::{self, SESSION_COOKIE, Verified};
use crate::db::{DbError, Role, User};
use crate::http::AppState;

/// The pre-session cookie: a random nonce that the sign-in form must echo.
pub const LOGIN_COOKIE: &str = "kinesis_login";
/// Where the sign-in page lives (also the path of [`LOGIN_COOKIE`]).
pub const LOGIN_PATH: &str = "/web/login";

/// A signed-in user as the pages need them.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who is signed in.
    pub user: User,
    /// The value page scripts send as `X-CSRF-Token`.
    pub csrf: String,
}

impl Session {
    /// The session of a request, if its cookie names an open session.
    /// `Ok(None)` when there is no cookie or the session has ended.
    pub async fn of(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, DbError> {
        match auth::session_cookie(headers) {
            Some(id) => Session::find(state, &id).await,
            None => Ok(None),
        }
    }

    /// The open session `id`, while its user exists with the password they
    /// signed in with; a session whose user is gone or has a new password
    /// is ended here.
    pub async fn find(state: &AppState, id: &str) -> Result<Option<Session>, DbError> {
        let secret = state.settings().token_secret;
        let Some(record) = state.auth.sessions.find(&secret, id) else {
            return Ok(None);
        };
        let username = record.username.clone();
        let current = state.db.read(move |db| db.credentials(&username)).await?;
        match current {
            Some((user, hash)) if still_valid(&record, Some((user.id, &hash))) => {
                Ok(Some(Session { user, csrf: auth::csrf_token(&secret, id) }))
            }
            _ => {
                tracing::info!(user = record.uid, "web session ended: the user is gone or has a new password");
                state.auth.sessions.end(&secret, id);
                Ok(None)
            }
        }
    }

    /// Opens a session for a user whose password was just checked; its id
    /// (the cookie's value). It lasts `KINESIS_TOKEN_TTL_MINUTES`.
    pub fn open(state: &AppState, verified: &Verified) -> String {
        let settings = state.settings();
        let record =
            SessionRecord { uid: verified.user.id, username: verified.user.username.clone(), stamp: verified.stamp };
        let ttl = settings.token_ttl.to_std().unwrap_or_default();
        state.auth.sessions.open(&settings.token_secret, record, ttl)
    }

    /// Ends the session whose id the request's cookie holds, if any.
    pub fn end(state: &AppState, headers: &HeaderMap) {
        if let Some(id) = auth::session_cookie(headers) {
            state.auth.sessions.end(&state.settings().token_secret, &id);
        }
    }

    /// Whether this user may see and manage backups.
    pub fn is_root(&self) -> bool {
        self.user.role == Role::Root
    }

    /// Whether `sent` is this session's CSRF token (constant time).
    pub fn csrf_matches(&self, sent: &str) -> bool {
        constant_time_eq(self.csrf.as_bytes(), sent.as_bytes())
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub use crate::auth::cookie;

/// `Set-Cookie` for the session: its id, for every path, for this browser
/// session (the session itself expires on the server).
pub fn set_session_cookie(id: &str) -> (axum::http::HeaderName, HeaderValue) {
    set_cookie(SESSION_COOKIE, id, "/", None)
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_session_cookie() -> (axum::http::HeaderName, HeaderValue) {
    set_cookie(SESSION_COOKIE, "", "/", Some(0))
}

/// `Set-Cookie` for the sign-in form's nonce (one hour).
pub fn set_login_cookie(nonce: &str) -> (axum::http::HeaderName, HeaderValue) {
    set_cookie(LOGIN_COOKIE, nonce, LOGIN_PATH, Some(3600))
}

/// `Set-Cookie` that removes the sign-in nonce.
pub fn clear_login_cookie() -> (axum::http::HeaderName, HeaderValue) {
    set_cookie(LOGIN_COOKIE, "", LOGIN_PATH, Some(0))
}

fn set_cookie(name: &str, value: &str, path: &str, max_age: Option<u32>) -> (axum::http::HeaderName, HeaderValue) {
    let mut text = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict");
    if let Some(seconds) = max_age {
        text.push_str(&format!("; Max-Age={seconds}"));
    }
    // Session ids and nonces are base64url/ASCII; anything else would be a bug upstream.
    let value =
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("kinesis_invalid=; Max-Age=0"));
    (SET_COOKIE, value)
}

/// A fresh random nonce for the sign-in form (256 bits, base64url).
pub fn new_nonce() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares two secrets without leaking where they differ through timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::COOKIE;

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append(COOKIE, HeaderValue::from_str(line).unwrap());
        }
        map
    }

    #[test]
    fn finds_a_cookie_among_several_headers_and_pairs() {
        let map = headers(&["a=1; kinesis_login=abc.def", "b=xyz"]);
        assert_eq!(cookie(&map, LOGIN_COOKIE), Some("abc.def"));
        assert_eq!(cookie(&map, "b"), Some("xyz"));
        assert_eq!(cookie(&map, "missing"), None);
    }

    #[test]
    fn an_empty_cookie_counts_as_missing_and_names_match_exactly() {
        let map = headers(&["kinesis_login=; xb=1"]);
        assert_eq!(cookie(&map, LOGIN_COOKIE), None);
        assert_eq!(cookie(&map, "b"), None);
    }

    #[test]
    fn session_cookie_is_http_only_and_strict() {
        let (_, value) = set_session_cookie("tok");
        let text = value.to_str().unwrap();
        assert!(text.starts_with("kinesis_session=tok; Path=/;"), "{text}");
        assert!(text.contains("HttpOnly") && text.contains("SameSite=Strict"), "{text}");
        assert!(clear_session_cookie().1.to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn nonces_differ_and_compare_in_constant_time() {
        let (a, b) = (new_nonce(), new_nonce());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(constant_time_eq(a.as_bytes(), a.as_bytes()));
        assert!(!constant_time_eq(a.as_bytes(), b.as_bytes()));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
