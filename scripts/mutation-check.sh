#!/usr/bin/env bash
# Matrix row 15: remove a durability step from publish_file and show that a
# test fails; row 17 (below): skip putting a moved file back. Restores the
# files afterwards. Not part of CI (it is slow and expects failures); run
# by hand: scripts/mutation-check.sh
set -u
cd "$(dirname "$0")/.."
file=src/fs/atomic.rs
putback=src/store/put_back.rs
cp "$file" "$file.orig"
# Every mutated file is restored on exit, however the script ends.
restore() {
  [ -f "$file.orig" ] && mv "$file.orig" "$file"
  [ -f "$putback.orig" ] && mv "$putback.orig" "$putback"
  return 0
}
trap restore EXIT

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
mv "$file.orig" "$file"

# ---------------------------------------------------------------------------
# Matrix row 17 (P5): skip the move-back. Resolving a move intent then
# pretends a moved file whose source path is free was put back: the intent
# goes, the user's bytes stay unprotected in blobs/tmp/, and gc deletes
# them. The fault-and-crash matrix over a move import must fail.
cp "$putback" "$putback.orig"
sed 's/None => match fs.move_out_beneath(root, &staged_rel, &f.source) {/None => match Ok::<(), io::Error>(()) {/' \
  "$putback.orig" > "$putback"
if cmp -s "$putback" "$putback.orig"; then
  echo "MUTATION NOT APPLIED: skip-move-back (the sed no longer matches put_back.rs)"
  status=1
elif cargo test --no-default-features --test a_move_import_never_loses_the_source_whatever_fails \
    >/tmp/mutation-skip-move-back.log 2>&1; then
  echo "MUTATION SURVIVED: skip-move-back (no test failed) — the tests lack teeth"
  status=1
else
  echo "mutation caught: skip-move-back ($(grep -m1 -o 'panicked at [^:]*' /tmp/mutation-skip-move-back.log))"
fi
mv "$putback.orig" "$putback"
exit $status
