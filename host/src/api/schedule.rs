//! `/backup/schedule/...`: recurring backups. Every endpoint needs a ROOT
//! caller whose id is `uid`.

use axum::extract::State;
use serde::Deserialize;

use super::UidId;
use crate::auth::Caller;
use crate::http::AppState;
use crate::http::extract::{ApiJson, ApiQuery, present};
use crate::http::response::{ApiError, ApiResult, Reply};
use kinesis_backup_core::model::{HoursChange, ScheduleInput, SchedulePatch};

/// Body of `POST /backup/schedule/create`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    uid: u64,
    schedule: ScheduleInput,
}

/// `POST /backup/schedule/create`.
pub async fn create(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<CreateBody>) -> ApiResult {
    caller.root(body.uid)?;
    let input = body.schedule;
    let schedule = state.ops(move |backups| backups.schedule_create(&input)).await?;
    Ok(Reply::ok("Schedule created").with("schedule", schedule))
}

/// Query of `GET /backup/schedule/fetch`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchQuery {
    uid: u64,
    limit: u32,
    offset: u32,
}

/// `GET /backup/schedule/fetch`: a page of schedules and `amount`.
pub async fn fetch(State(state): State<AppState>, caller: Caller, ApiQuery(query): ApiQuery<FetchQuery>) -> ApiResult {
    caller.root(query.uid)?;
    let page = state.ops(move |backups| backups.schedule_list(query.limit, query.offset)).await?;
    Ok(Reply::ok("Schedules fetched").with("schedules", page.schedules).with("amount", page.amount))
}

/// Body of `PATCH /backup/schedule/update`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    uid: u64,
    id: u64,
    schedule: PatchBody,
}

/// The `schedule` object of an update; absent fields stay, and
/// `expiry_hours: null` removes the expiry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    cron: Option<String>,
    #[serde(default, deserialize_with = "present")]
    expiry_hours: Option<Option<u32>>,
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

/// `PATCH /backup/schedule/update`.
pub async fn update(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<UpdateBody>) -> ApiResult {
    caller.root(body.uid)?;
    let patch = body.schedule.into_patch()?;
    let schedule = state.ops(move |backups| backups.schedule_update(body.id, &patch)).await?;
    Ok(Reply::ok("Schedule updated").with("schedule", schedule))
}

/// `DELETE /backup/schedule/delete`: its backups are kept.
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
