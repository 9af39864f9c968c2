#!/usr/bin/env bash
# Matrix row 15: remove a durability step from publish_file and show that a
# test fails. Restores the file afterwards. Not part of CI (it is slow and
# expects failures); run by hand: scripts/mutation-check.sh
set -u
cd "$(dirname "$0")/.."
file=src/fs/atomic.rs
cp "$file" "$file.orig"
trap 'mv "$file.orig" "$file"' EXIT

run() {
  local name=$1
  if cargo test --no-default-features --test crash_at_every_step >/tmp/mutation-$name.log 2>&1; then
    echo "MUTATION SURVIVED: $name (no test failed) — the tests lack teeth"
    return 1
  fi
  echo "mutation caught: $name ($(grep -m1 -o 'panicked at [^:]*' /tmp/mutation-$name.log))"
}

status=0
# 1. no directory fsync after the rename
sed 's/^    fs.sync_dir(dir).map_err(|e| Error::io(dir, e))?;$//' "$file.orig" > "$file"
run no-dir-fsync || status=1
# 2. no file fsync before the rename
sed 's/^    file.sync_data().map_err(|e| Error::io(&tmp, e))?;$//' "$file.orig" > "$file"
run no-file-fsync || status=1
exit $status
