//! What every 1.x contract version shares: the host's conversions of
//! times, and [`v1_glue!`], the glue between a 1.x version module's
//! generated bindings and the host's model. The 1.x versions declare the
//! same types, the same `host` interface and the same `plugin` interface
//! (1.1.0 adds `parts`), but each version's bindings are their own Rust
//! types; the macro writes the same glue for each.

use chrono::{DateTime, Utc};

/// A value the plugin answered that the host cannot represent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the plugin answered a time the host cannot represent ({0} s since 1970-01-01)")]
pub(crate) struct BadTimestamp(pub i64);

/// Host time to contract time.
pub(crate) fn to_wit_time(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

/// Contract time to host time.
pub(crate) fn from_wit_time(t: i64) -> Result<DateTime<Utc>, BadTimestamp> {
    DateTime::from_timestamp(t, 0).ok_or(BadTimestamp(t))
}

/// An optional contract time to host time.
pub(crate) fn from_wit_opt_time(t: Option<i64>) -> Result<Option<DateTime<Utc>>, BadTimestamp> {
    t.map(from_wit_time).transpose()
}

/// Conversion of a contract answer into the host's model.
pub(crate) trait IntoModel {
    /// The model type.
    type Model;
    /// Converts, refusing times out of the host's range.
    fn into_model(self) -> Result<Self::Model, BadTimestamp>;
}

impl IntoModel for () {
    type Model = ();
    fn into_model(self) -> Result<(), BadTimestamp> {
        Ok(())
    }
}

impl IntoModel for Vec<u8> {
    type Model = Vec<u8>;
    fn into_model(self) -> Result<Vec<u8>, BadTimestamp> {
        Ok(self)
    }
}

/// The glue for a 1.x version module, expanded inside it: `prepare` (the
/// contract check against the module's `SPEC` and the linker), its `host`
/// imports served by [`super::host_imports::HostContext`], every `plugin`
/// operation as the [`super::operations::Contract`] trait, and the
/// conversions of its types to and from the host's model. The module names
/// its bindings `wit` (types) and `wit_host` (host), and its world
/// `BackupPlugin`.
macro_rules! v1_glue {
    () => {
        /// Checks `component` against this version (`SPEC`), links the host's imports and prepares
        /// the instance.
        pub(crate) fn prepare(engine: &Engine, component: &Component) -> Result<Pre, LoadError> {
            contract::check(engine, component, &SPEC)?;
            let mut linker: Linker<CallState> = Linker::new(engine);
            let link_error = |e: wasmtime::Error| LoadError::Engine(format!("cannot link the host's imports: {e:#}"));
            wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(link_error)?;
            BackupPlugin::add_to_linker::<CallState, HasSelf<_>>(&mut linker, |state| &mut state.host)
                .map_err(link_error)?;
            let pre = linker.instantiate_pre(component).map_err(|e| {
                LoadError::ContractMismatch(format!("its imports do not match what this host provides: {e:#}"))
            })?;
            BackupPluginPre::new(pre)
                .map_err(|e| LoadError::ContractMismatch(format!("its exports do not match the contract: {e:#}")))
        }

        impl wit::Host for HostContext {}

        impl wit_host::Host for HostContext {
            fn now(&mut self) -> wit::Timestamp {
                to_wit_time(HostContext::now(self))
            }
            fn read_env(&mut self) -> Result<Vec<u8>, String> {
                HostContext::read_env(self)
            }
            fn write_env(&mut self, contents: Vec<u8>) -> Result<(), String> {
                HostContext::write_env(self, &contents)
            }
            fn log(&mut self, level: wit_host::LogLevel, message: String) {
                let level = match level {
                    wit_host::LogLevel::Debug => LogLevel::Debug,
                    wit_host::LogLevel::Info => LogLevel::Info,
                    wit_host::LogLevel::Warn => LogLevel::Warn,
                    wit_host::LogLevel::Error => LogLevel::Error,
                };
                HostContext::log(self, level, &message);
            }
            fn progress(&mut self, done: u64, total: u64) {
                HostContext::progress(self, done, total);
            }
        }

        /// A 1.0.0 answer in the host's model.
        fn answer<R: IntoModel>(outcome: wasmtime::Result<Result<R, wit::Error>>) -> Answer<R::Model> {
            Ok(match outcome? {
                Ok(value) => value.into_model().map_err(|e| CallError::Violation {
                    plugin: String::new(),
                    operation: String::new(),
                    rule: e.to_string(),
                }),
                Err(error) => Err(from_wit_error(error)),
            })
        }

        impl Contract for BackupPlugin {
            fn create(
                &self,
                s: &mut Store<CallState>,
                description: &str,
                expiry: Option<DateTime<Utc>>,
            ) -> Answer<model::Backup> {
                answer(self.kinesis_backup_plugin().call_create(s, description, expiry.map(to_wit_time)))
            }
            fn list(
                &self,
                s: &mut Store<CallState>,
                search: Option<&str>,
                limit: u32,
                offset: u32,
            ) -> Answer<model::BackupPage> {
                answer(self.kinesis_backup_plugin().call_list(s, search, limit, offset))
            }
            fn get(&self, s: &mut Store<CallState>, id: u64) -> Answer<model::Backup> {
                answer(self.kinesis_backup_plugin().call_get(s, id))
            }
            fn update(
                &self,
                s: &mut Store<CallState>,
                id: u64,
                description: Option<&str>,
                expiry: model::ExpiryChange,
            ) -> Answer<model::Backup> {
                answer(self.kinesis_backup_plugin().call_update(s, id, description, to_wit_expiry(expiry)))
            }
            fn restore(&self, s: &mut Store<CallState>, id: u64) -> Answer<model::RestoreReport> {
                answer(self.kinesis_backup_plugin().call_restore(s, id))
            }
            fn delete(&self, s: &mut Store<CallState>, id: u64) -> Answer<()> {
                answer(self.kinesis_backup_plugin().call_delete(s, id))
            }
            fn verify(&self, s: &mut Store<CallState>, id: u64) -> Answer<model::VerifyReport> {
                answer(self.kinesis_backup_plugin().call_verify(s, id))
            }
            fn schedule_create(
                &self,
                s: &mut Store<CallState>,
                input: &model::ScheduleInput,
            ) -> Answer<model::Schedule> {
                answer(self.kinesis_backup_plugin().call_schedule_create(s, &to_wit_schedule_input(input)))
            }
            fn schedule_list(&self, s: &mut Store<CallState>, limit: u32, offset: u32) -> Answer<model::SchedulePage> {
                answer(self.kinesis_backup_plugin().call_schedule_list(s, limit, offset))
            }
            fn schedule_update(
                &self,
                s: &mut Store<CallState>,
                id: u64,
                patch: &model::SchedulePatch,
            ) -> Answer<model::Schedule> {
                answer(self.kinesis_backup_plugin().call_schedule_update(s, id, &to_wit_schedule_patch(patch)))
            }
            fn schedule_delete(&self, s: &mut Store<CallState>, id: u64) -> Answer<()> {
                answer(self.kinesis_backup_plugin().call_schedule_delete(s, id))
            }
            fn schedule_tick(&self, s: &mut Store<CallState>, now: DateTime<Utc>) -> Answer<model::TickReport> {
                answer(self.kinesis_backup_plugin().call_schedule_tick(s, to_wit_time(now)))
            }
        }

        impl IntoModel for wit::Backup {
            type Model = model::Backup;
            fn into_model(self) -> Result<model::Backup, BadTimestamp> {
                Ok(model::Backup {
                    id: self.id,
                    name: self.name,
                    created_at: from_wit_time(self.created_at)?,
                    description: self.description,
                    expiry: from_wit_opt_time(self.expiry)?,
                    size: self.size,
                    sha256: self.sha256,
                    schedule_id: self.schedule_id,
                })
            }
        }

        impl IntoModel for Vec<wit::Backup> {
            type Model = Vec<model::Backup>;
            fn into_model(self) -> Result<Vec<model::Backup>, BadTimestamp> {
                self.into_iter().map(IntoModel::into_model).collect()
            }
        }

        impl IntoModel for wit::BackupPage {
            type Model = model::BackupPage;
            fn into_model(self) -> Result<model::BackupPage, BadTimestamp> {
                Ok(model::BackupPage { backups: self.backups.into_model()?, amount: self.total })
            }
        }

        impl IntoModel for wit::RestoreReport {
            type Model = model::RestoreReport;
            fn into_model(self) -> Result<model::RestoreReport, BadTimestamp> {
                Ok(model::RestoreReport { id: self.id, files: self.files, bytes: self.bytes })
            }
        }

        impl IntoModel for wit::VerifyReport {
            type Model = model::VerifyReport;
            fn into_model(self) -> Result<model::VerifyReport, BadTimestamp> {
                Ok(model::VerifyReport {
                    id: self.id,
                    ok: self.ok,
                    files_checked: self.files_checked,
                    bytes_checked: self.bytes_checked,
                    problems: self.problems,
                })
            }
        }

        impl IntoModel for wit::Schedule {
            type Model = model::Schedule;
            fn into_model(self) -> Result<model::Schedule, BadTimestamp> {
                Ok(model::Schedule {
                    id: self.id,
                    name: self.name,
                    cron: self.cron,
                    expiry_hours: self.expiry_hours,
                    enabled: self.enabled,
                    next_run: from_wit_opt_time(self.next_run)?,
                    last_run: from_wit_opt_time(self.last_run)?,
                    last_error: self.last_error,
                })
            }
        }

        impl IntoModel for (Vec<wit::Schedule>, u64) {
            type Model = model::SchedulePage;
            fn into_model(self) -> Result<model::SchedulePage, BadTimestamp> {
                let schedules = self.0.into_iter().map(IntoModel::into_model).collect::<Result<_, _>>()?;
                Ok(model::SchedulePage { schedules, amount: self.1 })
            }
        }

        impl IntoModel for wit::TickReport {
            type Model = model::TickReport;
            fn into_model(self) -> Result<model::TickReport, BadTimestamp> {
                Ok(model::TickReport {
                    created: self.created.into_model()?,
                    expired: self.expired,
                    failed: self
                        .failed
                        .into_iter()
                        .map(|f| model::TickFailure { schedule_id: f.schedule_id, message: f.message })
                        .collect(),
                })
            }
        }

        /// Host expiry change to the contract's.
        pub(crate) fn to_wit_expiry(change: model::ExpiryChange) -> wit::ExpiryChange {
            match change {
                model::ExpiryChange::Keep => wit::ExpiryChange::Keep,
                model::ExpiryChange::Clear => wit::ExpiryChange::Clear,
                model::ExpiryChange::Set(t) => wit::ExpiryChange::Set(to_wit_time(t)),
            }
        }

        /// Host schedule input to the contract's.
        pub(crate) fn to_wit_schedule_input(input: &model::ScheduleInput) -> wit::ScheduleInput {
            wit::ScheduleInput {
                name: input.name.clone(),
                cron: input.cron.clone(),
                expiry_hours: input.expiry_hours,
                enabled: input.enabled,
            }
        }

        /// Host schedule patch to the contract's.
        pub(crate) fn to_wit_schedule_patch(patch: &model::SchedulePatch) -> wit::SchedulePatch {
            wit::SchedulePatch {
                name: patch.name.clone(),
                cron: patch.cron.clone(),
                expiry_hours: match patch.expiry_hours {
                    model::HoursChange::Keep => wit::HoursChange::Keep,
                    model::HoursChange::Clear => wit::HoursChange::Clear,
                    model::HoursChange::Set(h) => wit::HoursChange::Set(h),
                },
                enabled: patch.enabled,
            }
        }

        /// The contract's error to the runtime's.
        pub(crate) fn from_wit_error(e: wit::Error) -> CallError {
            match e {
                wit::Error::NotFound(m) => CallError::NotFound(m),
                wit::Error::InvalidInput(m) => CallError::InvalidInput(m),
                wit::Error::CorruptArchive(m) => CallError::CorruptArchive(m),
                wit::Error::Busy(m) => CallError::Busy(m),
                wit::Error::Storage(m) => CallError::Storage(m),
            }
        }
    };
}

pub(crate) use v1_glue;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_and_absurd_times_are_refused() {
        let t = DateTime::parse_from_rfc3339("2024-05-06T07:08:09Z").unwrap().with_timezone(&Utc);
        assert_eq!(from_wit_time(to_wit_time(t)), Ok(t));
        assert_eq!(from_wit_time(i64::MAX), Err(BadTimestamp(i64::MAX)));
    }
}
