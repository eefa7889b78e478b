//! Where offsite copies go: `s3://BUCKET/PREFIX`, and the names of a
//! tenant's objects under it. Each tenant has its own folder
//! `PREFIX/TENANT/`, holding per backup the archive (`NAME`, or `NAME.age`
//! when encrypted) and its record (`NAME.json`).

use object_store::path::Path as ObjectPath;

use super::OffsiteError;

/// A bucket and a prefix in S3-compatible storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsiteTarget {
    /// The bucket.
    pub bucket: String,
    /// The key prefix, without leading or trailing slashes; may be empty.
    pub prefix: String,
}

/// Suffix of a backup's record beside its archive.
const RECORD_SUFFIX: &str = ".json";
/// Suffix of an archive encrypted with age.
const ENCRYPTED_SUFFIX: &str = ".age";

impl OffsiteTarget {
    /// Parses `s3://BUCKET` or `s3://BUCKET/PREFIX`.
    pub fn parse(url: &str) -> Result<OffsiteTarget, OffsiteError> {
        let bad = |why: &str| OffsiteError::Config(format!("offsite target {url:?}: {why}; use s3://BUCKET/PREFIX"));
        let rest = url.strip_prefix("s3://").ok_or_else(|| bad("it does not start with s3://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !bucket_ok {
            return Err(bad("the bucket name is not valid (3 to 63 lowercase letters, digits, '-' or '.')"));
        }
        let prefix = prefix.trim_matches('/');
        let segments_ok = prefix.is_empty()
            || prefix.split('/').all(|s| !s.is_empty() && s != "." && s != ".." && !s.contains(['\\', '\0']));
        if !segments_ok {
            return Err(bad("the prefix has an empty, `.` or `..` segment"));
        }
        Ok(OffsiteTarget { bucket: bucket.to_owned(), prefix: prefix.to_owned() })
    }

    /// The folder of tenant `tenant`: `PREFIX/TENANT`.
    pub fn tenant_folder(&self, tenant: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(tenant)
        } else {
            ObjectPath::from(format!("{}/{tenant}", self.prefix))
        }
    }

    /// `s3://BUCKET/PREFIX/TENANT`, for messages and the state file.
    pub fn describe(&self, tenant: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.tenant_folder(tenant))
    }
}

/// The file name of archive `name`'s copy, encrypted or not.
pub fn archive_file(name: &str, encrypted: bool) -> String {
    if encrypted { format!("{name}{ENCRYPTED_SUFFIX}") } else { name.to_owned() }
}

/// The file name of archive `name`'s record.
pub fn record_file(name: &str) -> String {
    format!("{name}{RECORD_SUFFIX}")
}

/// The archive name a record object's file name stands for.
pub fn name_of_record(file_name: &str) -> Option<&str> {
    file_name.strip_suffix(RECORD_SUFFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_name_their_objects() {
        let target = OffsiteTarget::parse("s3://backups/kinesis/prod/").unwrap();
        assert_eq!(target, OffsiteTarget { bucket: "backups".into(), prefix: "kinesis/prod".into() });
        let folder = target.tenant_folder("acme");
        assert_eq!(folder.as_ref(), "kinesis/prod/acme");
        let name = "backup-20300131_1200_7.tar.gz";
        assert_eq!(
            folder.clone().join(archive_file(name, true).as_str()).as_ref(),
            "kinesis/prod/acme/backup-20300131_1200_7.tar.gz.age"
        );
        assert_eq!(archive_file(name, false), name);
        assert_eq!(record_file(name), "backup-20300131_1200_7.tar.gz.json");
        assert_eq!(name_of_record("backup-20300131_1200_7.tar.gz.json"), Some(name));
        assert_eq!(OffsiteTarget::parse("s3://bucket").unwrap().tenant_folder("t").as_ref(), "t");
        assert_eq!(target.describe("acme"), "s3://backups/kinesis/prod/acme");
    }

    #[test]
    fn bad_targets_are_refused() {
        for bad in ["http://b/p", "s3://", "s3://UPPER/p", "s3://b/p", "s3://bucket/a//b", "s3://bucket/../x"] {
            assert!(OffsiteTarget::parse(bad).is_err(), "{bad}");
        }
    }
}
