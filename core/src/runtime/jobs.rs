//! Runs a create, restore or verify of a 1.1.0 plugin as a job: the
//! plugin plans it (`begin-*`), up to `instances` fresh instances run its
//! parts at the same time on their own threads, and one more instance ends
//! it (`finish-*`); after any failure the plugin is asked to `abandon` it.
//! The job holds the tenant from begin to end, as a single call would,
//! and every step is held to the host's rules like any other call: its
//! own limits and deadline, its answer distrusted, the job's state and the
//! parts' outcomes bounded before the host keeps them.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use wasmtime::Store;

use super::distrust::{Asked, Distrusted};
use super::error::CallError;
use super::operations::{Answer, Contract, Job, JobSteps, Operation, Parts};
use super::plugin::Plugin;
use super::store::CallState;
use super::{Invocation, ProgressFn, Runtime};

impl Runtime {
    /// The number of instances a create, restore or verify runs on: more
    /// than one only for a plugin with the `parts` interface.
    pub(crate) fn job_instances(&self) -> Option<u32> {
        (self.pre.has_parts() && self.options.jobs > 1).then_some(self.options.jobs)
    }

    /// Runs `steps.op` as a job when the plugin can split it and `may_split`
    /// allows, else in one instance with `whole`. `asked` is held against
    /// the answers.
    pub(crate) fn run_split<T: Distrusted>(
        &self,
        inv: &Invocation,
        asked: Asked,
        may_split: bool,
        whole: impl FnOnce(&dyn Contract, &mut Store<CallState>) -> Answer<T>,
        steps: JobSteps<
            impl FnOnce(&dyn Parts, &mut Store<CallState>, u32) -> Answer<Job>,
            impl FnOnce(&dyn Parts, &mut Store<CallState>, &Job, &[Vec<u8>]) -> Answer<T>,
        >,
    ) -> Result<T, CallError> {
        match self.job_instances().filter(|_| may_split) {
            Some(instances) => self.run_job(inv, instances, asked, steps),
            None => self.run(inv, steps.kind.operation(), asked, whole),
        }
    }

    /// Runs a job on up to `instances` instances at once.
    fn run_job<T: Distrusted>(
        &self,
        inv: &Invocation,
        instances: u32,
        asked: Asked,
        steps: JobSteps<
            impl FnOnce(&dyn Parts, &mut Store<CallState>, u32) -> Answer<Job>,
            impl FnOnce(&dyn Parts, &mut Store<CallState>, &Job, &[Vec<u8>]) -> Answer<T>,
        >,
    ) -> Result<T, CallError> {
        let JobSteps { kind, begin, finish } = steps;
        let op = kind.operation();
        let _tenant = op.mutates.then(|| self.tenant_mutexes.lock(&inv.dirs.root));
        let progress = Aggregate::new(inv.progress.clone());
        let begin_op = kind.begin_step();
        let job_asked = Asked { id: asked.id, limit: None };
        let job =
            self.run_on_instance(inv, begin_op, job_asked, |p, s| on_parts(p, s, |p, s| begin(p, s, instances)))?;
        crate::crash::crash_point("job-begun");
        let outcome = self.run_parts(inv, op, &job, instances, &progress).and_then(|outcomes| {
            crate::crash::crash_point("job-parts-done");
            let finish_inv = Invocation { progress: progress.slot(job.parts as usize), ..inv.clone() };
            let finish_op = kind.finish_step();
            let finish_asked = Asked { id: Some(job.id), limit: None };
            self.run_on_instance(&finish_inv, finish_op, finish_asked, |p, s| {
                on_parts(p, s, |parts, s| finish(parts, s, &job, &outcomes))
            })
        });
        if outcome.is_err() {
            let abandoned = self.run_on_instance(inv, op.abandon_step(), Asked::default(), |p, s| {
                on_parts(p, s, |parts, s| parts.abandon(s, &job))
            });
            if let Err(err) = abandoned {
                tracing::warn!(operation = op.name, "the plugin could not abandon its job: {err}");
            }
        }
        outcome
    }

