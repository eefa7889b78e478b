//! A create split into parts: the begin checks the input, takes the id and
//! plans the parts; each part writes its share of the archive into the
//! job's folder; the finish joins them, records the backup and removes the
//! folder. [`add_backup`] runs the same steps in one instance.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::archive::hashing::Progress;
use crate::archive::join::{join, part_file};
use crate::archive::name::job_folder_name;
use crate::archive::plan::{Plan, plan};
use crate::archive::write::{PartSpec, PartWritten, write_part};
use crate::catalog::Catalog;
use crate::error::{PluginError, Result};
use crate::folders::{create_folder, remove_tree};
use crate::host::Context;
use crate::input::{check_description, check_expiry};
use crate::records::Backup;

/// What every call of a create job needs to know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateJob {
    /// The new backup's id.
    pub id: u64,
    /// Its creation time.
    pub created_at: i64,
    /// Its description.
    pub description: String,
    /// Its expiry.
    pub expiry: Option<i64>,
    /// The schedule that makes it, if any.
    pub schedule_id: Option<u64>,
    /// What each part writes.
    pub plan: Plan,
    /// How long a piece of the archive may grow before the next starts.
    pub piece_target: u64,
}

impl CreateJob {
    /// Checks the input, takes the next backup id (saved at once, so that
    /// it is never given twice), and plans at most `parts` parts.
    pub fn begin(ctx: Context, description: &str, expiry: Option<i64>, parts: u32) -> Result<CreateJob> {
        let now = ctx.host.now();
        check_description(description)?;
        if let Some(expiry) = expiry {
            check_expiry(expiry, now)?;
        }
        let (mut catalog, _) = Catalog::load_for_update(ctx, now)?;
        let id = catalog.allocate_backup_id();
        catalog.save(ctx)?;
        Self::planned(ctx, id, now, description.to_string(), expiry, None, parts)
    }

    /// The job for backup `id`, with a fresh job folder and a plan of at
    /// most `parts` parts.
    fn planned(
        ctx: Context,
        id: u64,
        created_at: i64,
        description: String,
        expiry: Option<i64>,
        schedule_id: Option<u64>,
        parts: u32,
    ) -> Result<CreateJob> {
        let dir = job_dir(ctx, id);
        remove_tree(&dir)?;
        create_folder(&dir)?;
        let plan = plan(ctx, parts).inspect_err(|_| {
            let _ = remove_tree(&dir);
        })?;
        let piece_target = plan.piece_target();
        Ok(CreateJob { id, created_at, description, expiry, schedule_id, plan, piece_target })
    }

    /// How many parts the job has.
    pub fn parts(&self) -> usize {
        self.plan.parts.len()
    }

    /// Writes part `index`; the first part also writes `.env`.
    pub fn run_part(&self, ctx: Context, index: usize) -> Result<PartWritten> {
        let items = self
            .plan
            .parts
            .get(index)
            .ok_or_else(|| PluginError::InvalidInput(format!("the create has no part {index}")))?;
        let env = if index == 0 {
            Some(
                ctx.host
                    .read_env()
                    .map_err(|e| PluginError::Storage(format!("could not read the tenant's .env: {e}")))?,
            )
        } else {
            None
        };
        let total = self.plan.content_bytes(index) + env.as_ref().map_or(0, |e| e.len() as u64);
        let progress = Progress::new(ctx.host, total);
        let spec = PartSpec {
            items,
            env: env.as_deref(),
            mtime: u64::try_from(self.created_at).unwrap_or(0),
            piece_target: self.piece_target,
        };
        let written = write_part(ctx, &part_file(&job_dir(ctx, self.id), index), spec, &progress)?;
        progress.finish();
        Ok(written)
    }

    /// Joins the parts (`outcomes[i]` from part `i`) into the archive and
    /// the backup's record, added to `catalog` (the caller saves it).
    fn join_into(&self, ctx: Context, catalog: &mut Catalog, outcomes: &[PartWritten]) -> Result<Backup> {
        if outcomes.len() != self.parts() {
            return Err(PluginError::InvalidInput(format!(
                "the create has {} parts, but {} outcomes were given",
                self.parts(),
                outcomes.len()
            )));
        }
        let dir = job_dir(ctx, self.id);
        let written = join(ctx, &dir, self.id, self.created_at, outcomes)?;
        let backup = Backup {
            id: self.id,
            name: written.name,
            created_at: self.created_at,
            description: self.description.clone(),
            expiry: self.expiry,
            size: written.size,
            sha256: written.sha256,
            schedule_id: self.schedule_id,
            layout: Some(written.layout),
        };
        if let Err(err) = remove_tree(&dir) {
            ctx.warn(&format!("backup {} is complete, but its job folder stays: {err}", self.id));
        }
        ctx.info(&format!("created backup {} ({}, {} bytes)", self.id, backup.name, backup.size));
        catalog.insert_backup(backup.clone());
        Ok(backup)
    }

    /// Ends the job: joins the parts and records the backup.
    pub fn finish(&self, ctx: Context, outcomes: &[PartWritten]) -> Result<Backup> {
        let mut catalog = Catalog::load(ctx)?;
        let backup = self.join_into(ctx, &mut catalog, outcomes)?;
        catalog.save(ctx)?;
        Ok(backup)
    }

    /// Removes the job's folder.
    pub fn abandon(&self, ctx: Context) {
        if let Err(err) = remove_tree(&job_dir(ctx, self.id)) {
            ctx.warn(&format!("could not clean up after the create of backup {}: {err}", self.id));
        }
    }
}

/// Writes a new archive created at `now`, in one instance, and adds its
/// record to `catalog` (the caller saves the catalog).
pub fn add_backup(
    ctx: Context,
    catalog: &mut Catalog,
    now: i64,
    description: String,
    expiry: Option<i64>,
    schedule_id: Option<u64>,
) -> Result<Backup> {
    let id = catalog.allocate_backup_id();
    // Even a failed write adds and removes a job folder in backups/.
    catalog.folder_changed();
    let job = CreateJob::planned(ctx, id, now, description, expiry, schedule_id, 1)?;
    let result = job.run_part(ctx, 0).and_then(|part| job.join_into(ctx, catalog, &[part]));
    if result.is_err() {
        job.abandon(ctx);
    }
    result
}

fn job_dir(ctx: Context, id: u64) -> PathBuf {
    ctx.roots.backups.join(job_folder_name(id))
}
