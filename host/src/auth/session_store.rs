//! The web sessions of one tenant, held by the server.
//!
//! The `kinesis_session` cookie carries only a random session id (256 bits);
//! what it stands for lives here, so that ending a session on the server
//! ends it for every copy of the cookie. The store keeps, per session, the
//! user, a fingerprint of the password hash the user signed in with, and the
//! expiry. A session counts only while its user exists with that same
//! password hash, so deleting a user or changing their password ends all of
//! their sessions at once, whichever program made the change.
//!
//! Ids are kept only as an HMAC under the tenant's token secret: a session
//! of one tenant is nothing to another tenant (or to a tenant made again
//! under the same name), and a restore that brings back another secret ends
//! every session. The store lives in memory: a restart of the server ends
//! every web session. Its size is bounded: at most [`MAX_SESSIONS`]
//! sessions, and [`MAX_SESSIONS_PER_USER`] per user; beyond that the oldest
//! give way.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use super::token;

/// Most sessions one tenant holds at a time.
pub const MAX_SESSIONS: usize = 4096;
/// Most sessions one user holds at a time (browsers, devices).
pub const MAX_SESSIONS_PER_USER: usize = 16;

const SESSION_CONTEXT: &[u8] = b"kinesis-session-v1:";

/// A fingerprint of a stored password hash: changes whenever the password
/// is set again (the hash has a fresh salt each time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordStamp([u8; 32]);

impl PasswordStamp {
    /// The stamp of the stored password hash `hash`.
    pub fn of(hash: &str) -> PasswordStamp {
        PasswordStamp(Sha256::digest(hash.as_bytes()).into())
    }
}

/// What a session id stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The signed-in user's id.
    pub uid: u64,
    /// Their username, to read their current password hash.
    pub username: String,
    /// The stamp of the password hash they signed in with.
    pub stamp: PasswordStamp,
}

struct Entry {
    record: SessionRecord,
    opened: Instant,
    expires: Instant,
}

/// The live web sessions of one tenant.
#[derive(Default)]
pub struct SessionStore {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
}

impl SessionStore {
    /// Opens a session for `record`, valid for `ttl`; its new id.
    pub fn open(&self, secret: &[u8], record: SessionRecord, ttl: Duration) -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let id = URL_SAFE_NO_PAD.encode(bytes);
        let now = Instant::now();
        let mut entries = self.lock();
        entries.retain(|_, entry| entry.expires > now);
        let uid = record.uid;
        while entries.values().filter(|entry| entry.record.uid == uid).count() >= MAX_SESSIONS_PER_USER {
            remove_oldest(&mut entries, |entry| entry.record.uid == uid);
        }
        while entries.len() >= MAX_SESSIONS {
            remove_oldest(&mut entries, |_| true);
        }
        entries.insert(key(secret, &id), Entry { record, opened: now, expires: now + ttl });
        id
    }

    /// What session `id` stands for, while it is open and unexpired.
    pub fn find(&self, secret: &[u8], id: &str) -> Option<SessionRecord> {
        let key = key(secret, id);
        let mut entries = self.lock();
        let entry = entries.get(&key)?;
        if entry.expires <= Instant::now() {
            entries.remove(&key);
            return None;
        }
        Some(entry.record.clone())
    }

    /// Ends session `id` (nothing when it is not open).
    pub fn end(&self, secret: &[u8], id: &str) {
        self.lock().remove(&key(secret, id));
    }

    /// Ends every session of user `uid`; how many there were.
    pub fn end_all_of(&self, uid: u64) -> usize {
        let mut entries = self.lock();
        let before = entries.len();
        entries.retain(|_, entry| entry.record.uid != uid);
        before - entries.len()
    }

    /// How many sessions are held (expired ones not yet dropped included).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether `record` still stands for a user whose current id and password
/// hash are `current` (`None`: no user has the session's username now).
pub fn still_valid(record: &SessionRecord, current: Option<(u64, &str)>) -> bool {
    current.is_some_and(|(uid, hash)| uid == record.uid && PasswordStamp::of(hash) == record.stamp)
}

/// Removes the oldest entry that `pick` selects.
fn remove_oldest(entries: &mut HashMap<[u8; 32], Entry>, pick: impl Fn(&Entry) -> bool) {
    let oldest = entries.iter().filter(|(_, entry)| pick(entry)).min_by_key(|(_, entry)| entry.opened).map(|(k, _)| *k);
    if let Some(key) = oldest {
        entries.remove(&key);
    }
}

/// The store's key of session `id`: bound to the tenant's secret.
fn key(secret: &[u8], id: &str) -> [u8; 32] {
    token::digest(secret, SESSION_CONTEXT, id.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = &[5; 32];
    const HOUR: Duration = Duration::from_secs(3600);

    fn record(uid: u64, hash: &str) -> SessionRecord {
        SessionRecord { uid, username: format!("user{uid}"), stamp: PasswordStamp::of(hash) }
    }

    #[test]
    fn a_session_is_found_until_it_is_ended() {
        let store = SessionStore::default();
        let id = store.open(SECRET, record(1, "h"), HOUR);
        assert_eq!(id.len(), 43);
        assert_eq!(store.find(SECRET, &id), Some(record(1, "h")));
        assert_eq!(store.find(SECRET, "guessed"), None);
        store.end(SECRET, &id);
        assert_eq!(store.find(SECRET, &id), None);
    }

    #[test]
    fn another_secret_finds_nothing() {
        let store = SessionStore::default();
        let id = store.open(SECRET, record(1, "h"), HOUR);
        assert_eq!(store.find(&[6; 32], &id), None);
        assert!(store.find(SECRET, &id).is_some());
    }

    #[test]
    fn expired_sessions_are_gone() {
        let store = SessionStore::default();
        let id = store.open(SECRET, record(1, "h"), Duration::ZERO);
        assert_eq!(store.find(SECRET, &id), None);
        assert!(store.is_empty());
    }

    #[test]
    fn ending_a_user_ends_all_their_sessions_only() {
        let store = SessionStore::default();
        let a = store.open(SECRET, record(1, "h"), HOUR);
        let b = store.open(SECRET, record(1, "h"), HOUR);
        let other = store.open(SECRET, record(2, "h"), HOUR);
        assert_eq!(store.end_all_of(1), 2);
        assert_eq!((store.find(SECRET, &a), store.find(SECRET, &b)), (None, None));
        assert!(store.find(SECRET, &other).is_some());
    }

    #[test]
    fn a_new_password_or_a_deleted_user_ends_the_session() {
        let session = record(2, "$argon2id$old");
        assert!(still_valid(&session, Some((2, "$argon2id$old"))));
        assert!(!still_valid(&session, Some((2, "$argon2id$new"))), "password changed");
        assert!(!still_valid(&session, None), "user deleted");
        assert!(!still_valid(&session, Some((3, "$argon2id$old"))), "another user of that name");
    }

    #[test]
    fn the_store_is_bounded_per_user_and_in_all() {
        let store = SessionStore::default();
        let first = store.open(SECRET, record(1, "h"), HOUR);
        for _ in 0..MAX_SESSIONS_PER_USER {
            store.open(SECRET, record(1, "h"), HOUR);
        }
        assert_eq!(store.len(), MAX_SESSIONS_PER_USER);
        assert_eq!(store.find(SECRET, &first), None, "the oldest gave way");
        for uid in 0..(MAX_SESSIONS as u64 + 10) {
            store.open(SECRET, record(100 + uid, "h"), HOUR);
        }
        assert_eq!(store.len(), MAX_SESSIONS);
    }
}
