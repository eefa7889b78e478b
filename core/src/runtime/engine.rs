//! The wasmtime `Engine` the plugin runs in, and the thread that advances its
//! epoch so that deadlines can stop a guest that never returns.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

use super::error::LoadError;

/// How often the epoch advances: the granularity of every deadline.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Builds the engine: Cranelift optimising for speed, epoch interruption,
/// and a pooling allocator whose memories are capped at `memory_limit`.
/// Falls back to on-demand allocation when the machine refuses the pool's
/// address-space reservation.
pub(crate) fn build_engine(memory_limit: usize, instances: u32) -> Result<Engine, LoadError> {
    match Engine::new(&config(Some((memory_limit, instances)))) {
        Ok(engine) => Ok(engine),
        Err(pool_error) => {
            tracing::warn!(
                "the pooling allocator could not be set up ({pool_error}); \
                 allocating plugin instances on demand instead"
            );
            Engine::new(&config(None)).map_err(|e| LoadError::Engine(format!("{e:#}")))
        }
    }
}

/// The engine configuration; `pool` selects the pooling allocator sized for
/// that memory limit and that many instances at once.
fn config(pool: Option<(usize, u32)>) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true).epoch_interruption(true).cranelift_opt_level(OptLevel::Speed);
    if let Some((limit, instances)) = pool {
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(instances)
            .total_core_instances(instances * 8)
            .total_memories(instances * 2)
            .total_tables(instances * 8)
            .max_memories_per_component(2)
            .max_memory_size(limit);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

/// A background thread that increments the engine's epoch every
/// [`EPOCH_TICK`]; stopped and joined when dropped.
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    /// Starts ticking `engine`.
    pub(crate) fn start(engine: &Engine) -> Result<EpochTicker, LoadError> {
        let stop = Arc::new(AtomicBool::new(false));
        let engine = engine.clone();
        let stop_flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("kinesis-epoch".to_string())
            .spawn(move || {
                while !stop_flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .map_err(|e| LoadError::Engine(format!("cannot start the deadline thread: {e}")))?;
        Ok(EpochTicker { stop, thread: Some(thread) })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            // The thread only sleeps and ticks; joining cannot hang.
            let _ = thread.join();
        }
    }
}

/// The number of epoch ticks that make up `deadline` (at least one).
pub(crate) fn ticks_for(deadline: Duration) -> u64 {
    let ticks = deadline.as_nanos() / EPOCH_TICK.as_nanos();
    u64::try_from(ticks).unwrap_or(u64::MAX).max(1)
}
