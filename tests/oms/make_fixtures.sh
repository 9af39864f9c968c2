#!/usr/bin/env bash
# Makes the OpenSSF Model Signing fixtures under tests/fixtures/oms/ with the
# real signer (model-signing, pinned in requirements.txt), and records what
# `model_signing verify` says of each variant in tests/fixtures/oms/README.md.
# Run by hand, not by CI (it needs PyPI once):
#
#   python3 -m venv /tmp/oms-venv
#   /tmp/oms-venv/bin/pip install -r tests/oms/requirements.txt
#   PATH=/tmp/oms-venv/bin:$PATH bash tests/oms/make_fixtures.sh
#
# Keys and certificates are made fresh on every run, so the committed
# outputs change each time; the tests read only what is committed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../fixtures/oms"
rm -rf "$out" && mkdir -p "$out"
cd "$out"
python3 "$here/make_fixtures.py" "$out"
