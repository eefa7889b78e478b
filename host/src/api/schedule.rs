//! `/backup/schedule/...`: recurring backups. Every endpoint needs a ROOT
//! caller whose id is `uid`.

use axum::extract::State;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::UidId;
use super::answers::{Message, ScheduleAnswer, SchedulesAnswer};
use crate::auth::Caller;
use crate::http::AppState;
use crate::http::extract::{ApiJson, ApiQuery, present};
use crate::http::response::{ApiError, ApiResult, Reply};
use kinesis_backup_core::model::{HoursChange, ScheduleInput, SchedulePatch};

/// Body of `POST /backup/schedule/create`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ScheduleCreateBody)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// The caller's user id.
    uid: u64,
    /// The new schedule.
    schedule: ScheduleInput,
}

/// Adds a schedule: a backup made automatically at the times its cron (UTC) names.
#[utoipa::path(post, path = "/backup/schedule/create", tag = "schedules", request_body = CreateBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Schedule created", body = ScheduleAnswer),
        (status = 400, description = "A bad body, a bad cron, an empty name", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
    ))]
pub async fn create(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<CreateBody>) -> ApiResult {
    caller.root(body.uid)?;
    let input = body.schedule;
    let schedule = state.ops(move |backups| backups.schedule_create(&input)).await?;
    Ok(Reply::ok("Schedule created").with("schedule", schedule))
}

/// Query of `GET /backup/schedule/fetch`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FetchQuery {
    /// The caller's user id.
    uid: u64,
    /// Page size, 1 to 1000.
    limit: u32,
    /// How many schedules to skip.
    offset: u32,
}

/// A page of schedules, in id order, and `amount`, how many there are.
#[utoipa::path(get, path = "/backup/schedule/fetch", tag = "schedules", params(FetchQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Schedules fetched", body = SchedulesAnswer),
        (status = 400, description = "A parameter missing, unknown or out of range", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
    ))]
pub async fn fetch(State(state): State<AppState>, caller: Caller, ApiQuery(query): ApiQuery<FetchQuery>) -> ApiResult {
    caller.root(query.uid)?;
    let page = state.ops(move |backups| backups.schedule_list(query.limit, query.offset)).await?;
    Ok(Reply::ok("Schedules fetched").with("schedules", page.schedules).with("amount", page.amount))
}

/// Body of `PATCH /backup/schedule/update`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    /// The caller's user id.
    uid: u64,
    /// The schedule.
    id: u64,
    /// What changes; at least one field.
    schedule: PatchBody,
}

/// The `schedule` object of an update; absent fields stay, and
/// `expiry_hours: null` removes the expiry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    /// A new name.
    #[serde(default)]
    name: Option<String>,
    /// A new cron expression (five fields, UTC).
    #[serde(default)]
    cron: Option<String>,
    /// Backups it makes expire this many hours after they are made; `null`
    /// keeps them.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    expiry_hours: Option<Option<u32>>,
    /// Enable or disable.
    #[serde(default)]
    enabled: Option<bool>,
}

impl PatchBody {
    /// The contract's patch, or 400 when nothing would change.
    fn into_patch(self) -> Result<SchedulePatch, ApiError> {
        let expiry_hours = match self.expiry_hours {
            None => HoursChange::Keep,
            Some(None) => HoursChange::Clear,
            Some(Some(hours)) => HoursChange::Set(hours),
        };
        let patch = SchedulePatch { name: self.name, cron: self.cron, expiry_hours, enabled: self.enabled };
        if patch.name.is_none() && patch.cron.is_none() && patch.enabled.is_none() && expiry_hours == HoursChange::Keep
        {
            return Err(ApiError::bad_request(
                "schedule: nothing to change; give at least one of name, cron, expiry_hours, enabled",
            ));
        }
        Ok(patch)
    }
}

/// Changes a schedule; absent fields stay.
#[utoipa::path(patch, path = "/backup/schedule/update", tag = "schedules", request_body = UpdateBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Schedule updated", body = ScheduleAnswer),
        (status = 400, description = "A bad body, nothing to change, a bad cron", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
        (status = 404, description = "No schedule with that id", body = Message),
    ))]
pub async fn update(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<UpdateBody>) -> ApiResult {
    caller.root(body.uid)?;
    let patch = body.schedule.into_patch()?;
    let schedule = state.ops(move |backups| backups.schedule_update(body.id, &patch)).await?;
    Ok(Reply::ok("Schedule updated").with("schedule", schedule))
}

/// Removes a schedule; the backups it made are kept.
#[utoipa::path(delete, path = "/backup/schedule/delete", tag = "schedules", params(UidId),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Schedule deleted", body = Message),
        (status = 400, description = "A parameter missing, unknown or not a number", body = Message),
        (status = 401, description = "Not signed in", body = Message),
        (status = 403, description = "Not ROOT, or `uid` is not the caller", body = Message),
        (status = 404, description = "No schedule with that id", body = Message),
    ))]
pub async fn delete(State(state): State<AppState>, caller: Caller, ApiQuery(query): ApiQuery<UidId>) -> ApiResult {
    caller.root(query.uid)?;
    state.ops(move |backups| backups.schedule_delete(query.id)).await?;
    Ok(Reply::ok(format!("Schedule {} deleted", query.id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::extract::parse_json;

    #[test]
    fn patches_tell_keep_clear_and_set_apart() {
        let patch = |json: &str| parse_json::<PatchBody>(json.as_bytes()).unwrap().into_patch();
        assert_eq!(patch(r#"{"expiry_hours": null}"#).unwrap().expiry_hours, HoursChange::Clear);
        assert_eq!(patch(r#"{"expiry_hours": 5}"#).unwrap().expiry_hours, HoursChange::Set(5));
        let enabled_only = patch(r#"{"enabled": false}"#).unwrap();
        assert_eq!((enabled_only.expiry_hours, enabled_only.enabled), (HoursChange::Keep, Some(false)));
        assert_eq!(patch("{}").unwrap_err().status, 400);
    }
}
