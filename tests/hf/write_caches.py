"""Lets huggingface_hub (tests/hf/requirements.txt) write hub caches for the
situations of issue 20, one cache per case, from a mock Hub on 127.0.0.1.

    python write_caches.py OUT_DIR [CASE ...]     the cases (default: all)
    python write_caches.py OUT_DIR CASE:STEP      one step of a staged case (the
                                                  test adopts between steps)
    python write_caches.py OUT_DIR --bench N       one cache of N repositories

Each case gets OUT_DIR/<case>/hub (HF_HUB_CACHE) and OUT_DIR/<case>/home
(HF_HOME); the real ~/.cache is never touched. Every download runs in a child
process with only these variables (so HF_HUB_DISABLE_SYMLINKS is read at
import, as in real use). Prints one JSON object: per case, the cache path,
the repositories written, `scan_cache_dir()`'s view and, per cached revision,
`HfApi.verify_repo_checksums` (what `hf cache verify` prints).
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, str(HERE))
from mock_hub import MockHub  # noqa: E402


def data(tag: str, size: int) -> bytes:
    out = b""
    i = 0
    while len(out) < size:
        out += hashlib.sha256(f"{tag}/{i}".encode()).digest()
        i += 1
    return out[:size]


def model_files(tag: str, weights: bytes | None = None) -> dict[str, bytes]:
    return {
        "config.json": json.dumps({"model_type": "llama", "tag": tag}).encode(),
        "generation_config.json": b'{"do_sample": false}',
        "tokenizer.json": json.dumps({"vocab": [tag] * 50}).encode(),
        "tokenizer_config.json": b'{"bos_token": "<s>"}',
        "README.md": f"# {tag}\n".encode(),
        "model-00001-of-00002.safetensors": weights or data(tag + "/1", 300_000),
        "model-00002-of-00002.safetensors": data(tag + "/2", 200_000),
    }


# ---------------------------------------------------------------- children


def child(op: dict) -> None:
    """One step, run in a fresh interpreter with the case's environment."""
    import huggingface_hub as hf

    cache = os.environ["HF_HUB_CACHE"]
    kind = op.get("repo_type", "model")
    if op["op"] == "snapshot":
        hf.snapshot_download(
            op["repo"], revision=op.get("revision"), allow_patterns=op.get("allow"), repo_type=kind
        )
    elif op["op"] == "file":
        hf.hf_hub_download(op["repo"], op["path"], revision=op.get("revision"), repo_type=kind)
    elif op["op"] == "publish":
        # Puts a downloaded blob into the cache-wide shared store with
        # huggingface_hub's own function: what 2.5.0 does after a Xet
        # download (no Xet transfer is served by the mock).
        from huggingface_hub.utils._shared_blobs import publish_blob_to_shared_store

        blob = Path(cache) / ("models--" + op["repo"].replace("/", "--")) / "blobs" / op["etag"]
        ok = publish_blob_to_shared_store(
            blob_path=str(blob), xet_hash=op["xet"], cache_dir=cache, expected_size=op["size"]
        )
        if not ok:
            raise SystemExit("publish_blob_to_shared_store refused")
    elif op["op"] == "cli":
        # The `hf` command of this environment, as a user runs it.
        hf_cli = Path(sys.executable).parent / "hf"
        subprocess.run([str(hf_cli), *op["args"], "--cache-dir", cache, "-y"], check=True, capture_output=True)
    elif op["op"] == "report":
        print(json.dumps(report(cache)))
    else:
        raise SystemExit(f"unknown op {op}")


