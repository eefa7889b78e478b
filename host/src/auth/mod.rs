//! Authentication: who is calling. Sign-in, token checks and role checks
//! here; signed tokens in [`token`], password hashing in [`password`], the
//! browser session and its cookies in [`session`], the server's record of
//! web sessions in [`session_store`], sign-in throttling in [`throttle`],
//! what a served tenant remembers of both in [`memory`], and the first ROOT
//! user in [`first_start`].
//!
//! API clients send `Authorization: Bearer <token>` (the token from
//! `POST /user/login`, see [`token`]). The web pages send the
//! `kinesis_session` cookie instead, which holds a session id the server
//! keeps ([`session_store`]); it counts only together with the header
//! `X-CSRF-Token: csrf_token(secret, session id)`, so another site cannot
//! make a browser act with its cookie.

use std::net::IpAddr;
use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use chrono::Utc;

pub mod first_start;
pub mod memory;
pub mod password;
pub mod session;
pub mod session_store;
pub mod throttle;
pub mod token;

use crate::db::{DbError, Role, User};
use crate::http::response::ApiError;
use crate::http::state::AppState;
pub use memory::AuthMemory;
use session_store::PasswordStamp;
use throttle::Throttled;
use token::TokenError;

/// The cookie that carries the web session's id.
pub const SESSION_COOKIE: &str = "kinesis_session";
/// The header that must carry the CSRF token when the session cookie is used.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Why a caller is not signed in.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No token was sent.
    #[error("sign in first: send `Authorization: Bearer <token>` with a token from POST /user/login")]
    NoToken,
    /// The Authorization header is not `Bearer <token>`.
    #[error("the Authorization header must be `Bearer <token>`")]
    NotBearer,
    /// The session cookie came without a matching CSRF header.
    #[error("the session cookie needs the X-CSRF-Token header of its page; reload the page")]
    Csrf,
    /// The session cookie names no open session (signed out, expired, the
    /// password changed, the user deleted, or the server restarted).
    #[error("the web session has ended; sign in again")]
    SessionEnded,
    /// The token is malformed, forged or expired.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The token's user no longer exists.
    #[error("the token's user no longer exists; sign in again")]
    UnknownUser,
    /// Wrong username or password (which one is not told).
    #[error("wrong username or password")]
    WrongCredentials,
    /// Too many failed sign-ins for this account from this address, or from this address.
    #[error("too many failed sign-ins; try again in {} seconds", .0.seconds())]
    Throttled(Throttled),
    /// The database could not be read.
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Database(err) => ApiError::internal(err.to_string()),
            AuthError::Throttled(throttled) => ApiError::too_many_requests(err.to_string(), throttled.seconds()),
            other => ApiError::unauthorized(other.to_string()),
        }
    }
}

/// A user whose password was just checked.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The user.
    pub user: User,
    /// The stamp of the password hash they signed in with.
    pub stamp: PasswordStamp,
}

/// Checks `username` and `password` sent from `client`, through the
/// tenant's sign-in throttle: refused at once while this account at this
/// address, or this address, is locked by earlier failures.
pub async fn check_credentials(
    state: &AppState,
    username: &str,
    password: &str,
    client: Option<IpAddr>,
) -> Result<Verified, AuthError> {
    let attempt = state.auth.throttle.admit(username, client, Instant::now()).map_err(|throttled| {
        tracing::info!(
            account = username,
            client = ?client,
            retry_after_s = throttled.seconds(),
            "sign-in refused: too many failed sign-ins"
        );
        AuthError::Throttled(throttled)
    })?;
    let name = username.to_owned();
    let credentials = state.db.read(move |db| db.credentials(&name)).await?;
    let password = password.to_owned();
    let (user, matched) = crate::blocking::on_blocking_pool(move || match credentials {
        Some((user, hash)) => {
            let matched = password::matches(&password, &hash);
            (Some((user, hash)), matched)
        }
        None => {
            // Same work as for a wrong password: the time taken does not
            // tell whether the username exists.
            let _ = password::matches(&password, password::decoy_hash());
            (None, false)
        }
    })
    .await
    .map_err(|err| AuthError::Database(DbError::Worker(err.to_string())))?;
    match user.filter(|_| matched) {
        Some((user, hash)) => {
            attempt.succeeded();
            Ok(Verified { user, stamp: PasswordStamp::of(&hash) })
        }
        None => {
            let locked = attempt.failed(Instant::now());
            if let Some(lock) = locked.pair {
                tracing::warn!(
                    account = username,
                    client = ?client,
                    lock_s = lock.as_secs(),
                    "sign-in locked for this account at this address"
                );
            }
            if let Some(lock) = locked.address {
                tracing::warn!(client = ?client, lock_s = lock.as_secs(), "sign-in locked for this address");
            }
            Err(AuthError::WrongCredentials)
        }
    }
}

/// Checks `username` and `password` (see [`check_credentials`]); the user
/// and a fresh bearer token.
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    client: Option<IpAddr>,
) -> Result<(User, String), AuthError> {
    let Verified { user, .. } = check_credentials(state, username, password, client).await?;
    let settings = state.settings();
    let token = token::issue(&settings.token_secret, user.id, Utc::now() + settings.token_ttl);
    Ok((user, token))
}

