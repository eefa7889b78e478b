//! The shapes of the API's JSON answers, for the OpenAPI document: every
//! answer is `{"status", "message", ...payload}` (see
//! [`crate::http::response`]); each type here is one endpoint's answer with
//! its payload fields. `tests/openapi.rs` checks the real answers against
//! them.

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{Record, User};
use kinesis_backup_core::model::{ListedBackup, RestoreReport, Schedule, VerifyReport};
use kinesis_backup_core::ops::ActivityReport;

/// Declares answer types: `status`, `message` and the given payload fields.
macro_rules! answers {
    ($($(#[$meta:meta])* $name:ident { $($(#[$field_meta:meta])* $field:ident: $ty:ty),* $(,)? })*) => {$(
        $(#[$meta])*
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            /// The HTTP status code, as on the status line.
            pub status: u16,
            /// What happened or, for an error, what is wrong.
            pub message: String,
            $($(#[$field_meta])* pub $field: $ty,)*
        }
    )*};
}

answers! {
    /// An answer without payload: every error, and the deletes.
    Message {}
    /// `POST /user/login`.
    LoginAnswer {
        /// The signed-in user.
        user: User,
        /// For `Authorization: Bearer <token>`.
        token: String,
    }
    /// `POST /user/create`.
    UserAnswer {
        /// The new user.
        user: User,
    }
    /// One backup.
    BackupAnswer {
        /// The backup, with where its copies are.
        backup: ListedBackup,
    }
    /// `GET /backup/fetch`.
    BackupsAnswer {
        /// The page of backups, newest first.
        backups: Vec<ListedBackup>,
        /// How many backups match in all pages.
        amount: u64,
    }
    /// `GET /backup/restore`.
    RestoreAnswer {
        /// What the restore wrote.
        restore: RestoreReport,
    }
    /// `GET /backup/verify`.
    VerifyAnswer {
        /// What the check found.
        verify: VerifyReport,
    }
    /// `POST /backup/delete/bulk`.
    BulkAnswer {
        /// The ids deleted, in the order given.
        deleted: Vec<u64>,
        /// The ids not deleted, each with the reason.
        failed: Vec<BulkFailure>,
    }
    /// `GET /backup/activity`.
    ActivityAnswer {
        /// What the tenant's long operations are doing.
        activity: ActivityReport,
    }
    /// One schedule.
    ScheduleAnswer {
        /// The schedule.
        schedule: Schedule,
    }
    /// `GET /backup/schedule/fetch`.
    SchedulesAnswer {
        /// The page of schedules, in id order.
        schedules: Vec<Schedule>,
        /// How many schedules there are.
        amount: u64,
    }
    /// `POST /data/create`.
    RecordAnswer {
        /// The stored record.
        record: Record,
    }
    /// `GET /data/fetch`.
    RecordsAnswer {
        /// The collection's records.
        records: Vec<Record>,
    }
}

/// A backup a bulk delete could not remove.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkFailure {
    /// The backup id.
    pub id: u64,
    /// Why it was not deleted.
    pub reason: String,
}

/// A file's bytes, not JSON: an archive (`application/gzip`) or a tenant's file.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(pub Vec<u8>);
