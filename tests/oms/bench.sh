#!/usr/bin/env bash
# The BENCHMARKS.md row "verify a signature of a 1 GiB model": catalog
# verify --signature with fresh digests (nothing re-hashed), the same after
# the files' fingerprints went stale (every byte re-hashed once), and
# `model_signing verify key` of the same directory. Run by hand:
#
#   cargo build --release --bin catalog
#   PATH=/tmp/oms-venv/bin:$PATH bash tests/oms/bench.sh [/tmp/omsbench]
#
# Needs ~3 GiB free under the work directory (the model, its copy in the
# store). Prints wall and CPU milliseconds (CPU in 10 ms ticks) for each,
# median of 5 runs, and the load average around them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
catalog="$here/../../target/release/catalog"
work="${1:-/tmp/omsbench}"
runs=5
rm -rf "$work" && mkdir -p "$work/model"
head -c $((1 << 30)) /dev/urandom > "$work/model/model.safetensors"
echo '{"architectures": ["Bench"]}' > "$work/model/config.json"
openssl ecparam -name prime256v1 -genkey -noout -out "$work/key.pem" 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$work/key.pem" -out "$work/key8.pem"
openssl ec -in "$work/key.pem" -pubout -out "$work/pub.pem" 2>/dev/null
model_signing sign key --private_key "$work/key8.pem" --signature "$work/model.sig" "$work/model" >/dev/null
"$catalog" --root "$work/cat" add --id m "$work/model" >/dev/null
verify() { "$catalog" --root "$work/cat" verify m --signature "$work/model.sig" --key "$work/pub.pem" >/dev/null; }
verify # the first signature verification records fresh fingerprints
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # label, command...
  local label="$1"; shift
  local walls=() cpus=()
  for _ in $(seq $runs); do
    "${PRE:-true}"
    local t0 t1; t0=$(date +%s%N)
    /usr/bin/time -o "$work/time" -f "%U %S" "$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    walls+=("$(( (t1 - t0) / 1000000 ))")
    cpus+=("$(tail -1 "$work/time" | awk '{print ($1 + $2) * 1000}')")
  done
  printf '%-44s wall %6s ms  cpu %6s ms\n' "$label" \
    "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)"
}
stale() { # a chmod to the same mode moves every blob's ctime: fingerprints go stale
  find "$work/cat/blobs/sha256" -type f -exec chmod a-w {} +
}
uptime
measure "catalog verify --signature (fresh digests)" "$catalog" --root "$work/cat" verify m --signature "$work/model.sig" --key "$work/pub.pem"
PRE=stale measure "catalog verify --signature (re-hash)" "$catalog" --root "$work/cat" verify m --signature "$work/model.sig" --key "$work/pub.pem"
measure "model_signing verify key" model_signing verify key --signature "$work/model.sig" --public_key "$work/pub.pem" "$work/model"
uptime
