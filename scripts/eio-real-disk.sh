#!/usr/bin/env bash
# RELIABILITY.md row 16 on a real kernel: a journal write that fails with EIO
# at the block layer (shared/tools/eio-disk.sh), with Linux's page cache
# keeping the failed pages readable and clean. Needs root, loop devices and
# strace. Not part of CI (root, a loop device); run by hand:
#   cargo build --release && sudo scripts/eio-real-disk.sh
#
# Scenario A: the failing `add` cuts its failed bytes off at once.
# Scenario B: removing the failed bytes fails too (fadvise and ftruncate fail,
#   injected with strace), so the failed pages stay in the cache: every open must read
#   the tail back from the disk instead of building on it.
# Each: fail the newest segment's unwritten blocks, `add` (must exit 1),
# heal, `list` (the failed model must not appear), `add` another (ok), drop
# the page cache, `list` + `check` (every acknowledged model, nothing else).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CATALOG_BIN:-$PWD/target/release/catalog}
eio=${EIO_DISK:-$PWD/../shared/tools/eio-disk.sh}
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
src=$(mktemp -d)
for m in a b d; do head -c 100000 /dev/urandom > "$src/$m.bin"; done
# c is a directory model of 80 files: its records (about 8 KiB) reach past
# the block the segment's last record ends in, into the preallocated zero
# blocks that fail.
mkdir "$src/c"
for i in $(seq 1 80); do echo "$i" > "$src/c/shard-$(printf %04d "$i")-of-0080.safetensors"; done

ids() { "$bin" --root "$1" --json list | python3 -c 'import json,sys; print(" ".join(sorted(e["id"] for e in json.load(sys.stdin))))'; }
newest_segment() { ls "$1"/catalog/journal/*.seg | sort | tail -n 1; }
expect() { if [ "$2" != "$3" ]; then echo "FAIL: $1: got [$2], expected [$3]" >&2; exit 1; fi; echo "ok: $1: [$2]"; }

run() {
  local name=$1 wrap=$2
  local dir; dir=$(mktemp -d)
  local mnt; mnt=$("$eio" up "$dir")
  trap '"$eio" down "$dir" >/dev/null 2>&1 || true' RETURN
  # mkfs.ext4 leaves the zeroed journal area as holes in the image here, and
  # once `fail` fills the backing tmpfs, ext4's own journal writes would fail
  # and remount the file system read-only. Allocate every block first, so
  # that only the holes `fail` digs (the chosen file's) fail.
  fallocate -l "$(stat -c %s "$dir/backing/disk.img")" "$dir/backing/disk.img"
  local root=$mnt/root
  "$bin" --root "$root" add "$src/a.bin" --id a >/dev/null
  "$bin" --root "$root" add "$src/b.bin" --id b >/dev/null
  "$eio" fail "$dir" "$(newest_segment "$root")"
  set +e
  $wrap "$bin" --root "$root" add "$src/c" --id c >/dev/null 2>"$dir/add-c.err"
  local code=$?
  set -e
  expect "$name: add during the failure exits" "$code" 1
  "$eio" heal "$dir"
  expect "$name: a reader after the failure" "$(ids "$root")" "a b"
  "$bin" --root "$root" add "$src/d.bin" --id d >/dev/null
  expect "$name: a writer after the failure" "$(ids "$root")" "a b d"
  "$eio" dropcache
  expect "$name: after the page cache is dropped" "$(ids "$root")" "a b d"
  "$bin" --root "$root" check >/dev/null && code=0 || code=$?
  expect "$name: check after the cache drop exits" "$code" 0
}

run "A (cut at once)" ""
run "B (dropping and cutting fail: read back at the next open)" "strace -f -qq -o /dev/null -e inject=ftruncate,fadvise64:error=EIO"
rm -rf "$src"
echo "all scenarios passed"
