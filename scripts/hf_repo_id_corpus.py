#!/usr/bin/env python3
"""Writes tests/data/hf_repo_ids.jsonl: Hugging Face repository ids and
revisions with huggingface_hub's own verdicts, for
tests/hf_references_are_read_as_the_hub_reads_them.rs.

Run by hand (it needs huggingface_hub, and never the network):

    python3 -m venv /tmp/hfvenv && /tmp/hfvenv/bin/pip install huggingface_hub
    /tmp/hfvenv/bin/python scripts/hf_repo_id_corpus.py > tests/data/hf_repo_ids.jsonl

Every line is one JSON object:

* {"kind": "meta", ...}: the huggingface_hub version that gave the verdicts;
* {"kind": "repo_id", "id": ..., "valid": true|false, "error": ...}: the
  verdict of huggingface_hub.utils.validate_repo_id on `id`;
* {"kind": "revision", "revision": ..., "quoted": ...}: how huggingface_hub
  writes the revision in a file URL (hf_hub_url's `/resolve/<revision>/`
  part), that is how the Hub reads it.

The ids are generated deterministically (no randomness): real ids, then
each mutated at its ends and in the middle, then systematic edge cases
(every printable ASCII character as a name, names at and around the length
limit, `.git` endings, doubled separators).
"""

import json
import sys
from urllib.parse import urlparse

import huggingface_hub
from huggingface_hub import hf_hub_url
from huggingface_hub.utils import HFValidationError, validate_repo_id

REAL = [
    "meta-llama/Meta-Llama-3-8B-Instruct",
    "meta-llama/Llama-3.1-70B-Instruct",
    "Qwen/Qwen2.5-7B-Instruct",
    "Qwen/Qwen2-0.5B-Instruct-GGUF",
    "TheBloke/Llama-2-7B-Chat-GGUF",
    "TheBloke/Mistral-7B-Instruct-v0.2-AWQ",
    "mistralai/Mistral-7B-Instruct-v0.3",
    "mistralai/Mixtral-8x7B-Instruct-v0.1",
    "google/gemma-2-9b-it",
    "google-bert/bert-base-uncased",
    "openai-community/gpt2",
    "microsoft/Phi-3-mini-4k-instruct",
    "stabilityai/stable-diffusion-xl-base-1.0",
    "sentence-transformers/all-MiniLM-L6-v2",
    "BAAI/bge-large-en-v1.5",
    "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF",
    "unsloth/llama-3-8b-bnb-4bit",
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
    "HuggingFaceTB/SmolLM2-135M-Instruct",
    "nomic-ai/nomic-embed-text-v1.5",
    "julien-c/EsperBERTo-small",
    "lysandre/arxiv-nlp",
    "user_name/repo_name",
    "a/b",
    "A1/B2",
    "_org/_repo_",
    "org.with.dots/repo.with.dots",
    "x/model.gguf",
    "gpt2",
    "bert-base-uncased",
    "distilbert-base-uncased-finetuned-sst-2-english",
    "t5-small",
    "123/456",
    "datasets/foo/bar",
]

MUTATIONS_END = [
    "-", ".", "_", "..", "--", ".-", "-.", " ", "\t", "/", "@", ":", "#", "?", "%2F",
    "~", "+", "é", ".git", ".GIT", "_git", "-git", ".git.x", "/x", "x/", "0", "Z",
]
MUTATIONS_MIDDLE = ["-", ".", "_", "--", "..", "-.", "._", " ", "/", "@", "é", "$"]

REVISIONS = [
    "main", "master", "v1.0", "v1.0.0-rc.1", "release_2024.01", "dev",
    "refs/pr/1", "refs/pr/42", "refs/pr/12345", "refs/convert/parquet",
    "refs/convert/duckdb", "refs/heads/main", "refs/tags/v1",
    "feature/x", "feature/x/y", "user/feature-branch", "a/b/c/d",
    "bbc77c8132af1cc5cf678da3f1ddf2de43606d48", "2439f60", "0123456789abcdef0123",
    "with space", "a~b", "a+b", "a@b", "a:b", "a#b", "a?b", "é", "v1..2", ".", "..",
    "-leading", "trailing-", "_", "refs/pr/x", "refs/pr/", "x%y", "a%2Fb",
]


def verdict(repo_id):
    try:
        validate_repo_id(repo_id)
        return True, None
    except HFValidationError as e:
        return False, str(e)


def ids():
    seen = set()

    def emit(candidate):
        if candidate not in seen:
            seen.add(candidate)
            yield candidate

    for real in REAL:
        yield from emit(real)
        namespace, _, name = real.rpartition("/")
        for m in MUTATIONS_END:
            yield from emit(real + m)
            yield from emit(m + real)
            if namespace:
                yield from emit(namespace + m + "/" + name)
                yield from emit(namespace + "/" + m + name)
        for m in MUTATIONS_MIDDLE:
            half = len(name) // 2
            mutated = name[:half] + m + name[half:]
            yield from emit((namespace + "/" if namespace else "") + mutated)
        yield from emit(real.upper())
        yield from emit(real.lower())
    # Every printable ASCII character as a repository name, and as a
    # namespace, and inside a name.
    for code in range(0x20, 0x7F):
        c = chr(code)
        yield from emit("org/" + c)
        yield from emit(c + "/repo")
        yield from emit("org/a" + c + "b")
        yield from emit("org/" + c + "a")
        yield from emit("org/a" + c)
    # Lengths around the limit of 96, for both parts.
    for n in (1, 2, 95, 96, 97, 128):
        yield from emit("org/" + "r" * n)
        yield from emit("o" * n + "/repo")
        yield from emit("o" * n + "/" + "r" * n)
        yield from emit("r" * n)
    # Separators doubled or mixed.
    for sep in ("-", ".", "_"):
        for other in ("-", ".", "_"):
            yield from emit("org/a" + sep + other + "b")
            yield from emit("o" + sep + other + "g/repo")
    yield from emit("")
    yield from emit("/")
    yield from emit("org/")
    yield from emit("/repo")
    yield from emit("org//repo")
    yield from emit("a/b/c")


def main():
    out = sys.stdout
    out.write(json.dumps({
        "kind": "meta",
        "huggingface_hub": huggingface_hub.__version__,
        "generated_by": "scripts/hf_repo_id_corpus.py",
    }) + "\n")
    for repo_id in ids():
        valid, error = verdict(repo_id)
        out.write(json.dumps({"kind": "repo_id", "id": repo_id, "valid": valid, "error": error}) + "\n")
    for revision in REVISIONS:
        url = hf_hub_url("org/repo", "f.json", revision=revision)
        quoted = urlparse(url).path.split("/resolve/", 1)[1].rsplit("/f.json", 1)[0]
        out.write(json.dumps({"kind": "revision", "revision": revision, "quoted": quoted}) + "\n")


if __name__ == "__main__":
    main()
