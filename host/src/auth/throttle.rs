//! Sign-in throttling of one tenant, against password guessing.
//!
//! Failed sign-ins are counted per account *and client address* (the pair),
//! and per client address alone (all accounts together, a looser limit). A
//! pair may fail [`PAIR_FREE_FAILURES`] times, an address
//! [`ADDRESS_FREE_FAILURES`] times; after that each further failure locks it
//! for [`FIRST_LOCK`], doubling with every failure up to [`LONGEST_LOCK`],
//! and attempts go one at a time. A locked pair or address is refused before
//! its password is checked. Counts are forgotten [`FORGET_AFTER`] after the
//! last failure; a successful sign-in clears its pair (not its address).
//!
//! The account alone is never locked: someone guessing the ROOT password
//! from one address does not keep the owner, at another address, out.
//! IPv6 addresses count per /64 network, the block one client usually has.
//!
//! Memory is bounded: each table holds at most [`MAX_ENTRIES`] entries;
//! when full, forgotten entries go first, then the least recently failed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Failures of one account from one address before it is locked.
pub const PAIR_FREE_FAILURES: u32 = 5;
/// Failures from one address (any accounts) before it is locked.
pub const ADDRESS_FREE_FAILURES: u32 = 20;
/// The first lock; each further failure doubles it.
pub const FIRST_LOCK: Duration = Duration::from_secs(5);
/// The longest lock.
pub const LONGEST_LOCK: Duration = Duration::from_secs(15 * 60);
/// How long failures are remembered after the last one.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// Most entries of each table (pairs, addresses).
pub const MAX_ENTRIES: usize = 4096;

/// Failures of one key.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    failures: u32,
    in_flight: u32,
    last_failure: Instant,
    locked_until: Option<Instant>,
}

impl Bucket {
    fn new(now: Instant) -> Bucket {
        Bucket { failures: 0, in_flight: 0, last_failure: now, locked_until: None }
    }

    fn forgotten(&self, now: Instant) -> bool {
        self.in_flight == 0
            && self.locked_until.is_none_or(|until| until <= now)
            && now.duration_since(self.last_failure) >= FORGET_AFTER
    }

    /// How long to wait before an attempt, or `None` when it may go now.
    fn wait(&self, free: u32, now: Instant) -> Option<Duration> {
        if let Some(until) = self.locked_until.filter(|until| *until > now) {
            return Some(until - now);
        }
        // Past the free failures, one attempt at a time.
        (self.failures + self.in_flight >= free && self.in_flight > 0).then_some(Duration::from_secs(1))
    }

    fn fail(&mut self, free: u32, now: Instant) -> Option<Duration> {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.failures = self.failures.saturating_add(1);
        self.last_failure = now;
        let over = self.failures.checked_sub(free)?;
        let lock = FIRST_LOCK.saturating_mul(1u32.checked_shl(over).unwrap_or(u32::MAX)).min(LONGEST_LOCK);
        self.locked_until = Some(now + lock);
        Some(lock)
    }
}

/// A table of buckets with a bounded number of entries.
struct Table<K> {
    buckets: HashMap<K, Bucket>,
}

impl<K: std::hash::Hash + Eq + Copy> Table<K> {
    fn new() -> Self {
        Table { buckets: HashMap::new() }
    }

    fn get(&mut self, key: K, now: Instant) -> &mut Bucket {
        if self.buckets.get(&key).is_some_and(|bucket| bucket.forgotten(now)) {
            self.buckets.remove(&key);
        }
        if !self.buckets.contains_key(&key) && self.buckets.len() >= MAX_ENTRIES {
            self.buckets.retain(|_, bucket| !bucket.forgotten(now));
            if self.buckets.len() >= MAX_ENTRIES {
                let oldest = self
                    .buckets
                    .iter()
                    .filter(|(_, bucket)| bucket.in_flight == 0)
                    .min_by_key(|(_, bucket)| bucket.last_failure)
                    .map(|(key, _)| *key);
                if let Some(oldest) = oldest {
                    self.buckets.remove(&oldest);
                }
            }
        }
        self.buckets.entry(key).or_insert_with(|| Bucket::new(now))
    }

