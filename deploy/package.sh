#!/usr/bin/env bash
# Packs a static Lambda bootstrap (x86_64 or arm64) as a zip holding one file, `bootstrap`:
# dist/visitor-counter-lambda.zip and dist/visitor-counter-lambda-arm64.zip. Refuses a binary
# that has an ELF interpreter or needs shared libraries, since nothing on provided.al2023
# (older glibc) may be taken from the system.
#   deploy/package.sh BINARY ZIP
set -euo pipefail
binary=$1
zip_path=$2

if readelf -l "$binary" | grep -q 'Requesting program interpreter'; then
  echo "package: $binary has an ELF interpreter; build with the lambda preset" >&2
  exit 1
fi
if readelf -d "$binary" 2>/dev/null | grep -q '(NEEDED)'; then
  echo "package: $binary needs shared libraries:" >&2
  readelf -d "$binary" | grep '(NEEDED)' >&2
  exit 1
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$binary" "$stage/bootstrap"
"$(dirname "$0")/strip-binary" "$stage/bootstrap"
chmod 755 "$stage/bootstrap"
mkdir -p "$(dirname "$zip_path")"
rm -f "$zip_path"
(cd "$stage" && zip -q -X -9 bootstrap.zip bootstrap)
mv "$stage/bootstrap.zip" "$zip_path"

size=$(stat -c %s "$zip_path")
echo "package: $zip_path ($((size / 1024)) KiB zipped, $(($(stat -c %s "$stage/bootstrap") / 1024)) KiB unzipped)"
# The budget guards against pulling in something big by accident. On 2026-12-07 Debian 12
# built 3.6-3.9 MiB and Debian 13 4.7-4.9 MiB, OpenSSL 3.5's static libcrypto bringing its
# whole provider (post-quantum schemes, AVX-512 AES-GCM) along (docs/benchmarks.md).
if ((size > 5 * 1024 * 1024)); then
  echo "package: over the 5 MiB budget" >&2
  exit 1
fi
