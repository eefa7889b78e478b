//! The shared queue of long operations (create, restore, verify, a due
//! tick) when many tenants run in one process: at most `max_running`
//! plugin instances at once (an operation split over several instances
//! counts each); the others wait their turn, and turns go round robin over the
//! tenants, so one tenant's backlog never starves another's. Quick calls
//! (list, get, update, sign-in) never wait here.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

/// Grants turns for long operations.
pub trait Admission: Send + Sync {
    /// Waits for a turn for tenant `tenant` to run `instances` plugin
    /// instances; the turn ends when the returned value is dropped.
    fn admit(&self, tenant: &str, instances: usize) -> Turn;
}

/// A granted turn; dropping it lets the next waiter in.
pub struct Turn {
    queue: Arc<FairQueue>,
    instances: usize,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut state = self.queue.lock();
        state.running -= self.instances;
        self.queue.changed.notify_all();
    }
}

#[derive(Debug, Default)]
struct State {
    running: usize,
    next_ticket: u64,
    /// Waiting tickets by tenant, oldest first.
    waiting: BTreeMap<String, VecDeque<u64>>,
    /// The tenant whose turn was granted last.
    last: Option<String>,
}

/// A round-robin queue with `max_running` instances at once.
#[derive(Debug)]
pub struct FairQueue {
    max_running: usize,
    state: Mutex<State>,
    changed: Condvar,
}

impl FairQueue {
    /// A queue allowing `max_running` (at least 1) instances of long
    /// operations at once.
    pub fn new(max_running: usize) -> Arc<FairQueue> {
        Arc::new(FairQueue { max_running: max_running.max(1), state: Mutex::default(), changed: Condvar::new() })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The ticket whose turn is next: the oldest of the first tenant after
    /// the last one served, in name order, that has a waiter.
    fn choose(state: &State) -> Option<u64> {
        let after = state.last.as_deref().unwrap_or("");
        let next = state
            .waiting
            .range::<str, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
            .chain(state.waiting.range::<str, _>((std::ops::Bound::Unbounded, std::ops::Bound::Included(after))))
            .find(|(_, tickets)| !tickets.is_empty());
        next.and_then(|(_, tickets)| tickets.front().copied())
    }
}

impl Admission for Arc<FairQueue> {
    fn admit(&self, tenant: &str, instances: usize) -> Turn {
        // An operation wanting more than the whole budget runs alone.
        let instances = instances.clamp(1, self.max_running);
        let mut state = self.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.waiting.entry(tenant.to_owned()).or_default().push_back(ticket);
        loop {
            if state.running + instances <= self.max_running && FairQueue::choose(&state) == Some(ticket) {
                state.running += instances;
                if let Some(tickets) = state.waiting.get_mut(tenant) {
                    tickets.pop_front();
                    if tickets.is_empty() {
                        state.waiting.remove(tenant);
                    }
                }
                state.last = Some(tenant.to_owned());
                self.changed.notify_all();
                return Turn { queue: self.clone(), instances };
            }
            state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn turns_go_round_robin_over_tenants_within_the_limit() {
        let queue = FairQueue::new(1);
        let holding = queue.admit("a", 1);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        // Tenant a queues three operations, then b and c one each.
        for tenant in ["a", "a", "a", "b", "c"] {
            let (queue, order) = (queue.clone(), order.clone());
            waiters.push(std::thread::spawn(move || {
                let _turn = queue.admit(tenant, 1);
                order.lock().unwrap().push(tenant);
                std::thread::sleep(Duration::from_millis(20));
            }));
            std::thread::sleep(Duration::from_millis(30));
        }
        assert_eq!(queue.lock().running, 1, "nothing ran beside the held turn");
        drop(holding);
        for waiter in waiters {
            waiter.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), ["b", "c", "a", "a", "a"], "b and c did not wait behind a's backlog");
    }

    #[test]
    fn up_to_max_running_turns_run_at_once() {
        let queue = FairQueue::new(2);
        let first = queue.admit("a", 1);
        let second = queue.admit("b", 1);
        assert_eq!(queue.lock().running, 2);
        drop(first);
        let third = queue.admit("c", 1);
        drop((second, third));
        assert_eq!(queue.lock().running, 0);
    }

    #[test]
    fn an_operation_on_several_instances_counts_each() {
        let queue = FairQueue::new(3);
        let wide = queue.admit("a", 2);
        assert_eq!(queue.lock().running, 2);
        let (started, queue2) = (Arc::new(Mutex::new(false)), queue.clone());
        let flag = started.clone();
        let waiter = std::thread::spawn(move || {
            let _turn = queue2.admit("b", 2);
            *flag.lock().unwrap() = true;
        });
        std::thread::sleep(Duration::from_millis(50));
        assert!(!*started.lock().unwrap(), "two more instances do not fit beside two of three");
        drop(wide);
        waiter.join().unwrap();
        assert!(*started.lock().unwrap());
        // More than the whole budget runs alone rather than never.
        drop(queue.admit("c", 10));
        assert_eq!(queue.lock().running, 0);
    }
}
