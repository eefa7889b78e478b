//! What one tenant's server remembers about signing in.

use super::session_store::SessionStore;
use super::throttle::SignInThrottle;

/// What one tenant's server remembers about signing in: its web sessions
/// and its sign-in throttle. Kept for as long as the tenant is served
/// (under hosting, also while the tenant is closed for being idle).
#[derive(Default)]
pub struct AuthMemory {
    /// The open web sessions.
    pub sessions: SessionStore,
    /// Failed sign-ins.
    pub throttle: SignInThrottle,
}
