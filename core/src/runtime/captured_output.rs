//! The plugin's stdout and stderr: kept in memory (up to a cap, the rest is
//! counted and dropped, never an error for the guest) and written to the
//! host's log when the call ends.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Most bytes kept per stream and call.
const KEPT_BYTES: usize = 64 * 1024;

#[derive(Debug, Default)]
struct Buffer {
    kept: Vec<u8>,
    dropped: u64,
}

impl Buffer {
    fn push(&mut self, bytes: &[u8]) {
        let room = KEPT_BYTES.saturating_sub(self.kept.len());
        let take = room.min(bytes.len());
        self.kept.extend_from_slice(&bytes[..take]);
        self.dropped += (bytes.len() - take) as u64;
    }
}

/// One captured output stream; clones share the same buffer.
#[derive(Debug, Clone, Default)]
pub(crate) struct CapturedOutput {
    buffer: Arc<Mutex<Buffer>>,
}

impl CapturedOutput {
    fn with_buffer<R>(&self, f: impl FnOnce(&mut Buffer) -> R) -> R {
        f(&mut self.buffer.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The captured text, lossily decoded, and how many bytes were dropped.
    pub(crate) fn text(&self) -> (String, u64) {
        self.with_buffer(|b| (String::from_utf8_lossy(&b.kept).into_owned(), b.dropped))
    }

    /// Writes every captured line to the log, as a warning when `warn`,
    /// naming the `stream` and the `operation`.
    pub(crate) fn log_lines(&self, stream: &str, operation: &str, warn: bool) {
        let (text, dropped) = self.text();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if warn {
                tracing::warn!(target: "kinesis_backup::plugin", operation, stream, "{line}");
            } else {
                tracing::info!(target: "kinesis_backup::plugin", operation, stream, "{line}");
            }
        }
        if dropped > 0 {
            tracing::warn!(target: "kinesis_backup::plugin", operation, stream, "{dropped} more bytes of output were dropped");
        }
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

#[wasmtime_wasi::async_trait]
impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.with_buffer(|b| b.push(&bytes));
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(KEPT_BYTES)
    }
}

impl tokio::io::AsyncWrite for CapturedOutput {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.with_buffer(|b| b.push(buf));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_past_the_cap_is_counted_not_kept() {
        let out = CapturedOutput::default();
        let mut stream = out.clone();
        OutputStream::write(&mut stream, Bytes::from(vec![b'a'; KEPT_BYTES - 2])).unwrap();
        OutputStream::write(&mut stream, Bytes::from_static(b"bcdef")).unwrap();
        let (text, dropped) = out.text();
        assert_eq!(text.len(), KEPT_BYTES);
        assert!(text.ends_with("abc"));
        assert_eq!(dropped, 3);
    }
}
