//! The first start of a root: the ROOT user `root` (id 1) is created with
//! the password from `KINESIS_ROOT_PASSWORD`, or a generated one that is
//! printed once. Also what the server prints when it is ready.

use std::net::SocketAddr;
use std::path::Path;

use chrono::Utc;
use rand::distr::{Alphanumeric, SampleString};

use super::password::{self, PasswordError};
use crate::db::{Db, DbError, Role};

/// The environment variable that sets the first ROOT user's password.
pub const ROOT_PASSWORD_VAR: &str = "KINESIS_ROOT_PASSWORD";
/// The first user's name.
pub const ROOT_USERNAME: &str = "root";
/// Length of a generated password.
const GENERATED_PASSWORD_CHARS: usize = 20;

/// Why the first user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum FirstStartError {
    /// The password in the environment is refused.
    #[error("{ROOT_PASSWORD_VAR}: {0}")]
    Password(PasswordError),
    /// The database refused the user.
    #[error("cannot create the ROOT user: {0}")]
    Database(#[from] DbError),
}

/// The ROOT user made on the first start.
#[derive(Debug)]
pub struct SeededRoot {
    /// The generated password, or `None` when it came from the environment.
    pub generated_password: Option<String>,
}

/// The first ROOT user's password from the environment, if set.
fn password_from_env() -> Option<String> {
    std::env::var(ROOT_PASSWORD_VAR).ok().filter(|p| !p.is_empty())
}

/// Refuses a password in `KINESIS_ROOT_PASSWORD` that breaks the password
/// rules, before anything is written.
pub fn check_password_from_env() -> Result<(), FirstStartError> {
    match password_from_env() {
        Some(chosen) => password::check_rules(&chosen).map_err(FirstStartError::Password),
        None => Ok(()),
    }
}

/// Creates the ROOT user when the database has no users; `None` otherwise.
/// Runs on the calling thread (password hashing takes a moment).
pub fn seed_root_user_now(db: &Db) -> Result<Option<SeededRoot>, FirstStartError> {
    if db.user_count()? > 0 {
        return Ok(None);
    }
    let from_env = password_from_env();
    let generated = from_env.is_none().then(|| Alphanumeric.sample_string(&mut rand::rng(), GENERATED_PASSWORD_CHARS));
    let chosen = from_env.or_else(|| generated.clone()).unwrap_or_default();
    let hash = password::hash(&chosen).map_err(FirstStartError::Password)?;
    db.create_user(ROOT_USERNAME, &hash, Role::Root, Utc::now())?;
    Ok(Some(SeededRoot { generated_password: generated }))
}

/// What the operator reads on stdout when the server is ready.
pub fn welcome(root: &Path, addr: SocketAddr, seeded: Option<&SeededRoot>) -> String {
    let mut text = String::new();
    if let Some(seeded) = seeded {
        let password = seeded.generated_password.as_deref();
        let shown = password.unwrap_or("(the value of KINESIS_ROOT_PASSWORD)");
        let mut lines = vec![
            format!("First start of {}: a ROOT user was created.", root.display()),
            String::new(),
            format!("  username: {ROOT_USERNAME}"),
            format!("  password: {shown}"),
        ];
        if password.is_some() {
            lines.push(String::new());
            lines.push("This password is shown once: store it now.".to_owned());
        }
        text.push_str(&boxed(&lines));
        // Step out of the single quotes around the variable so the shell expands it.
        let login_password = password.unwrap_or("'\"$KINESIS_ROOT_PASSWORD\"'");
        text.push_str(&format!(
            "\nSign in:\n  curl -s -X POST http://{addr}/user/login -H 'Content-Type: application/json' \\\n    \
             -d '{{\"auth_data\": \"{ROOT_USERNAME}\", \"password\": \"{login_password}\"}}'\n\
             Web pages: http://{addr}/web/login\n\n"
        ));
    }
    text.push_str(&format!("Kinesis Backup is listening on http://{addr} (root: {})\n", root.display()));
    text
}

/// `lines` in a box drawn with box characters.
fn boxed(lines: &[String]) -> String {
    let width = lines.iter().map(|line| line.chars().count()).max().unwrap_or(0);
    let rule = "─".repeat(width + 2);
    let mut text = format!("┌{rule}┐\n");
    for line in lines {
        let pad = width - line.chars().count();
        text.push_str(&format!("│ {line}{} │\n", " ".repeat(pad)));
    }
    text.push_str(&format!("└{rule}┘\n"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_start_shows_the_generated_password_once_and_how_to_sign_in() {
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let seeded = SeededRoot { generated_password: Some("Secret123Secret123ab".into()) };
        let text = welcome(Path::new("/srv/t"), addr, Some(&seeded));
        assert!(text.contains("password: Secret123Secret123ab"));
        assert!(text.contains("shown once"));
        assert!(text.contains("http://127.0.0.1:8080/user/login"));
        assert!(text.contains("http://127.0.0.1:8080/web/login"));
        let later = welcome(Path::new("/srv/t"), addr, None);
        assert_eq!(later, "Kinesis Backup is listening on http://127.0.0.1:8080 (root: /srv/t)\n");
    }
}