def report(cache: str) -> dict:
    import huggingface_hub as hf

    info = hf.scan_cache_dir(cache)
    api = hf.HfApi()
    repos = []
    for r in sorted(info.repos, key=lambda r: (r.repo_type, r.repo_id)):
        revisions = []
        for rev in sorted(r.revisions, key=lambda v: v.commit_hash):
            verified = None
            if r.repo_type == "model":
                v = api.verify_repo_checksums(r.repo_id, revision=rev.commit_hash, cache_dir=cache)
                verified = {
                    "checked": v.checked_count,
                    "mismatches": sorted(m.path for m in v.mismatches),
                    "missing": sorted(v.missing_paths),
                    "extra": sorted(v.extra_paths),
                }
            revisions.append(
                {
                    "commit": rev.commit_hash,
                    "refs": sorted(rev.refs),
                    # Paths in the snapshot (`file_name` is only the last part).
                    "files": sorted(str(f.file_path.relative_to(rev.snapshot_path)) for f in rev.files),
                    "size_on_disk": rev.size_on_disk,
                    "verify": verified,
                }
            )
        repos.append(
            {
                "repo_id": r.repo_id,
                "repo_type": r.repo_type,
                "refs": sorted(r.refs),
                "size_on_disk": r.size_on_disk,
                "nb_files": r.nb_files,
                "revisions": revisions,
            }
        )
    return {
        "size_on_disk": info.size_on_disk,
        "repos": repos,
        "warnings": [str(w) for w in info.warnings],
    }


# ---------------------------------------------------------------- parent


