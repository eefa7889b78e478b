//! The glue of the `parts` interface (contract 1.1.0): each call decodes
//! the job the host hands back and runs the plugin's [`crate::jobs`].

use super::exports::kinesis::backup::parts::{Guest, Job};
use super::kinesis::backup::types as wit;
use super::{Component, backup_to_wit, restore_report_to_wit, run, verify_report_to_wit};
use crate::jobs::{self, Planned};

fn to_job(planned: Planned) -> Job {
    Job { id: planned.id, parts: planned.parts, state: planned.state }
}

impl Guest for Component {
    fn begin_create(description: String, expiry: Option<wit::Timestamp>, parts: u32) -> Result<Job, wit::Error> {
        run(|ctx| jobs::begin_create(ctx, &description, expiry, parts), to_job)
    }

    fn begin_restore(id: u64, _parts: u32) -> Result<Job, wit::Error> {
        run(|ctx| jobs::begin_read(ctx, id, true), to_job)
    }

    fn begin_verify(id: u64, _parts: u32) -> Result<Job, wit::Error> {
        run(|ctx| jobs::begin_read(ctx, id, false), to_job)
    }

    fn run_part(job: Job, part: u32) -> Result<Vec<u8>, wit::Error> {
        run(|ctx| jobs::run_part(ctx, &job.state, part), |outcome| outcome)
    }

    fn finish_create(job: Job, outcomes: Vec<Vec<u8>>) -> Result<wit::Backup, wit::Error> {
        run(|ctx| jobs::finish_create(ctx, &job.state, &outcomes), backup_to_wit)
    }

    fn finish_restore(job: Job, outcomes: Vec<Vec<u8>>) -> Result<wit::RestoreReport, wit::Error> {
        run(|ctx| jobs::finish_restore(ctx, &job.state, &outcomes), restore_report_to_wit)
    }

    fn finish_verify(job: Job, outcomes: Vec<Vec<u8>>) -> Result<wit::VerifyReport, wit::Error> {
        run(|ctx| jobs::finish_verify(ctx, &job.state, &outcomes), verify_report_to_wit)
    }

    fn abandon(job: Job) {
        let _ = run(
            |ctx| {
                jobs::abandon(ctx, &job.state);
                Ok(())
            },
            |()| (),
        );
    }
}
