//! The server's settings, read from the tenant's `.env`:
//!
//! - `KINESIS_TOKEN_SECRET`: base64 of at least 32 random bytes that sign
//!   login tokens; created on first start. Changing it signs everyone out.
//! - `KINESIS_TOKEN_TTL_MINUTES`: how long a login token is valid
//!   (default 1440, one day).

use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;

use super::env::EnvError;
use super::env_file::EnvFile;
use super::layout::TenantDirs;

/// The `.env` key of the token secret.
pub const TOKEN_SECRET_KEY: &str = "KINESIS_TOKEN_SECRET";
/// The `.env` key of the token lifetime in minutes.
pub const TOKEN_TTL_KEY: &str = "KINESIS_TOKEN_TTL_MINUTES";
/// Token lifetime when `.env` does not set one.
pub const DEFAULT_TOKEN_TTL_MINUTES: i64 = 24 * 60;
/// Longest token lifetime accepted: one year.
const MAX_TOKEN_TTL_MINUTES: i64 = 365 * 24 * 60;
/// Fewest secret bytes accepted.
const MIN_SECRET_BYTES: usize = 32;

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file could not be read or written.
    #[error(transparent)]
    File(#[from] EnvError),
    /// The file is not UTF-8 text.
    #[error("{0} is not UTF-8 text; fix or remove the file")]
    NotText(String),
    /// A setting has a value the server cannot use.
    #[error("{key} in {file}: {problem}")]
    BadValue {
        /// The setting.
        key: &'static str,
        /// The `.env` file.
        file: String,
        /// What is wrong and what is expected.
        problem: String,
    },
}

/// The settings of one tenant.
#[derive(Clone)]
pub struct Settings {
    /// The key that signs login tokens.
    pub token_secret: Arc<[u8]>,
    /// How long a login token is valid.
    pub token_ttl: chrono::Duration,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings").field("token_secret", &"<hidden>").field("token_ttl", &self.token_ttl).finish()
    }
}

impl Settings {
    /// Reads the settings from the tenant's `.env`, first adding a fresh
    /// token secret to the file when it has none (or does not exist).
    pub fn load_or_init(dirs: &TenantDirs) -> Result<Settings, SettingsError> {
        let path = &dirs.env_file;
        let bytes = dirs.read_env()?;
        let text = String::from_utf8(bytes).map_err(|_| SettingsError::NotText(path.display().to_string()))?;
        let mut env = EnvFile::parse(&text);
        if env.get(TOKEN_SECRET_KEY).is_none_or(str::is_empty) {
            env.set(TOKEN_SECRET_KEY, &new_secret());
            if env.get(TOKEN_TTL_KEY).is_none() {
                env.set(TOKEN_TTL_KEY, &DEFAULT_TOKEN_TTL_MINUTES.to_string());
            }
            dirs.write_env(env.render().as_bytes())?;
        }
        Settings::from_env(&env, path)
    }

    /// Reads the settings out of parsed `.env` contents.
    pub fn from_env(env: &EnvFile, path: &Path) -> Result<Settings, SettingsError> {
        let bad = |key, problem: String| SettingsError::BadValue { key, file: path.display().to_string(), problem };
        let secret = env.get(TOKEN_SECRET_KEY).unwrap_or_default();
        let secret = STANDARD
            .decode(secret)
            .map_err(|_| bad(TOKEN_SECRET_KEY, "is not base64; delete the line to have a new secret made".into()))?;
        if secret.len() < MIN_SECRET_BYTES {
            return Err(bad(
                TOKEN_SECRET_KEY,
                format!(
                    "has {} bytes, at least {MIN_SECRET_BYTES} are needed; delete the line to have a new secret made",
                    secret.len()
                ),
            ));
        }
        let ttl_minutes = match env.get(TOKEN_TTL_KEY) {
            None | Some("") => DEFAULT_TOKEN_TTL_MINUTES,
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|minutes| (1..=MAX_TOKEN_TTL_MINUTES).contains(minutes))
                .ok_or_else(|| {
                    bad(TOKEN_TTL_KEY, format!("{text:?} is not a number of minutes from 1 to {MAX_TOKEN_TTL_MINUTES}"))
                })?,
        };
        Ok(Settings { token_secret: secret.into(), token_ttl: chrono::Duration::minutes(ttl_minutes) })
    }
}

/// 32 random bytes, base64.
fn new_secret() -> String {
    let mut bytes = [0u8; MIN_SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_load_creates_a_secret_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let dirs = TenantDirs::for_root(dir.path());
        std::fs::write(&dirs.env_file, "# mine\nOTHER=kept\n").unwrap();
        let first = Settings::load_or_init(&dirs).unwrap();
        assert_eq!(first.token_secret.len(), 32);
        assert_eq!(first.token_ttl, chrono::Duration::minutes(DEFAULT_TOKEN_TTL_MINUTES));
        let second = Settings::load_or_init(&dirs).unwrap();
        assert_eq!(first.token_secret, second.token_secret);
        let text = std::fs::read_to_string(&dirs.env_file).unwrap();
        assert!(text.starts_with("# mine\nOTHER=kept\n"), "{text}");
    }

    #[test]
    fn bad_values_are_refused_with_the_key_named() {
        let path = Path::new(".env");
        let short = EnvFile::parse(&format!("{TOKEN_SECRET_KEY}={}", STANDARD.encode([1u8; 8])));
        let err = Settings::from_env(&short, path).unwrap_err().to_string();
        assert!(err.contains(TOKEN_SECRET_KEY) && err.contains("8 bytes"), "{err}");
        let ttl = EnvFile::parse(&format!("{TOKEN_SECRET_KEY}={}\n{TOKEN_TTL_KEY}=0", new_secret()));
        let err = Settings::from_env(&ttl, path).unwrap_err().to_string();
        assert!(err.contains(TOKEN_TTL_KEY), "{err}");
    }
}
