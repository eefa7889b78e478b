#!/usr/bin/env bash
# Installs s3s-fs, the S3-compatible server the offsite tests start on
# loopback, from crates.io when it is missing. 0.14.1 is the last version
# that builds with the project's Rust; later ones need a newer toolchain.
set -euo pipefail
want="0.14.1"
if command -v s3s-fs >/dev/null 2>&1 || [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/s3s-fs" ]; then
  exit 0
fi
echo "installing s3s-fs $want (for the offsite tests)"
cargo install s3s-fs --version "$want" --features binary --quiet
