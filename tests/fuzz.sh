#!/usr/bin/env bash
# Fuzzes the plugin's archive reader (what restore and verify parse: gzip,
# tar headers, entry paths, the manifest) with cargo-fuzz and libFuzzer for a
# bounded time: KINESIS_FUZZ_SECONDS, 60 unless set.
#   - installs cargo-fuzz when it is missing,
#   - uses the nightly toolchain for this only (the rest of the project
#     builds with the pinned stable one),
#   - starts from the checked-in seeds in plugin/fuzz/corpus/archive_reader;
#     inputs found on the way go to plugin/fuzz/target/corpus/archive_reader
#     (ignored by git, kept between runs) so the seed folder stays as it is,
#   - exits non-zero when the run finds a crash (panic, overflow, out of
#     memory, timeout) and prints the input libFuzzer saved under
#     plugin/fuzz/artifacts/archive_reader/. Reproduce one with
#     `cd plugin && cargo +nightly fuzz run archive_reader <that file>`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

seconds="${KINESIS_FUZZ_SECONDS:-60}"
cd plugin
seeds=fuzz/corpus/archive_reader
found=fuzz/target/corpus/archive_reader
artifacts=fuzz/artifacts/archive_reader
mkdir -p "$found" "$artifacts"
# The target writes each input to a file under the temporary folder; this
# run's own one is removed at the end.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
touch "$scratch/started"

echo "==> fuzzing the archive reader for ${seconds}s"
status=0
# The first folder receives new inputs; the seeds are only read.
TMPDIR="$scratch" cargo +nightly fuzz run archive_reader "$found" "$seeds" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 || status=$?

crashes="$(find "$artifacts" -type f -newer "$scratch/started" | sort)"
if [ -n "$crashes" ]; then
    echo "==> the fuzzer found a crash; the input is in:" >&2
    for crash in $crashes; do
        echo "    $PWD/$crash" >&2
    done
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "==> cargo fuzz failed (exit status $status) without saving a crash" >&2
    exit "$status"
fi
echo "==> no crash in ${seconds}s"