    fn peek(&mut self, key: &K) -> Option<&mut Bucket> {
        self.buckets.get_mut(key)
    }
}

/// The key of an account at an address.
type PairKey = [u8; 16];
/// The key of an address: IPv4 as is, IPv6 as its /64 network.
type AddressKey = [u8; 16];

struct Tables {
    pairs: Table<PairKey>,
    addresses: Table<AddressKey>,
}

/// The sign-in throttle of one tenant.
pub struct SignInThrottle {
    tables: Mutex<Tables>,
}

impl Default for SignInThrottle {
    fn default() -> Self {
        SignInThrottle { tables: Mutex::new(Tables { pairs: Table::new(), addresses: Table::new() }) }
    }
}

/// A sign-in refused because of earlier failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// How long to wait before trying again.
    pub retry_after: Duration,
}

impl Throttled {
    /// The wait in whole seconds, rounded up (at least 1), as `Retry-After` gives it.
    pub fn seconds(&self) -> u64 {
        let whole = self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0);
        whole.max(1)
    }
}

/// The outcome of a failed sign-in, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
    /// Whether the account at this address is now locked.
    pub pair: Option<Duration>,
    /// Whether the address is now locked.
    pub address: Option<Duration>,
}

/// A sign-in attempt let through: say how it ended with [`Attempt::succeeded`]
/// or [`Attempt::failed`]. An attempt dropped unfinished counts as neither.
pub struct Attempt<'a> {
    throttle: &'a SignInThrottle,
    pair: PairKey,
    address: AddressKey,
    done: bool,
}

impl SignInThrottle {
    /// Lets an attempt to sign in to `account` from `address` go ahead, or
    /// says how long to wait.
    pub fn admit(&self, account: &str, address: Option<IpAddr>, now: Instant) -> Result<Attempt<'_>, Throttled> {
        let pair = pair_key(account, address);
        let address = address_key(address);
        let mut tables = self.lock();
        let address_wait = tables.addresses.get(address, now).wait(ADDRESS_FREE_FAILURES, now);
        let pair_wait = tables.pairs.get(pair, now).wait(PAIR_FREE_FAILURES, now);
        if let Some(retry_after) = address_wait.max(pair_wait) {
            return Err(Throttled { retry_after });
        }
        tables.addresses.get(address, now).in_flight += 1;
        tables.pairs.get(pair, now).in_flight += 1;
        Ok(Attempt { throttle: self, pair, address, done: false })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Attempt<'_> {
    /// The password was right: the account at this address starts afresh.
    pub fn succeeded(mut self) {
        self.done = true;
        let mut tables = self.throttle.lock();
        tables.pairs.buckets.remove(&self.pair);
        if let Some(bucket) = tables.addresses.peek(&self.address) {
            bucket.in_flight = bucket.in_flight.saturating_sub(1);
        }
    }

    /// The credentials were wrong: counts the failure; what is locked now.
    pub fn failed(mut self, now: Instant) -> Locked {
        self.done = true;
        let mut tables = self.throttle.lock();
        let pair = tables.pairs.get(self.pair, now).fail(PAIR_FREE_FAILURES, now);
        let address = tables.addresses.get(self.address, now).fail(ADDRESS_FREE_FAILURES, now);
        Locked { pair, address }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut tables = self.throttle.lock();
        if let Some(bucket) = tables.pairs.peek(&self.pair) {
            bucket.in_flight = bucket.in_flight.saturating_sub(1);
        }
        if let Some(bucket) = tables.addresses.peek(&self.address) {
            bucket.in_flight = bucket.in_flight.saturating_sub(1);
        }
    }
}