class Case:
    def __init__(self, out: Path, name: str, hub: MockHub, env: dict | None = None):
        self.name = name
        self.dir = out / name
        self.cache = self.dir / "hub"
        self.home = self.dir / "home"
        self.cache.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.dir),
            "HF_HOME": str(self.home),
            "HF_HUB_CACHE": str(self.cache),
            "HF_ENDPOINT": hub.url,
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
            "HF_HUB_ETAG_TIMEOUT": "5",
            "HF_HUB_DOWNLOAD_TIMEOUT": "5",
            "NO_PROXY": "127.0.0.1,localhost",
            "PYTHONDONTWRITEBYTECODE": "1",
            **(env or {}),
        }
        self.notes: dict = {}

    def popen(self, op: dict, **kw) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(op)], env=self.env, **kw
        )

    def run(self, op: dict) -> str:
        p = self.popen(op, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = p.communicate(timeout=300)
        if p.returncode != 0:
            raise SystemExit(f"{self.name}: {op} failed:\n{err.decode()}")
        return out.decode()

    def result(self) -> dict:
        return {"cache": str(self.cache), "notes": self.notes, "scan": json.loads(self.run({"op": "report"}))}


def shared_blob_store(case: Case, hub: MockHub) -> None:
    weights = data("shared", 300_000)
    xet = hashlib.sha256(b"xet/" + weights).hexdigest()
    a = hub.repo("org/shared-a").commit(model_files("shared-a", weights))
    b = hub.repo("org/shared-b").commit(
        model_files("shared-b", weights), xet={"model-00001-of-00002.safetensors": xet}
    )
    case.run({"op": "snapshot", "repo": "org/shared-a"})
    sha = hashlib.sha256(weights).hexdigest()
    case.run({"op": "publish", "repo": "org/shared-a", "etag": sha, "xet": xet, "size": len(weights)})
    case.run({"op": "snapshot", "repo": "org/shared-b"})
    case.notes.update(commits={"org/shared-a": a, "org/shared-b": b}, xet_hash=xet, weights_sha256=sha)


def stale_incomplete(case: Case, hub: MockHub) -> None:
    c = hub.repo("org/stalled").commit(model_files("stalled"))
    big = "model-00001-of-00002.safetensors"
    hub.stall.add(big)
    blobs = case.cache / "models--org--stalled" / "blobs"
    p = case.popen({"op": "snapshot", "repo": "org/stalled"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    partial = []
    while time.time() < deadline and not partial:
        # The child buffers what it received: the file may still be empty.
        partial = list(blobs.glob("*.incomplete")) if blobs.is_dir() else []
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(p.pid, signal.SIGKILL)  # the killed download
    p.wait()
    hub.stall.discard(big)
    if not partial:
        raise SystemExit("stale_incomplete: no .incomplete file appeared")
    case.run({"op": "snapshot", "repo": "org/stalled"})  # a later complete download
    case.notes.update(commits={"org/stalled": c}, incomplete=sorted(f.name for f in blobs.glob("*.incomplete")))


def download_running(case: Case, hub: MockHub) -> None:
    """A whole snapshot, then main moves and its download is cut short (SIGKILL)
    while the new weights come in: a `.incomplete` whose blob is not there."""
    repo = hub.repo("org/moving")
    old = repo.commit(model_files("moving-1"))
    case.run({"op": "snapshot", "repo": "org/moving"})
    new = repo.commit(model_files("moving-2"))
    big = "model-00001-of-00002.safetensors"
    hub.stall.add(big)
    blobs = case.cache / "models--org--moving" / "blobs"
    p = case.popen({"op": "snapshot", "repo": "org/moving"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not list(blobs.glob("*.incomplete")):
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    hub.stall.discard(big)
    running = sorted(f.name for f in blobs.glob("*.incomplete"))
    if not running:
        raise SystemExit("download_running: no .incomplete file appeared")
    case.notes.update(commits={"old": old, "new": new}, incomplete=running)


def partial_snapshot(case: Case, hub: MockHub) -> None:
    c = hub.repo("org/partial").commit(model_files("partial"))
    case.run({"op": "snapshot", "repo": "org/partial", "allow": ["*.json"]})
    case.notes.update(commits={"org/partial": c})


def no_symlinks(case: Case, hub: MockHub) -> None:
    c = hub.repo("org/copies").commit(model_files("copies"))
    case.run({"op": "snapshot", "repo": "org/copies"})
    case.notes.update(commits={"org/copies": c})


def tags_and_refs(case: Case, hub: MockHub) -> None:
    repo = hub.repo("org/tagged")
    old = repo.commit(model_files("tagged-0.9"), refs=("v0.9",))
    new = repo.commit(model_files("tagged-1.0"), refs=("main", "v1.0"))
    case.run({"op": "snapshot", "repo": "org/tagged", "revision": old})  # detached: no ref written
    case.run({"op": "snapshot", "repo": "org/tagged", "revision": "v0.9"})
    case.run({"op": "snapshot", "repo": "org/tagged"})
    case.run({"op": "snapshot", "repo": "org/tagged", "revision": "v1.0"})
    case.notes.update(commits={"v0.9": old, "main": new})


def same_weights_two_repos(case: Case, hub: MockHub) -> None:
    weights = data("twin", 300_000)
    a = hub.repo("org/twin-a").commit(model_files("twin-a", weights))
    b = hub.repo("org/twin-b").commit(model_files("twin-b", weights))
    case.run({"op": "snapshot", "repo": "org/twin-a"})
    case.run({"op": "snapshot", "repo": "org/twin-b"})
    case.notes.update(commits={"org/twin-a": a, "org/twin-b": b}, weights_sha256=hashlib.sha256(weights).hexdigest())


def dataset_beside_model(case: Case, hub: MockHub) -> None:
    m = hub.repo("org/plain").commit(model_files("plain"))
    d = hub.repo("org/corpus", kind="datasets/").commit({"train.jsonl": b'{"text": "hi"}\n', "README.md": b"# corpus\n"})
    case.run({"op": "snapshot", "repo": "org/plain"})
    case.run({"op": "snapshot", "repo": "org/corpus", "repo_type": "dataset"})
    case.notes.update(commits={"org/plain": m, "datasets/org/corpus": d})


# Staged cases: the test adopts the cache between steps. Each step declares
# the Hub's whole state again (commit hashes are deterministic), then runs
# only its own downloads or removals.


def moving_main(case: Case, hub: MockHub, step: str) -> None:
    """main and tag v1.0 on c2; then main moves to c4 (v1.0 stays)."""
    repo = hub.repo("org/moving-main")
    c2 = repo.commit(model_files("moving-main-2"), refs=("main", "v1.0"))
    if step == "before":
        case.run({"op": "snapshot", "repo": "org/moving-main"})
        case.run({"op": "snapshot", "repo": "org/moving-main", "revision": "v1.0"})
        case.notes.update(commits={"c2": c2})
        return
    c4 = repo.commit(model_files("moving-main-4"))
    case.run({"op": "snapshot", "repo": "org/moving-main"})
    case.notes.update(commits={"c2": c2, "c4": c4})


def removed(case: Case, hub: MockHub, step: str) -> None:
    """Two repositories and a detached revision; then `hf cache rm` of one
    repository (step rm) or `hf cache prune` (step prune)."""
    keep = hub.repo("org/kept")
    kept = keep.commit(model_files("kept"))
    gone = hub.repo("org/gone").commit(model_files("gone"))
    old = keep.commit(model_files("kept-old"), refs=())
    if step == "before":
        case.run({"op": "snapshot", "repo": "org/kept"})
        case.run({"op": "snapshot", "repo": "org/gone"})
        case.run({"op": "snapshot", "repo": "org/kept", "revision": old})  # detached
    elif step == "rm":
        case.run({"op": "cli", "args": ["cache", "rm", "model/org/gone"]})
    elif step == "prune":
        case.run({"op": "cli", "args": ["cache", "prune"]})
    case.notes.update(commits={"kept": kept, "gone": gone, "old": old})


def twins(case: Case, hub: MockHub, step: str) -> None:
    """The same weights in two repositories (no shared store)."""
    same_weights_two_repos(case, hub)


STAGED = {"moving_main": moving_main, "removed": removed, "twins": twins}


CASES = {
    "shared_blob_store": ({}, shared_blob_store),
    "stale_incomplete": ({}, stale_incomplete),
    "download_running": ({}, download_running),
    "partial_snapshot": ({}, partial_snapshot),
    "no_symlinks": ({"HF_HUB_DISABLE_SYMLINKS": "1"}, no_symlinks),
    "tags_and_refs": ({}, tags_and_refs),
    "same_weights_two_repos": ({}, same_weights_two_repos),
    "dataset_beside_model": ({}, dataset_beside_model),
}


def bench(out: Path, hub: MockHub, n: int) -> dict:
    """One cache of `n` small repositories, written by one snapshot_download each."""
    case = Case(out, f"bench_{n}", hub)
    repos = []
    for i in range(n):
        rid = f"bench/repo-{i:04}"
        hub.repo(rid).commit(
            {"config.json": f'{{"i": {i}}}'.encode(), "model.safetensors": data(f"bench{i}", 4096)}
        )
        repos.append(rid)
    code = (
        "import sys, huggingface_hub as hf\n"
        "for r in sys.argv[1:]: hf.snapshot_download(r)\n"
    )
    subprocess.run([sys.executable, "-c", code, *repos], env=case.env, check=True)
    return {"cache": str(case.cache)}


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        return child(json.loads(sys.argv[2]))
    out = Path(sys.argv[1]).resolve()
    hub = MockHub().start()
    try:
        if len(sys.argv) >= 4 and sys.argv[2] == "--bench":
            print(json.dumps(bench(out, hub, int(sys.argv[3]))))
            return
        only = sys.argv[2:] or list(CASES)
        results = {}
        for name in only:
            if ":" in name:
                staged, step = name.split(":", 1)
                case = Case(out, staged, hub)
                STAGED[staged](case, hub, step)
                results[name] = case.result()
                continue
            env, build = CASES[name]
            case = Case(out, name, hub, env)
            build(case, hub)
            results[name] = case.result()
        import huggingface_hub

        print(json.dumps({"huggingface_hub": huggingface_hub.__version__, "cases": results}, indent=1))
    finally:
        hub.stop()


if __name__ == "__main__":
    main()
