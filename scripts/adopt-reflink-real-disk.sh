#!/usr/bin/env bash
# Adoption's reflink path on a real file system (root, by hand; needs
# xfsprogs): an XFS image with reflink on, a Hugging Face cache reached
# through a bind mount (so a hard link fails with EXDEV while both names are
# on one file system), adopted with `catalog adopt`. Passes if every file is
# reflinked (none hard-linked or copied), no byte is reported written, the
# file system's used space grows by far less than the model, and `catalog
# verify` passes.
#
#   sudo scripts/adopt-reflink-real-disk.sh [path/to/catalog]
set -euo pipefail

BIN=${1:-target/release/catalog}
[ -x "$BIN" ] || { echo "build the binary first: cargo build --release" >&2; exit 2; }
command -v mkfs.xfs >/dev/null || { echo "needs mkfs.xfs (apt-get install xfsprogs)" >&2; exit 2; }

WORK=$(mktemp -d)
IMG="$WORK/xfs.img"
MNT="$WORK/mnt"
cleanup() {
    umount "$MNT/bind" 2>/dev/null || true
    umount "$MNT" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

truncate -s 2G "$IMG"
mkfs.xfs -q -m reflink=1 "$IMG"
mkdir -p "$MNT"
mount -o loop "$IMG" "$MNT"
mkdir -p "$MNT/src" "$MNT/bind"
mount --bind "$MNT/src" "$MNT/bind"

MIB=256
python3 - "$MNT/src/hub" "$MIB" <<'EOF'
import hashlib, os, sys
hub, mib = sys.argv[1], int(sys.argv[2])
repo = os.path.join(hub, "models--org--m")
for d in ("blobs", "refs", "snapshots"):
    os.makedirs(os.path.join(repo, d), exist_ok=True)
commit = "c" * 40
snap = os.path.join(repo, "snapshots", commit)
os.makedirs(snap, exist_ok=True)
weights = os.urandom(mib << 20)
config = b'{"architectures": ["LlamaForCausalLM"]}'
lfs = hashlib.sha256(weights).hexdigest()
git = hashlib.sha1(b"blob %d\0" % len(config) + config).hexdigest()
open(os.path.join(repo, "blobs", lfs), "wb").write(weights)
open(os.path.join(repo, "blobs", git), "wb").write(config)
os.symlink("../../blobs/" + lfs, os.path.join(snap, "model.safetensors"))
os.symlink("../../blobs/" + git, os.path.join(snap, "config.json"))
open(os.path.join(repo, "refs", "main"), "w").write(commit)
EOF
sync

used() { df --output=used -B1 "$MNT" | tail -1; }
before=$(used)
"$BIN" --root "$MNT/root" --json adopt "$MNT/bind/hub" > "$WORK/report.json"
sync
after=$(used)
"$BIN" --root "$MNT/root" verify org/m

python3 - "$WORK/report.json" "$before" "$after" "$MIB" <<'EOF'
import json, sys
report, before, after, mib = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
m = report["models"][0]
grown = after - before
print(f"reflinked {m['reflinked']}, hard-linked {m['hard_linked']}, copied {m['copied']}, "
      f"bytes written {m['bytes_written']}, trust {m['trust']}; used space grew {grown / (1 << 20):.1f} MiB "
      f"for a {mib} MiB model")
ok = (m["reflinked"] == 2 and m["hard_linked"] == 0 and m["copied"] == 0
      and m["bytes_written"] == 0 and m["trust"] == "verified" and grown < (mib << 20) // 8)
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
EOF
