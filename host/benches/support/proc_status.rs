//! Memory figures of a running process, from `/proc/PID/status`.

/// The field `key` (such as `VmRSS:` or `VmHWM:`) of process `pid`, in
/// MiB; 0 when it cannot be read.
pub fn status_mib(pid: u32, key: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|value| value.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}
