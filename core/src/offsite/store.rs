//! The remote side: one tenant's folder in an S3-compatible bucket, through
//! `object_store`. Endpoint, region and credentials come from the standard
//! `AWS_*` variables of the host process (`AWS_ENDPOINT_URL`,
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
//! `AWS_ALLOW_HTTP`), never from the tenant's `.env`.
//!
//! The operations are blocking: they run the async client on a small
//! runtime of their own, so the operations layer (synchronous, on the
//! blocking pool) and the copy worker (a plain thread) call them directly.
//! Archives stream in both directions: an upload is a multipart upload fed
//! chunk by chunk, a download is written to a file as it arrives, so memory
//! stays bounded whatever the archive's size.

use std::io::{Read, Write};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::buffered::BufWriter;
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use tokio::io::AsyncWriteExt;

use super::OffsiteError;
use super::target::OffsiteTarget;

/// Bytes buffered per part of a multipart upload (S3 needs at least 5 MiB).
const PART_BYTES: usize = 16 * 1024 * 1024;
/// Parts uploaded at once.
const PARTS_IN_FLIGHT: usize = 2;
/// Longest one request may take (an archive's download streams in one),
/// unless `AWS_TIMEOUT` says otherwise.
const ARCHIVE_TIMEOUT: &str = "6h";

/// The runtime every offsite request runs on: two threads for the whole
/// process, whatever the number of tenants.
static IO: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("offsite-io")
        .enable_all()
        .build()
        .expect("the offsite runtime starts")
});

/// Runs `future` to completion on the offsite runtime. Never called from
/// async code: callers are blocking threads.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    IO.block_on(future)
}

/// One tenant's folder in a bucket.
#[derive(Debug, Clone)]
pub struct RemoteStore {
    store: Arc<dyn ObjectStore>,
    folder: ObjectPath,
    described: String,
}

/// A remote object's name and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteObject {
    /// Its file name inside the tenant's folder.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
}

impl RemoteStore {
    /// The folder of `tenant` in `target`, with the client configured from
    /// the `AWS_*` variables. Requests are retried briefly by the client;
    /// the copy queue retries whole copies with its own backoff.
    pub fn connect(target: &OffsiteTarget, tenant: &str) -> Result<RemoteStore, OffsiteError> {
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(2),
                base: 2.0,
            },
            max_retries: 2,
            retry_timeout: Duration::from_secs(20),
        };
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&target.bucket).with_retry(retry);
        if std::env::var_os("AWS_TIMEOUT").is_none() {
            // An archive streams for as long as it takes; the client's
            // default of 30 s per request would cut a large one off.
            builder = builder.with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), ARCHIVE_TIMEOUT);
        }
        let store = builder
            .build()
            .map_err(|err| OffsiteError::Config(format!("cannot use {}: {err}", target.describe(tenant))))?;
        Ok(RemoteStore {
            store: Arc::new(store),
            folder: target.tenant_folder(tenant),
            described: target.describe(tenant),
        })
    }

    /// `s3://BUCKET/PREFIX/TENANT`.
    pub fn describe(&self) -> &str {
        &self.described
    }

    /// The key of `file` in the tenant's folder.
    fn key(&self, file: &str) -> ObjectPath {
        self.folder.clone().join(file)
    }

    /// The objects directly in the tenant's folder.
    pub fn list(&self) -> Result<Vec<RemoteObject>, OffsiteError> {
        block_on(async {
            let listed = self.store.list_with_delimiter(Some(&self.folder)).await.map_err(remote)?;
            Ok(listed
                .objects
                .into_iter()
                .filter_map(|meta| {
                    let name = meta.location.filename()?.to_owned();
                    Some(RemoteObject { name, size: meta.size })
                })
                .collect())
        })
    }

    /// Reads a small object whole.
    pub fn get_small(&self, file: &str) -> Result<Bytes, OffsiteError> {
        block_on(async { self.store.get(&self.key(file)).await.map_err(remote)?.bytes().await.map_err(remote) })
    }

    /// Writes a small object whole.
    pub fn put_small(&self, file: &str, bytes: Vec<u8>) -> Result<(), OffsiteError> {
        block_on(async { self.store.put(&self.key(file), PutPayload::from(bytes)).await.map(|_| ()).map_err(remote) })
    }

    /// Removes an object; one that is not there is no error.
    pub fn delete(&self, file: &str) -> Result<(), OffsiteError> {
        match block_on(self.store.delete(&self.key(file))) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(remote(err)),
        }
    }

    /// A writer that uploads what it is given to `file` (multipart once
    /// past one part); [`Upload::finish`] completes it, dropping it
    /// unfinished aborts it.
    pub fn upload(&self, file: &str) -> Upload {
        let writer = BufWriter::with_capacity(self.store.clone(), self.key(file), PART_BYTES)
            .with_max_concurrency(PARTS_IN_FLIGHT);
        Upload { writer: Some(writer) }
    }

    /// A blocking reader of object `file`.
    pub fn reader(&self, file: &str) -> Result<Download, OffsiteError> {
        let got = block_on(self.store.get(&self.key(file))).map_err(remote)?;
        Ok(Download { stream: got.into_stream(), chunk: Bytes::new() })
    }
}

/// An upload in progress (a blocking [`Write`]).
pub struct Upload {
    writer: Option<BufWriter>,
}

impl Upload {
    /// Completes the upload: the object appears whole, or not at all.
    pub fn finish(mut self) -> Result<(), OffsiteError> {
        let mut writer = self.writer.take().expect("an upload finishes once");
        block_on(writer.shutdown()).map_err(|err| OffsiteError::Remote(err.to_string()))
    }
}

impl Write for Upload {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let writer = self.writer.as_mut().ok_or_else(|| std::io::Error::other("the upload has finished"))?;
        block_on(writer.write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if let Some(mut writer) = self.writer.take() {
            // Parts already sent are removed from the bucket.
            let _ = block_on(writer.abort());
        }
    }
}

/// A download in progress (a blocking [`Read`]).
pub struct Download {
    stream: futures_util::stream::BoxStream<'static, object_store::Result<Bytes>>,
    chunk: Bytes,
}

impl Read for Download {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match block_on(self.stream.next()) {
                None => return Ok(0),
                Some(Ok(chunk)) => self.chunk = chunk,
                Some(Err(err)) => return Err(std::io::Error::other(remote(err))),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

/// A remote failure in words.
fn remote(err: object_store::Error) -> OffsiteError {
    match err {
        object_store::Error::NotFound { path, .. } => OffsiteError::Missing(path),
        other => OffsiteError::Remote(other.to_string()),
    }
}
