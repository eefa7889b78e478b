//! Users and their roles: the `users` table (id -> user as JSON, with the
//! password hash) and the `usernames` index (username -> id).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{Db, DbError};

/// id -> [`StoredUser`] as JSON.
pub(super) const USERS: TableDefinition<u64, &str> = TableDefinition::new("users");
/// username -> id.
pub(super) const USERNAMES: TableDefinition<&str, u64> = TableDefinition::new("usernames");

/// Longest username accepted, in characters.
const MAX_USERNAME_CHARS: usize = 64;

/// What a user may do. Only ROOT manages backups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Role {
    /// Everything, backups included.
    Root,
    /// Administration, but not backups.
    Admin,
    /// Writes content.
    Author,
    /// Reads content.
    Viewer,
}

impl Role {
    /// The role's name as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Root => "ROOT",
            Role::Admin => "ADMIN",
            Role::Author => "AUTHOR",
            Role::Viewer => "VIEWER",
        }
    }
}

impl FromStr for Role {
    type Err = DbError;

    /// Parses a role name, in any letter case.
    fn from_str(text: &str) -> Result<Role, DbError> {
        [Role::Root, Role::Admin, Role::Author, Role::Viewer]
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| DbError::Invalid(format!("unknown role {text:?}; use ROOT, ADMIN, AUTHOR or VIEWER")))
    }
}

/// A user as the API shows it (never with the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    /// Unique id; the first user, `root`, is 1.
    pub id: u64,
    /// The sign-in name.
    pub username: String,
    /// What the user may do.
    pub role: Role,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
}

/// A user as stored: with the argon2 password hash.
#[derive(Serialize, Deserialize)]
struct StoredUser {
    #[serde(flatten)]
    user: User,
    password_hash: String,
}

impl Db {
    /// How many users exist.
    pub fn user_count(&self) -> Result<u64, DbError> {
        use redb::ReadableTableMetadata;
        let txn = self.engine.begin_read()?;
        Ok(txn.open_table(USERS)?.len()?)
    }

    /// Adds a user with the next free id. Fails when the username is empty,
    /// too long, or taken.
    pub fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<User, DbError> {
        validate_username(username)?;
        let txn = self.engine.begin_write()?;
        let user = {
            let mut names = txn.open_table(USERNAMES)?;
            if names.get(username)?.is_some() {
                return Err(DbError::UsernameTaken(username.to_owned()));
            }
            let mut users = txn.open_table(USERS)?;
            let id = users.last()?.map_or(1, |(id, _)| id.value() + 1);
            let user = User { id, username: username.to_owned(), role, created_at: now };
            let stored = StoredUser { user: user.clone(), password_hash: password_hash.to_owned() };
            let json = serde_json::to_string(&stored).map_err(|err| DbError::Damaged(err.to_string()))?;
            users.insert(id, json.as_str())?;
            names.insert(username, id)?;
            user
        };
        txn.commit()?;
        Ok(user)
    }

    /// The user with `id`.
    pub fn user(&self, id: u64) -> Result<Option<User>, DbError> {
        let txn = self.engine.begin_read()?;
        let users = txn.open_table(USERS)?;
        let stored = users.get(id)?.map(|json| decode(id, json.value())).transpose()?;
        Ok(stored.map(|stored| stored.user))
    }

    /// The user named `username` and their password hash.
    pub fn credentials(&self, username: &str) -> Result<Option<(User, String)>, DbError> {
        let txn = self.engine.begin_read()?;
        let Some(id) = txn.open_table(USERNAMES)?.get(username)?.map(|id| id.value()) else {
            return Ok(None);
        };
        let users = txn.open_table(USERS)?;
        let stored = users.get(id)?.map(|json| decode(id, json.value())).transpose()?;
        Ok(stored.map(|stored| (stored.user, stored.password_hash)))
    }

    /// Every user, in id order.
    pub fn all_users(&self) -> Result<Vec<User>, DbError> {
        let txn = self.engine.begin_read()?;
        let users = txn.open_table(USERS)?;
        let mut all = Vec::new();
        for entry in users.iter()? {
            let (id, json) = entry?;
            all.push(decode(id.value(), json.value())?.user);
        }
        Ok(all)
    }
}

/// Parses a stored user.
fn decode(id: u64, json: &str) -> Result<StoredUser, DbError> {
    serde_json::from_str(json).map_err(|err| DbError::Damaged(format!("user {id} cannot be read: {err}")))
}

/// A username must be 1 to 64 characters without spaces or control characters.
fn validate_username(username: &str) -> Result<(), DbError> {
    let chars = username.chars().count();
    if chars == 0 || chars > MAX_USERNAME_CHARS {
        return Err(DbError::Invalid(format!("the username must be 1 to {MAX_USERNAME_CHARS} characters long")));
    }
    if username.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DbError::Invalid("the username must not contain spaces or control characters".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_get_increasing_ids_and_unique_names() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::create(dir.path()).unwrap();
        let now = Utc::now();
        let root = db.create_user("root", "h1", Role::Root, now).unwrap();
        let ann = db.create_user("ann", "h2", Role::Viewer, now).unwrap();
        assert_eq!((root.id, ann.id), (1, 2));
        assert!(matches!(db.create_user("ann", "h3", Role::Admin, now), Err(DbError::UsernameTaken(_))));
        assert!(matches!(db.create_user("a b", "h3", Role::Admin, now), Err(DbError::Invalid(_))));
        assert!(matches!(db.create_user("", "h3", Role::Admin, now), Err(DbError::Invalid(_))));
        assert_eq!(db.user(2).unwrap(), Some(ann.clone()));
        assert_eq!(db.credentials("ann").unwrap(), Some((ann, "h2".to_owned())));
        assert_eq!(db.credentials("bob").unwrap(), None);
        assert_eq!(db.user_count().unwrap(), 2);
    }

    #[test]
    fn roles_parse_in_any_case_and_refuse_unknown_names() {
        assert_eq!("viewer".parse::<Role>().unwrap(), Role::Viewer);
        assert_eq!("ROOT".parse::<Role>().unwrap(), Role::Root);
        assert!("GOD".parse::<Role>().unwrap_err().to_string().contains("unknown role"));
    }
}
