//! `/user/...`: sign in, and creating users (ROOT only).

use axum::extract::State;
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;

use super::answers::{LoginAnswer, Message, UserAnswer};

use crate::auth::password;
use crate::auth::{self, Caller};
use crate::db::{DbError, Role};
use crate::http::AppState;
use crate::http::client::ClientAddr;
use crate::http::extract::ApiJson;
use crate::http::response::{ApiError, ApiResult, Reply};

/// Body of `POST /user/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// The username.
    auth_data: String,
    /// The password.
    password: String,
}

/// Signs in: the user (without password) and a token for `Authorization: Bearer`.
///
/// Answers 429 with `Retry-After` while the sign-in throttle refuses the
/// account at this address, or the address.
#[utoipa::path(post, path = "/user/login", tag = "users", request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in", body = LoginAnswer),
        (status = 400, description = "Not a JSON object with exactly these two string fields", body = Message),
        (status = 401, description = "Wrong username or password", body = Message),
        (status = 429, description = "Too many failed sign-ins; wait the seconds of `Retry-After`", body = Message,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult {
    let (user, token) = auth::login(&state, &body.auth_data, &body.password, client).await?;
    Ok(Reply::ok("Signed in").with("user", user).with("token", token))
}

/// Body of `POST /user/create`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = UserCreateBody)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// The caller's user id.
    uid: u64,
    /// The new user.
    user: NewUser,
}

/// The `user` object of a create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 1 to 64 characters, no spaces or control characters, not taken.
    username: String,
    /// At least 8 characters.
    password: String,
    /// `ROOT`, `ADMIN`, `AUTHOR` or `VIEWER`, in any letter case.
    role: String,
}

/// Creates a user. ROOT only.
#[utoipa::path(post, path = "/user/create", tag = "users", request_body = CreateBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "User created", body = UserAnswer),
        (status = 400, description = "A bad body, a bad or taken username, a short password, an unknown role", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
    ))]
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
