"""A tiny Hugging Face Hub on 127.0.0.1, enough for huggingface_hub 2.5.0's
`snapshot_download`, `hf_hub_download` and `verify_repo_checksums`.

Serves, for each repository of `MockHub.repos`:
  GET  /api/models/{repo}/revision/{rev}   repo_info: {"id", "sha", "siblings"}
  GET  /api/models/{repo}/tree/{rev}       list_repo_tree (recursive, one page)
  HEAD/GET /{repo}/resolve/{rev}/{path}    ETag, X-Repo-Commit; an LFS file answers
                                           302 to /lfs/{sha256} with X-Linked-Etag
                                           and X-Linked-Size
  GET  /lfs/{sha256}                       the LFS bytes
Nothing here is Xet storage: a file may advertise a `xetHash` (tree) and
`X-Xet-Hash` (HEAD) so that the client links it from its shared blob store,
but no Xet transfer is served.
"""

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse

LFS_SUFFIXES = (".safetensors", ".bin", ".gguf")


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class File:
    def __init__(self, path: str, data: bytes, xet_hash: str | None = None):
        self.path = path
        self.data = data
        self.lfs = path.endswith(LFS_SUFFIXES)
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.blob_id = git_blob_id(data)
        self.xet_hash = xet_hash

    @property
    def etag(self) -> str:
        return self.sha256 if self.lfs else self.blob_id

    def tree_entry(self) -> dict:
        entry = {"type": "file", "oid": self.blob_id, "size": len(self.data), "path": self.path}
        if self.lfs:
            entry["lfs"] = {"oid": self.sha256, "size": len(self.data), "pointerSize": 134}
        if self.xet_hash:
            entry["xetHash"] = self.xet_hash
        return entry


class Repo:
    """One repository: commits (40 hex) -> files, refs (branch or tag) -> commit."""

    def __init__(self, repo_id: str):
        self.repo_id = repo_id
        self.commits: dict[str, dict[str, File]] = {}
        self.refs: dict[str, str] = {}

    def commit(self, files: dict[str, bytes], refs=("main",), xet: dict[str, str] | None = None) -> str:
        sha = hashlib.sha1(
            repr((self.repo_id, len(self.commits), sorted(files.items()))).encode()
        ).hexdigest()
        self.commits[sha] = {p: File(p, d, (xet or {}).get(p)) for p, d in files.items()}
        for r in refs:
            self.refs[r] = sha
        return sha

    def resolve(self, rev: str) -> str | None:
        rev = unquote(rev)
        if rev in self.commits:
            return rev
        return self.refs.get(rev)


class MockHub:
    def __init__(self):
        self.repos: dict[str, Repo] = {}
        # Paths whose bytes are sent halfway, then the connection is held open.
        self.stall: set[str] = set()
        self.requests: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def cdn_url(self) -> str:
        return f"http://localhost:{self._server.server_address[1]}"

    def repo(self, repo_id: str, kind: str = "") -> Repo:
        """`kind` is "" for a model, "datasets/" for a dataset."""
        return self.repos.setdefault(kind + repo_id, Repo(repo_id))

    def start(self) -> "MockHub":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, code, body=b"", headers=None, head=False):
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _json(self, obj, headers=None):
                h = {"Content-Type": "application/json"}
                h.update(headers or {})
                self._send(200, json.dumps(obj).encode(), h)

            def _not_found(self, head=False, commit=None):
                h = {"X-Error-Code": "EntryNotFound"}
                if commit:
                    h["X-Repo-Commit"] = commit
                self._send(404, b"not found", h, head)

            def do_HEAD(self):
                self._route(head=True)

            def do_GET(self):
                self._route(head=False)

            def _route(self, head):
                path = urlparse(self.path).path
                hub.requests.append(f"{self.command} {path}")
                parts = [unquote(p) for p in path.strip("/").split("/")]
                kind = ""
                if parts[:2] == ["api", "datasets"]:
                    kind, parts = "datasets/", ["api", "models"] + parts[2:]
                elif parts[0] == "datasets":
                    kind, parts = "datasets/", parts[1:]
                if parts[:2] == ["api", "models"] and len(parts) >= 6:
                    repo = hub.repos.get(f"{kind}{parts[2]}/{parts[3]}")
                    if repo is None:
                        return self._send(404, b"", {"X-Error-Code": "RepoNotFound"}, head)
                    sha = repo.resolve("/".join(parts[5:]) if parts[4] == "revision" else parts[5])
                    if sha is None:
                        return self._send(404, b"", {"X-Error-Code": "RevisionNotFound"}, head)
                    files = repo.commits[sha]
                    if parts[4] == "revision":
                        return self._json(
                            {
                                "id": repo.repo_id,
                                "modelId": repo.repo_id,
                                "sha": sha,
                                "private": False,
                                "siblings": [{"rfilename": p} for p in sorted(files)],
                            }
                        )
                    if parts[4] in ("tree", "paths-info"):
                        entries = []
                        dirs = set()
                        for p in sorted(files):
                            entries.append(files[p].tree_entry())
                            segs = p.split("/")[:-1]
                            for i in range(len(segs)):
                                dirs.add("/".join(segs[: i + 1]))
                        entries += [{"type": "directory", "oid": "0" * 40, "size": 0, "path": d} for d in sorted(dirs)]
                        return self._json(entries)
                if parts[0] == "lfs" and len(parts) == 2:
                    for repo in hub.repos.values():
                        for files in repo.commits.values():
                            for f in files.values():
                                if f.sha256 == parts[1]:
                                    return self._body(f, head)
                    return self._not_found(head)
                if len(parts) >= 5 and parts[2] == "resolve":
                    repo = hub.repos.get(f"{kind}{parts[0]}/{parts[1]}")
                    if repo is None:
                        return self._send(404, b"", {"X-Error-Code": "RepoNotFound"}, head)
                    sha = repo.resolve(parts[3])
                    if sha is None:
                        return self._send(404, b"", {"X-Error-Code": "RevisionNotFound"}, head)
                    f = repo.commits[sha].get("/".join(parts[4:]))
                    if f is None:
                        return self._not_found(head, sha)
                    h = {"X-Repo-Commit": sha, "ETag": f'"{f.blob_id}"'}
                    if f.xet_hash:
                        h["X-Xet-Hash"] = f.xet_hash
                        h["X-Xet-Refresh-Route"] = f"/api/models/{repo.repo_id}/xet-read-token/{sha}"
                    if f.lfs:
                        h["X-Linked-Etag"] = f'"{f.sha256}"'
                        h["X-Linked-Size"] = str(len(f.data))
                        # Another host name (as the Hub's CDN is), so the client
                        # reads the metadata off this response and does not follow.
                        h["Location"] = f"{hub.cdn_url}/lfs/{f.sha256}"
                        return self._send(302, b"", h, head)
                    return self._body(f, head, h)
                self._send(404, b"", {}, head)

            def _body(self, f: File, head: bool, headers=None):
                h = {"Content-Type": "application/octet-stream"}
                h.update(headers or {})
                if f.path in hub.stall and not head:
                    self.send_response(200)
                    for k, v in h.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(f.data)))
                    self.end_headers()
                    self.wfile.write(f.data[: len(f.data) // 2])
                    self.wfile.flush()
                    time.sleep(60)
                    return
                self._send(200, f.data, h, head)

        return Handler
