//! Runs cases: one loaded runtime for all of them (loaded again only after
//! a case overran its deadline and its calls were stopped), and one
//! throwaway tenant and one thread per case, under the case's deadline.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use kinesis_backup_core::runtime::{LoadError, PluginSource, Runtime};

use super::fail::{Outcome, setup};
use super::scratch::Scratch;
use super::{Case, CaseOutcome, CheckOptions, Ctx, Report};

/// The longest reason kept, in bytes; a plugin's answers quoted in it can be
/// long.
const MAX_REASON: usize = 1000;

/// How long a case that overran its deadline gets to end once its calls
/// are stopped.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// A plugin loaded for a check: what it is, its runtime, and how to load
/// it again after a case stopped that runtime.
pub struct Checker {
    source: PluginSource,
    options: CheckOptions,
    // Holds the compiled plugin for a load again when no cache was given.
    _own_cache: Option<tempfile::TempDir>,
    runtime: Mutex<Arc<Runtime>>,
    /// The plugin, as the runtime describes it.
    pub plugin: String,
    /// The contract version it targets.
    pub contract: &'static str,
}

impl Checker {
    /// Loads `source`, failing when it is not a usable component.
    pub fn load(source: &PluginSource, options: &CheckOptions) -> Result<Checker, LoadError> {
        let mut options = options.clone();
        // A case that overruns stops the runtime; the next one loads it
        // again, compiled once, then from a cache.
        let own_cache = match options.runtime.cache_dir {
            Some(_) => None,
            None => tempfile::Builder::new().prefix("kinesis-check-cache-").tempdir().ok(),
        };
        if let Some(dir) = &own_cache {
            options.runtime.cache_dir = Some(dir.path().to_path_buf());
        }
        let first = Runtime::load(source.clone(), options.runtime.clone())?;
        Ok(Checker {
            source: source.clone(),
            options,
            _own_cache: own_cache,
            plugin: first.describe(),
            contract: first.contract_version(),
            runtime: Mutex::new(Arc::new(first)),
        })
    }

    /// Runs `cases` one after the other, handing each outcome to `each` as
    /// it comes.
    pub fn run(&self, cases: &[Case], mut each: impl FnMut(&CaseOutcome)) -> Report {
        let mut outcomes = Vec::with_capacity(cases.len());
        for case in cases {
            let started = Instant::now();
            let outcome = self.run_case(case);
            let outcome = CaseOutcome {
                name: case.name,
                checks: case.checks,
                passed: outcome.is_ok(),
                reason: outcome.err().map(cut),
                millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            };
            each(&outcome);
            outcomes.push(outcome);
        }
        Report { plugin: self.plugin.clone(), contract: self.contract, cases: outcomes }
    }
}

/// Loads `source` (failing when it is not a usable component), then runs
/// `cases` one after the other, handing each outcome to `each` as it comes.
pub fn check(
    source: &PluginSource,
    options: &CheckOptions,
    cases: &[Case],
    each: impl FnMut(&CaseOutcome),
) -> Result<Report, LoadError> {
    Ok(Checker::load(source, options)?.run(cases, each))
}

impl Checker {
    /// The runtime for the next case: the loaded one, or a new one when a
    /// case stopped it.
    fn runtime(&self) -> Outcome<Arc<Runtime>> {
        let mut runtime = self.runtime.lock().unwrap_or_else(PoisonError::into_inner);
        if runtime.is_shut_down() {
            let again = Runtime::load(self.source.clone(), self.options.runtime.clone())
                .map_err(|e| format!("the plugin did not load again for this case: {e}"))?;
            *runtime = Arc::new(again);
        }
        Ok(Arc::clone(&runtime))
    }

    /// Runs one case on its own thread with its own tenant.
    fn run_case(&self, case: &Case) -> Outcome {
        let options = &self.options;
        let runtime = self.runtime()?;
        let scratch = setup(Scratch::new(), "create a temporary tenant")?;
        let (sender, receiver) = mpsc::channel();
        let in_case = Arc::clone(&runtime);
        let run = case.run;
        setup(
            std::thread::Builder::new().name(format!("check {}", case.name)).spawn(move || {
                let ctx = Ctx { runtime: &in_case, scratch };
                let outcome = catch_unwind(AssertUnwindSafe(|| run(&ctx)))
                    .unwrap_or_else(|panic| Err(format!("the check itself failed: {}", panic_text(panic.as_ref()))));
                let _ = sender.send(outcome);
            }),
            "start a thread",
        )?;
        match receiver.recv_timeout(options.case_deadline) {
            Ok(outcome) => outcome,
            Err(RecvTimeoutError::Timeout) => {
                runtime.shut_down();
                let ended = receiver.recv_timeout(STOP_GRACE).is_ok();
                Err(format!(
                    "the case did not finish within {} s; {}",
                    options.case_deadline.as_secs(),
                    if ended { "its plugin call was stopped" } else { "its plugin call was left running" }
                ))
            }
            Err(RecvTimeoutError::Disconnected) => Err("the case ended without an outcome".to_string()),
        }
    }
}

/// `reason`, cut to [`MAX_REASON`] bytes with a note of what was cut.
fn cut(reason: String) -> String {
    if reason.len() <= MAX_REASON {
        return reason;
    }
    let mut end = MAX_REASON;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &reason[..end], reason.len() - end)
}

/// The message of a panic.
fn panic_text(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_string())
}