    /// Runs every part of `job`, up to `instances` at once, and answers
    /// their outcomes in part order, or the first failure (the parts not yet
    /// started are then not run).
    fn run_parts(
        &self,
        inv: &Invocation,
        op: Operation,
        job: &Job,
        instances: u32,
        progress: &Aggregate,
    ) -> Result<Vec<Vec<u8>>, CallError> {
        let count = job.parts as usize;
        let outcomes: Vec<Mutex<Option<Vec<u8>>>> = (0..count).map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let held = AtomicUsize::new(0);
        let first_error: Mutex<Option<CallError>> = Mutex::new(None);
        let part_op = op.step("run-part");
        std::thread::scope(|scope| {
            for _ in 0..(instances as usize).min(count) {
                scope.spawn(|| {
                    while !failed.load(Ordering::Relaxed) {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        if index >= count {
                            break;
                        }
                        let part_inv = Invocation { progress: progress.slot(index), ..inv.clone() };
                        let part = index as u32;
                        let answer = self.run_on_instance(&part_inv, part_op, Asked::default(), |p, s| {
                            on_parts(p, s, |parts, s| parts.run_part(s, job, part))
                        });
                        let kept = answer.and_then(|outcome| {
                            let total = held.fetch_add(outcome.len(), Ordering::Relaxed) + outcome.len();
                            if total > MAX_OUTCOMES_TOTAL {
                                return Err(self.violation(
                                    part_op,
                                    format!(
                                        "its parts' outcomes add up to more than the {} MiB the host keeps for a job",
                                        MAX_OUTCOMES_TOTAL >> 20
                                    ),
                                ));
                            }
                            Ok(outcome)
                        });
                        match kept {
                            Ok(outcome) => *lock(&outcomes[index]) = Some(outcome),
                            Err(err) => {
                                failed.store(true, Ordering::Relaxed);
                                lock(&first_error).get_or_insert(err);
                            }
                        }
                    }
                });
            }
        });
        if let Some(err) = lock(&first_error).take() {
            return Err(err);
        }
        outcomes
            .into_iter()
            .map(|slot| slot.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| CallError::Storage("a part of the job did not run".to_string()))
    }
}

/// Most bytes of outcomes the host keeps for one job, all parts together
/// (the finish hands them all to one instance, whose memory is bounded
/// anyway).
const MAX_OUTCOMES_TOTAL: usize = 64 << 20;

/// Calls `call` with the instance's `parts` interface.
fn on_parts<T>(
    plugin: &Plugin,
    store: &mut Store<CallState>,
    call: impl FnOnce(&dyn Parts, &mut Store<CallState>) -> Answer<T>,
) -> Answer<T> {
    match plugin.parts() {
        Some(parts) => call(parts, store),
        None => Ok(Err(CallError::Storage("the plugin has no parts interface".to_string()))),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Adds up the progress the steps of a job report, each in its own slot,
/// into one figure for the job's progress callback.
#[derive(Clone)]
struct Aggregate {
    outer: Option<ProgressFn>,
    slots: std::sync::Arc<Mutex<Vec<(u64, u64)>>>,
}

impl Aggregate {
    fn new(outer: Option<ProgressFn>) -> Self {
        Aggregate { outer, slots: Default::default() }
    }

    /// A progress callback for step `index`.
    fn slot(&self, index: usize) -> Option<ProgressFn> {
        let outer = self.outer.clone()?;
        let slots = self.slots.clone();
        Some(std::sync::Arc::new(move |done, total| {
            let (done, total) = {
                let mut slots = lock(&slots);
                if slots.len() <= index {
                    slots.resize(index + 1, (0, 0));
                }
                slots[index] = (done, total);
                slots.iter().fold((0u64, 0u64), |(d, t), (sd, st)| (d.saturating_add(*sd), t.saturating_add(*st)))
            };
            outer(done, total);
        }))
    }
}
