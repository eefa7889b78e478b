//! Signing in and out: `/web/login` (form and submit) and `/web/logout`.
//!
//! The sign-in form is protected against login CSRF by a nonce held both in a
//! SameSite=Strict, HttpOnly pre-session cookie and in a hidden field: a form
//! posted from another site carries neither. Signing out needs the session's
//! CSRF token in the form, and ends the session on the server. Sign-ins go
//! through the same throttle as `POST /user/login`: while it refuses, the
//! form answers 429 with `Retry-After` and says how long to wait. A sign-in
//! lands on the page named in `next` (a page of `/web/`), or the backups.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::{self, AuthError};
use crate::http::AppState;
use crate::http::client::ClientAddr;

use super::error::WebError;
use crate::auth::session::{self, LOGIN_COOKIE, LOGIN_PATH, Session};

/// Where a successful sign-in lands.
pub const HOME_PATH: &str = "/web/backups";

/// The sign-in page.
#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    nonce: &'a str,
    username: &'a str,
    error: Option<&'a str>,
    next: &'a str,
}

/// What the sign-in form sends.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    nonce: String,
    #[serde(default)]
    next: String,
}

/// What the sign-out form sends.
#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

/// Query of `GET /web/login`: `expired=1` when a page was sent here because its session ended.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    expired: Option<String>,
    /// The page to return to after signing in.
    #[serde(default)]
    next: Option<String>,
}

/// Where a sign-in may return to: a page of this server under `/web/`
/// (never another site, never the sign-in page itself), else the backups.
pub fn return_path(next: &str) -> &str {
    let safe = next.starts_with("/web/")
        && !next.starts_with(LOGIN_PATH)
        && !next.contains("//")
        && !next.contains('\\')
        && next.chars().all(|c| c.is_ascii_graphic());
    if safe { next } else { HOME_PATH }
}

/// The sign-in page's address that returns to `asked` afterwards.
pub fn login_returning_to(asked: &str) -> String {
    let next = return_path(asked);
    if next == HOME_PATH {
        return LOGIN_PATH.to_owned();
    }
    let encoded: String = next
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{LOGIN_PATH}?next={encoded}")
}

/// Draws the sign-in form with a fresh nonce (and its cookie).
fn form_page(status: StatusCode, username: &str, error: Option<&str>, next: &str) -> Result<Response, WebError> {
    let nonce = session::new_nonce();
    let html = LoginPage { nonce: &nonce, username, error, next: return_path(next) }.render()?;
    Ok((status, [session::set_login_cookie(&nonce)], Html(html)).into_response())
}

/// `GET /web/login`: the form, or straight to the backups when already signed in.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Result<Response, WebError> {
    let next = query.next.as_deref().unwrap_or_default();
    if Session::of(&state, &headers).await?.is_some() {
        return Ok(Redirect::to(return_path(next)).into_response());
    }
    let notice = query.expired.is_some().then_some("Your session has ended. Please sign in again.");
    form_page(StatusCode::OK, "", notice, next)
}

/// `POST /web/login`: checks the nonce and the credentials; on success sets
/// the session cookie and redirects to the backups.
pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, WebError> {
    let Ok(Form(form)) = form else {
        return form_page(StatusCode::BAD_REQUEST, "", Some("Enter a username and a password."), "");
    };
    let nonce_ok = session::cookie(&headers, LOGIN_COOKIE)
        .is_some_and(|cookie| session::constant_time_eq(cookie.as_bytes(), form.nonce.as_bytes()));
    if !nonce_ok {
        return form_page(
            StatusCode::FORBIDDEN,
            &form.username,
            Some("This sign-in form has expired or came from another site. Please sign in again."),
            &form.next,
        );
    }
    match auth::check_credentials(&state, &form.username, &form.password, client).await {
        Ok(verified) => {
            let id = Session::open(&state, &verified);
            tracing::info!(user = verified.user.id, "signed in to the web pages");
            // AppendHeaders: a plain array would keep only the last Set-Cookie.
            let cookies = AppendHeaders([session::set_session_cookie(&id), session::clear_login_cookie()]);
            Ok((cookies, Redirect::to(return_path(&form.next))).into_response())
        }
        Err(AuthError::Database(error)) => Err(WebError::Auth(error.to_string())),
        Err(AuthError::Throttled(throttled)) => {
            let seconds = throttled.seconds();
            let message = format!("Too many failed sign-ins. Wait {seconds} seconds, then try again.");
            let mut page = form_page(StatusCode::TOO_MANY_REQUESTS, &form.username, Some(&message), &form.next)?;
            page.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
            Ok(page)
        }
        Err(_) => form_page(StatusCode::UNAUTHORIZED, &form.username, Some("Wrong username or password."), &form.next),
    }
}

/// `POST /web/logout`: ends the session on the server and clears its cookie.
/// Needs the page's CSRF token while the session is open; an ended session
/// is simply cleared.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Result<Response, WebError> {
    if let Some(session) = Session::of(&state, &headers).await? {
        let sent = form.map(|Form(form)| form.csrf).unwrap_or_default();
        if !session.csrf_matches(&sent) {
            return Err(WebError::FormExpired);
        }
        Session::end(&state, &headers);
        tracing::info!(user = session.user.id, "signed out of the web pages");
    }
    Ok(([session::clear_session_cookie()], Redirect::to(LOGIN_PATH)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_returns_only_to_pages_of_this_server() {
        assert_eq!(return_path("/web/backups/schedules"), "/web/backups/schedules");
        for unsafe_next in ["", "https://evil.example/", "//evil.example/web/", "/web/..\\x", "/api", "/web/login"] {
            assert_eq!(return_path(unsafe_next), HOME_PATH, "{unsafe_next}");
        }
        assert_eq!(login_returning_to("/web/backups/schedules"), "/web/login?next=/web/backups/schedules");
        assert_eq!(login_returning_to("/web/backups"), "/web/login");
        assert_eq!(login_returning_to("/web/backups?x=1&y=2"), "/web/login?next=/web/backups%3Fx%3D1%26y%3D2");
    }
}