/// A fixed-size key for an account at an address (accounts may be any text).
fn pair_key(account: &str, address: Option<IpAddr>) -> PairKey {
    let mut hash = Sha256::new();
    hash.update(address_key(address));
    hash.update(account.as_bytes());
    let digest = hash.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

fn address_key(address: Option<IpAddr>) -> AddressKey {
    match address {
        None => [0xff; 16],
        Some(IpAddr::V4(v4)) => v4.to_ipv6_mapped().octets(),
        Some(IpAddr::V6(v6)) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            octets
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    fn fail(throttle: &SignInThrottle, account: &str, address: Option<IpAddr>, now: Instant) -> Locked {
        throttle.admit(account, address, now).expect("admitted").failed(now)
    }

    #[test]
    fn a_pair_locks_after_its_free_failures_and_releases_after_the_wait() {
        let throttle = SignInThrottle::default();
        let now = Instant::now();
        for _ in 0..PAIR_FREE_FAILURES - 1 {
            assert_eq!(fail(&throttle, "root", ip("10.0.0.1"), now).pair, None);
        }
        assert_eq!(fail(&throttle, "root", ip("10.0.0.1"), now).pair, Some(FIRST_LOCK));
        let refused = throttle.admit("root", ip("10.0.0.1"), now).err().expect("locked");
        assert_eq!(refused.retry_after, FIRST_LOCK);
        assert_eq!(refused.seconds(), FIRST_LOCK.as_secs());
        // The owner, elsewhere, is not locked out.
        throttle.admit("root", ip("10.0.0.2"), now).expect("another address").succeeded();
        // After the wait, one more try; another failure doubles the lock.
        let later = now + FIRST_LOCK;
        assert_eq!(fail(&throttle, "root", ip("10.0.0.1"), later).pair, Some(FIRST_LOCK * 2));
        let after_that = later + FIRST_LOCK * 2;
        throttle.admit("root", ip("10.0.0.1"), after_that).expect("released").succeeded();
        assert_eq!(fail(&throttle, "root", ip("10.0.0.1"), after_that).pair, None, "a success starts afresh");
    }

    #[test]
    fn locks_double_up_to_the_longest() {
        let mut bucket = Bucket::new(Instant::now());
        let now = Instant::now();
        let locks: Vec<_> = (0..40).filter_map(|_| bucket.fail(1, now)).collect();
        assert_eq!(locks[0], FIRST_LOCK);
        assert_eq!(locks[1], FIRST_LOCK * 2);
        assert_eq!(*locks.last().unwrap(), LONGEST_LOCK);
    }

    #[test]
    fn an_address_trying_many_accounts_is_locked() {
        let throttle = SignInThrottle::default();
        let now = Instant::now();
        for n in 0..ADDRESS_FREE_FAILURES {
            fail(&throttle, &format!("user{n}"), ip("2001:db8::1"), now);
        }
        assert!(throttle.admit("fresh", ip("2001:db8::99"), now).is_err(), "the same /64");
        assert!(throttle.admit("fresh", ip("2001:db8:0:1::1"), now).is_ok(), "another /64");
    }

    #[test]
    fn attempts_past_the_free_ones_go_one_at_a_time() {
        let throttle = SignInThrottle::default();
        let now = Instant::now();
        for _ in 0..PAIR_FREE_FAILURES - 1 {
            fail(&throttle, "root", ip("10.0.0.1"), now);
        }
        let first = throttle.admit("root", ip("10.0.0.1"), now).expect("the last free attempt");
        assert!(throttle.admit("root", ip("10.0.0.1"), now).is_err(), "not a second one beside it");
        drop(first);
        assert!(throttle.admit("root", ip("10.0.0.1"), now).is_ok(), "a dropped attempt frees its place");
    }

    #[test]
    fn failures_are_forgotten_and_the_tables_stay_bounded() {
        let throttle = SignInThrottle::default();
        let now = Instant::now();
        for _ in 0..PAIR_FREE_FAILURES {
            fail(&throttle, "root", ip("10.0.0.1"), now);
        }
        let later = now + LONGEST_LOCK.max(FORGET_AFTER);
        assert_eq!(fail(&throttle, "root", ip("10.0.0.1"), later).pair, None, "forgotten");
        for n in 0..(MAX_ENTRIES as u32 + 100) {
            let address = IpAddr::from(n.to_be_bytes());
            fail(&throttle, &format!("user{n}"), Some(address), later);
        }
        let tables = throttle.lock();
        assert!(tables.pairs.buckets.len() <= MAX_ENTRIES);
        assert!(tables.addresses.buckets.len() <= MAX_ENTRIES);
    }
}
