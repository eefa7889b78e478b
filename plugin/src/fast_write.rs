//! Creating and filling files with one host call per chunk.
//!
//! Inside the component, `std::fs::File::write` goes through wasi-libc and a
//! `wasi:io` output stream, which the host accepts at most 64 KiB at a time,
//! so a 1 MiB chunk costs 16 host calls. [`NewFile`] instead writes with
//! `wasi:filesystem` `descriptor.write(buffer, offset)`, which the host
//! passes to the operating system in a single positioned write. Natively
//! (unit tests) it is a plain [`std::fs::File`].

use std::io;
use std::path::Path;

/// A file created (or truncated) for writing from the start.
pub struct NewFile {
    inner: imp::Inner,
}

impl NewFile {
    /// Creates `path`, truncating it when it exists. A missing parent folder
    /// gives an error of kind [`io::ErrorKind::NotFound`].
    pub fn create(path: &Path) -> io::Result<Self> {
        Ok(NewFile { inner: imp::Inner::create(path)? })
    }

    /// Appends all of `buf` to the file.
    pub fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use std::fs::File;
    use std::io::{self, Write};
    use std::path::Path;

    pub struct Inner(File);

    impl Inner {
        pub fn create(path: &Path) -> io::Result<Self> {
            File::create(path).map(Inner)
        }

        pub fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
            self.0.write_all(buf)
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use std::io;
    use std::path::{Component, Path};

    use wasip2::filesystem::preopens::get_directories;
    use wasip2::filesystem::types::{Descriptor, DescriptorFlags, ErrorCode, OpenFlags, PathFlags};

    pub struct Inner {
        file: Descriptor,
        offset: u64,
    }

    impl Inner {
        /// `path` is relative and starts with the name of a preopen
        /// (`backups/...`), as every path the plugin uses does.
        pub fn create(path: &Path) -> io::Result<Self> {
            let mut components = path.components();
            let root = match components.next() {
                Some(Component::Normal(root)) => root.to_str(),
                _ => None,
            }
            .ok_or_else(|| unsupported(path))?;
            let rest =
                components.as_path().to_str().filter(|rest| !rest.is_empty()).ok_or_else(|| unsupported(path))?;
            let (dir, _) = get_directories()
                .into_iter()
                .find(|(_, name)| name == root)
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("the plugin has no {root:?} folder")))?;
            let file = dir
                .open_at(PathFlags::empty(), rest, OpenFlags::CREATE | OpenFlags::TRUNCATE, DescriptorFlags::WRITE)
                .map_err(to_io)?;
            Ok(Inner { file, offset: 0 })
        }

        pub fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
            while !buf.is_empty() {
                let written = self.file.write(buf, self.offset).map_err(to_io)?;
                if written == 0 {
                    return Err(io::Error::new(io::ErrorKind::WriteZero, "the file accepted no more bytes"));
                }
                let written_len = usize::try_from(written).unwrap_or(buf.len()).min(buf.len());
                buf = &buf[written_len..];
                self.offset += written_len as u64;
            }
            Ok(())
        }
    }

    fn unsupported(path: &Path) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a path inside one of the plugin's folders", path.display()),
        )
    }

    fn to_io(code: ErrorCode) -> io::Error {
        let kind = match code {
            ErrorCode::NoEntry => io::ErrorKind::NotFound,
            ErrorCode::Exist => io::ErrorKind::AlreadyExists,
            ErrorCode::Access | ErrorCode::NotPermitted | ErrorCode::ReadOnly => io::ErrorKind::PermissionDenied,
            ErrorCode::InsufficientSpace => io::ErrorKind::StorageFull,
            ErrorCode::IsDirectory => io::ErrorKind::IsADirectory,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, code.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_every_chunk_in_order_and_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file.bin");
        std::fs::write(&path, vec![9u8; 5000]).unwrap();
        let mut file = NewFile::create(&path).unwrap();
        file.write_all(b"first ").unwrap();
        file.write_all(&[]).unwrap();
        file.write_all(b"second").unwrap();
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap(), b"first second");
    }

    #[test]
    fn missing_parent_folder_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let err = NewFile::create(&dir.path().join("missing/file.bin")).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
