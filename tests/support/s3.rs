//! A real S3-compatible server for the offsite tests: `s3s-fs` (installed
//! by `tests/install_s3s.sh`, which `tests/run.sh` runs), started on a free
//! loopback port over a temporary folder, one bucket per server. The
//! `kinesis-backup` processes under test reach it through the standard
//! `AWS_*` variables.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The bucket every test server holds.
pub const BUCKET: &str = "kinesis-offsite";
const ACCESS_KEY: &str = "kinesis-test-key";
const SECRET_KEY: &str = "kinesis-test-secret";

/// The `s3s-fs` binary: on `PATH`, or where `cargo install` puts it.
pub fn s3s_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("s3s-fs"))
        .find(|candidate| candidate.is_file());
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    on_path
        .or_else(|| cargo_home.map(|home| home.join("bin/s3s-fs")).filter(|file| file.is_file()))
        .expect("s3s-fs is not installed: run `bash tests/install_s3s.sh`")
}

/// A running `s3s-fs`, killed when dropped.
pub struct S3Server {
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The folder it keeps the buckets in.
    pub dir: tempfile::TempDir,
    /// Where its output goes.
    pub log: PathBuf,
}

impl S3Server {
    /// Starts a server with an empty bucket [`BUCKET`] on a free port.
    pub fn start() -> S3Server {
        let dir = tempfile::tempdir().expect("a folder for s3s-fs");
        std::fs::create_dir_all(dir.path().join(BUCKET)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = dir.path().with_extension("s3s.log");
        let mut server = S3Server { child: None, port, dir, log };
        server.resume();
        server
    }

    /// Stops the server (its data stays), as a network outage would.
    pub fn pause(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and data.
    pub fn resume(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let child = Command::new(s3s_binary())
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start s3s-fs");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "s3s-fs did not start: {}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The process id, for measuring it.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The `AWS_*` variables that point a client at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{}", self.port)),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
        ]
    }

    /// Sets the `AWS_*` variables on `command`.
    pub fn apply(&self, command: &mut Command) {
        for (key, value) in self.env() {
            command.env(key, value);
        }
    }

    /// The files in `folder` of the bucket (such as `prefix/tenant`), sorted.
    pub fn files(&self, folder: &str) -> Vec<String> {
        let dir = self.dir.path().join(BUCKET).join(folder);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| e.path().is_file())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The path of `file` in `folder` of the bucket.
    pub fn path(&self, folder: &str, file: &str) -> PathBuf {
        self.dir.path().join(BUCKET).join(folder).join(file)
    }

    /// The folder of the bucket on disk.
    pub fn bucket_dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.pause();
    }
}
