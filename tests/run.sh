#!/usr/bin/env bash
# Runs every test of Kinesis Backup, from nothing on a fresh machine:
#   1. installs what the browser tests need when it is missing (Debian's
#      chromium, the npm packages in tests/browser),
#   2. runs the Rust tests of the whole workspace: the plugin's unit tests,
#      the conformance suite against the real component in wasmtime, hostile
#      archives, runtime limits, the CLI and the HTTP API (each on loopback),
#   3. runs the browser tests (Playwright driving headless chromium) against
#      the built server.
# Set KINESIS_PLUGIN_WASM=/path/to/plugin.wasm to run the conformance suite
# against a replacement plugin instead of the default one.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> installing browser-test dependencies when missing"
bash tests/browser/install.sh

echo "==> Rust tests (unit, conformance, hostile archives, limits, CLI, HTTP)"
cargo test --workspace --no-fail-fast

echo "==> browser tests (headless chromium)"
bash tests/browser/run.sh
