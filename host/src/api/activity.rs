//! `GET /backup/activity`: what the tenant's long operations are doing now
//! (create, restore, verify, a scheduled backup, with the bytes done so far),
//! the last ones that finished, and a counter of changes, which the web pages
//! poll to show progress and to reload their lists. ROOT only.

use axum::extract::State;

use super::UidOnly;
use super::answers::{ActivityAnswer, Message};
use crate::auth::Caller;
use crate::http::AppState;
use crate::http::extract::ApiQuery;
use crate::http::response::{ApiResult, Reply};

/// What the tenant's long operations are doing now and what finished last.
///
/// Running operations report the bytes done and in all as the plugin reports
/// them; `changes` moves with every change to the backups or schedules, so a
/// client that saw another value reloads its lists. Kept in memory: a server
/// start begins again with nothing but `interrupted_restore`.
#[utoipa::path(get, path = "/backup/activity", tag = "backups", params(UidOnly), security(("bearer" = [])),
    responses(
        (status = 200, description = "Activity fetched", body = ActivityAnswer),
        (status = 400, description = "A parameter missing, unknown or not a number", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
    ))]
pub async fn activity(State(state): State<AppState>, caller: Caller, ApiQuery(query): ApiQuery<UidOnly>) -> ApiResult {
    caller.root(query.uid)?;
    Ok(Reply::ok("Activity fetched").with("activity", state.backups.activity().report()))
}
