//! The `kinesis-backup` command.

fn main() -> std::process::ExitCode {
    kinesis_backup::cli::main()
}
