//! `/user/...`: sign in, and creating users (ROOT only).

use axum::extract::State;
use chrono::Utc;
use serde::Deserialize;

use crate::auth::password;
use crate::auth::{self, Caller};
use crate::db::{DbError, Role};
use crate::http::AppState;
use crate::http::client::ClientAddr;
use crate::http::extract::ApiJson;
use crate::http::response::{ApiError, ApiResult, Reply};

/// Body of `POST /user/login`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    auth_data: String,
    password: String,
}

/// `POST /user/login`: the user (without password) and a token; 429 with
/// `Retry-After` while the sign-in throttle refuses the account at this
/// address, or the address.
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult {
    let (user, token) = auth::login(&state, &body.auth_data, &body.password, client).await?;
    Ok(Reply::ok("Signed in").with("user", user).with("token", token))
}

/// Body of `POST /user/create`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    uid: u64,
    user: NewUser,
}

/// The `user` object of a create.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    username: String,
    password: String,
    role: String,
}

/// `POST /user/create` (ROOT): a new user.
pub async fn create(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<CreateBody>) -> ApiResult {
    caller.root(body.uid)?;
    let NewUser { username, password, role } = body.user;
    let role: Role = role.parse().map_err(db_error)?;
    let hash = crate::blocking::on_blocking_pool(move || password::hash(&password))
        .await
        .map_err(|err| ApiError::internal(format!("password hashing stopped unexpectedly: {err}")))?
        .map_err(|err| match err {
            password::PasswordError::TooShort => ApiError::bad_request(err.to_string()),
            password::PasswordError::Hashing(_) => ApiError::internal(err.to_string()),
        })?;
    let user = state.db.write(move |db| db.create_user(&username, &hash, role, Utc::now())).await.map_err(db_error)?;
    Ok(Reply::ok("User created").with("user", user))
}

/// Database errors as answers: the caller's mistakes are 400s.
pub fn db_error(err: DbError) -> ApiError {
    match err {
        DbError::Invalid(_) | DbError::UsernameTaken(_) => ApiError::bad_request(err.to_string()),
        other => ApiError::internal(other.to_string()),
    }
}
