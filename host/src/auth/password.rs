//! Password hashing with argon2id (the crate's recommended parameters) in
//! PHC string form, and the password rules.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;

/// Fewest characters a password must have.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Why a password was refused or could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Too short.
    #[error("the password is too short: use at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// The hasher failed.
    #[error("cannot hash the password: {0}")]
    Hashing(String),
}

/// Checks the password rules.
pub fn check_rules(password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    Ok(())
}

/// Checks the password rules, then hashes `password`.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    check_rules(password)?;
    let salt = new_salt()?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| PasswordError::Hashing(err.to_string()))
}

/// Whether `password` matches the stored `hash`; a malformed hash never matches.
pub fn matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash of a random password, to verify against when a username is
/// unknown so that the answer takes as long as for a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        new_salt()
            .ok()
            .and_then(|salt| {
                Argon2::default().hash_password(salt.as_str().as_bytes(), &salt).ok().map(|hash| hash.to_string())
            })
            .unwrap_or_default()
    })
}

/// 16 random bytes as a PHC salt.
fn new_salt() -> Result<SaltString, PasswordError> {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    SaltString::encode_b64(&bytes).map_err(|err| PasswordError::Hashing(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_the_right_password() {
        let stored = hash("correct horse").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(matches("correct horse", &stored));
        assert!(!matches("wrong horse!", &stored));
        assert!(!matches("correct horse", "not a hash"));
        assert!(!matches("anything", decoy_hash()));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert_eq!(hash("short"), Err(PasswordError::TooShort));
    }
}