/// The user a token belongs to, if it is valid and the user exists.
pub async fn verify_token(state: &AppState, token: &str) -> Result<User, AuthError> {
    let uid = token::verify(&state.settings().token_secret, token, Utc::now())?;
    state.db.read(move |db| db.user(uid)).await?.ok_or(AuthError::UnknownUser)
}

/// The CSRF token the web pages send with the session `id`.
pub fn csrf_token(secret: &[u8], id: &str) -> String {
    token::csrf(secret, id)
}

/// The signed-in caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub User);

impl Caller {
    /// The caller, when they are user `uid` and ROOT (else 403).
    pub fn root(&self, uid: u64) -> Result<&User, ApiError> {
        let user = self.same_user(uid)?;
        if user.role != Role::Root {
            return Err(ApiError::forbidden(format!(
                "backups and schedules need the ROOT role; {} has the {} role",
                user.username,
                user.role.as_str()
            )));
        }
        Ok(user)
    }

    /// The caller, when they are user `uid` (else 403: signed in, but
    /// acting for someone else).
    pub fn same_user(&self, uid: u64) -> Result<&User, ApiError> {
        if self.0.id != uid {
            return Err(ApiError::forbidden(format!(
                "the token belongs to user {}, but the request names uid {uid}",
                self.0.id
            )));
        }
        Ok(&self.0)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match request_credential(&parts.headers, &state.settings().token_secret)? {
            Credential::Bearer(token) => Ok(Caller(verify_token(state, &token).await?)),
            Credential::Session(id) => {
                let session = session::Session::find(state, &id).await.map_err(AuthError::Database)?;
                Ok(Caller(session.ok_or(AuthError::SessionEnded)?.user))
            }
        }
    }
}

/// What a request signs in with.
#[derive(Debug, PartialEq, Eq)]
enum Credential {
    /// A bearer token from `Authorization`.
    Bearer(String),
    /// A web session id from the cookie, its CSRF header checked.
    Session(String),
}

/// The credential of a request: `Authorization: Bearer`, or the session
/// cookie when the CSRF header matches it.
fn request_credential(headers: &HeaderMap, secret: &[u8]) -> Result<Credential, AuthError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value.to_str().map_err(|_| AuthError::NotBearer)?.trim();
        let (scheme, token) = value.split_once(' ').ok_or(AuthError::NotBearer)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(AuthError::NotBearer);
        }
        return Ok(Credential::Bearer(token.trim().to_owned()));
    }
    let session = session_cookie(headers).ok_or(AuthError::NoToken)?;
    let csrf = headers.get(CSRF_HEADER).and_then(|value| value.to_str().ok()).ok_or(AuthError::Csrf)?;
    if !token::csrf_matches(secret, &session, csrf) {
        return Err(AuthError::Csrf);
    }
    Ok(Credential::Session(session))
}

/// The value of the session cookie, if sent.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE).map(str::to_owned)
}

/// The value of cookie `name` in the request's `Cookie` headers (surrounding
/// quotes removed); `None` when absent or empty.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const SECRET: &[u8] = &[9; 32];

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn bearer_tokens_are_taken_from_the_header() {
        let bearer = request_credential(&headers(&[("authorization", "Bearer abc")]), SECRET).unwrap();
        assert_eq!(bearer, Credential::Bearer("abc".into()));
        assert!(matches!(
            request_credential(&headers(&[("authorization", "Basic abc")]), SECRET),
            Err(AuthError::NotBearer)
        ));
        assert!(matches!(request_credential(&headers(&[]), SECRET), Err(AuthError::NoToken)));
    }

    #[test]
    fn the_session_cookie_needs_its_csrf_header() {
        let cookie = format!("theme=dark; {SESSION_COOKIE}=tok");
        let good = csrf_token(SECRET, "tok");
        let with_csrf = headers(&[("cookie", &cookie), ("x-csrf-token", &good)]);
        assert_eq!(request_credential(&with_csrf, SECRET).unwrap(), Credential::Session("tok".into()));
        assert!(matches!(request_credential(&headers(&[("cookie", &cookie)]), SECRET), Err(AuthError::Csrf)));
        let wrong = headers(&[("cookie", &cookie), ("x-csrf-token", &csrf_token(SECRET, "other"))]);
        assert!(matches!(request_credential(&wrong, SECRET), Err(AuthError::Csrf)));
    }

    #[test]
    fn role_and_uid_checks() {
        let user = |role| Caller(User { id: 3, username: "u".into(), role, created_at: Utc::now() });
        assert!(user(Role::Root).root(3).is_ok());
        assert_eq!(user(Role::Root).root(1).unwrap_err().status, 403);
        assert_eq!(user(Role::Admin).root(3).unwrap_err().status, 403);
        assert_eq!(user(Role::Viewer).root(1).unwrap_err().status, 403);
        assert!(user(Role::Viewer).same_user(3).is_ok());
    }
}
