//! The records of the small data API: JSON values stored under a
//! collection and a key, so that a person can see a restore bring data back.

use redb::{ReadableDatabase, TableDefinition};
use serde::Serialize;

use super::{Db, DbError};

/// (collection, key) -> JSON text.
pub(super) const RECORDS: TableDefinition<(&str, &str), &str> = TableDefinition::new("records");

/// Longest collection name or key accepted, in characters.
const MAX_NAME_CHARS: usize = 256;

/// One record of a collection.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Record {
    /// The record's key, unique within its collection.
    pub key: String,
    /// Any JSON value.
    pub value: serde_json::Value,
}

impl Db {
    /// Stores `value` under `collection` and `key`, replacing what was there.
    pub fn put_record(&self, collection: &str, key: &str, value: &serde_json::Value) -> Result<Record, DbError> {
        validate_name("collection", collection)?;
        validate_name("key", key)?;
        let json = value.to_string();
        let txn = self.engine.begin_write()?;
        txn.open_table(RECORDS)?.insert((collection, key), json.as_str())?;
        txn.commit()?;
        Ok(Record { key: key.to_owned(), value: value.clone() })
    }

    /// Every record of `collection`, in key order.
    pub fn records(&self, collection: &str) -> Result<Vec<Record>, DbError> {
        validate_name("collection", collection)?;
        let txn = self.engine.begin_read()?;
        let table = txn.open_table(RECORDS)?;
        let mut found = Vec::new();
        for entry in table.range((collection, "")..)? {
            let (key, json) = entry?;
            let (entry_collection, key) = key.value();
            if entry_collection != collection {
                break;
            }
            let value = serde_json::from_str(json.value())
                .map_err(|err| DbError::Damaged(format!("record {collection}/{key} cannot be read: {err}")))?;
            found.push(Record { key: key.to_owned(), value });
        }
        Ok(found)
    }

    /// Removes a record; whether it existed.
    pub fn delete_record(&self, collection: &str, key: &str) -> Result<bool, DbError> {
        validate_name("collection", collection)?;
        validate_name("key", key)?;
        let txn = self.engine.begin_write()?;
        let existed = txn.open_table(RECORDS)?.remove((collection, key))?.is_some();
        txn.commit()?;
        Ok(existed)
    }
}

/// Collection names and keys are 1 to 256 characters.
fn validate_name(what: &str, name: &str) -> Result<(), DbError> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(DbError::Invalid(format!("the {what} must be 1 to {MAX_NAME_CHARS} characters long")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_are_kept_per_collection() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::create(dir.path()).unwrap();
        db.put_record("a", "2", &json!({"x": 2})).unwrap();
        db.put_record("a", "1", &json!("one")).unwrap();
        db.put_record("ab", "1", &json!(null)).unwrap();
        db.put_record("b", "1", &json!([1])).unwrap();
        let keys: Vec<_> = db.records("a").unwrap().into_iter().map(|r| (r.key, r.value)).collect();
        assert_eq!(keys, [("1".to_owned(), json!("one")), ("2".to_owned(), json!({"x": 2}))]);
        assert!(db.delete_record("a", "1").unwrap());
        assert!(!db.delete_record("a", "1").unwrap());
        assert_eq!(db.records("a").unwrap().len(), 1);
        assert!(db.records("none").unwrap().is_empty());
        assert!(matches!(db.put_record("", "k", &json!(1)), Err(DbError::Invalid(_))));
    }
}
