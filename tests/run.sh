#!/usr/bin/env bash
# Runs every test of Kinesis Backup, from nothing on a fresh machine:
#   1. installs what the browser tests need when it is missing (Debian's
#      chromium, the npm packages in tests/browser), and s3s-fs (the
#      S3-compatible server the offsite tests run on loopback),
#   2. checks the habits: `cargo fmt --check`, and `cargo clippy` with
#      warnings as errors over every target (the benchmark and the example
#      included, so they cannot rot unnoticed),
#   3. runs the Rust tests of the whole workspace: unit tests of the core,
#      the faces and the plugin, the conformance suite against the real
#      component in wasmtime, hostile archives, runtime limits, the CLI, the
#      HTTP API (each on loopback) and the embedding example,
#   4. runs the conformance suite again, against the default plugin built
#      for contract 1.0.0 and with every create, restore and verify in one
#      instance; builds the Python plugin (plugins/python-plain) and runs
#      `plugin check` on it; and builds the benchmarks,
#   5. fuzzes the plugin's archive reader (what restore and verify parse)
#      for a bounded time from its checked-in corpus (tests/fuzz.sh installs
#      cargo-fuzz when missing and uses the nightly toolchain for it only),
#   6. runs the browser tests (Playwright driving headless chromium) against
#      the built server.
# Set KINESIS_PLUGIN_WASM=/path/to/plugin.wasm to run the conformance suite
# against a replacement plugin instead of the default one.
set -euo pipefail
cd "$(dirname "$0")/.."
# A test run builds once: incremental caches would only take disk.
export CARGO_INCREMENTAL=0

echo "==> installing the S3-compatible server of the offsite tests when missing (in the background)"
mkdir -p target
bash tests/install_s3s.sh >target/install-s3s.log 2>&1 &
s3s_install=$!

echo "==> installing browser-test dependencies when missing"
bash tests/browser/install.sh

echo "==> formatting and lints"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

if ! wait "$s3s_install"; then
  cat target/install-s3s.log
  echo "s3s-fs could not be installed" >&2
  exit 1
fi
echo "==> Rust tests (unit, conformance, hostile archives, limits, CLI, HTTP, embedding)"
cargo test --workspace --no-fail-fast

echo "==> conformance for contract 1.0.0, and in one instance"
v1_0_0="$PWD/target/wasm-contract-1.0.0/wasm32-wasip2/release/kinesis_backup_plugin.wasm"
KINESIS_PLUGIN_WASM="$v1_0_0" cargo test -p kinesis-backup --test conformance --quiet
KINESIS_TEST_JOBS=1 cargo test -p kinesis-backup --test conformance --quiet

echo "==> the Python plugin: build it (componentize-py in target/py-plugin-venv) and plugin check it"
bash plugins/python-plain/build.sh "$PWD/target/python-plain.wasm"
cargo run --quiet -- plugin check "$PWD/target/python-plain.wasm"

echo "==> benchmarks build"
cargo build --workspace --benches --profile dev --quiet

echo "==> fuzzing the archive reader for a bounded time (KINESIS_FUZZ_SECONDS, default 60)"
bash tests/fuzz.sh

echo "==> browser tests (headless chromium)"
bash tests/browser/run.sh
