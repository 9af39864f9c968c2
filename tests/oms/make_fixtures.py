"""Makes tests/fixtures/oms/ with model-signing 1.1.1 (see make_fixtures.sh)."""

import base64
import datetime
import json
import os
import pathlib
import shutil
import subprocess
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import model_signing

OUT = pathlib.Path(sys.argv[1])
TMP = OUT / "_private"  # private keys: never committed, removed at the end
VERDICTS = []


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def make_model(root):
    # Small, deterministic files in a nested layout.
    write(root / "config.json", b'{"architectures": ["TinyForCausalLM"]}\n')
    write(root / "model.safetensors", bytes((i * 7 + 3) % 251 for i in range(5000)))
    write(root / "tokenizer" / "tokenizer.json", b'{"version": "1.0"}\n')


def key(name, curve):
    k = ec.generate_private_key(curve)
    write(TMP / f"{name}.key.pem", k.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    write(OUT / "keys" / f"{name}.pub.pem", k.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return k


def cert(subject, issuer_name, issuer_key, public_key, ca, not_before, days):
    b = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
         .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
         .public_key(public_key)
         .serial_number(x509.random_serial_number())
         .not_valid_before(not_before)
         .not_valid_after(not_before + datetime.timedelta(days=days))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                          False, False), critical=True)
    else:
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, False, False,
                                          False, False), critical=True)
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]),
                            critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM)


def cli(*args):
    r = subprocess.run(["model_signing", *args], capture_output=True, text=True)
    return r.returncode, (r.stdout + r.stderr).strip().splitlines()


def verdict(name, model, sig, args):
    code, lines = cli("verify", *args, "--signature", str(sig), str(model))
    last = " ".join(l.strip() for l in lines if "rror" in l or "succeeded" in l)
    last = last.replace(str(OUT.resolve()), "fixtures/oms").replace(str(OUT), "fixtures/oms")
    VERDICTS.append((name, "model_signing verify " + args[0], code, last[:160]))


def api_verdict(name, model, sig, pub, hashing):
    try:
        (model_signing.verifying.Config().use_elliptic_key_verifier(public_key=pub)
         .set_hashing_config(hashing).verify(model, sig))
        VERDICTS.append((name, "Python API verify", 0, "verified"))
    except Exception as e:  # noqa: BLE001 -- the verdict is the message
        VERDICTS.append((name, "Python API verify", 1, f"{type(e).__name__}: {e}"[:160]))


def edit_payload(src, dst):
    bundle = json.loads(src.read_text())
    stmt = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    stmt["predicate"]["resources"][0]["digest"] = "0" * 64
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(
        json.dumps(stmt).encode()).decode()
    dst.write_text(json.dumps(bundle))


def main():
    model = OUT / "model"
    make_model(model)
    p256, p384 = key("p256", ec.SECP256R1()), key("p384", ec.SECP384R1())
    key("other-p256", ec.SECP256R1())
    for name in ("p256", "p384"):
        sig = OUT / f"{name}.sig"
        code, lines = cli("sign", "key", "--private_key", str(TMP / f"{name}.key.pem"),
                          "--signature", str(sig), str(model))
        assert code == 0, lines
        verdict(f"{name}.sig over model/", model, sig,
                ["key", "--public_key", str(OUT / "keys" / f"{name}.pub.pem")])
    pub = ["key", "--public_key", str(OUT / "keys" / "p256.pub.pem")]
    verdict("p256.sig with keys/other-p256.pub.pem (wrong key)", model, OUT / "p256.sig",
            ["key", "--public_key", str(OUT / "keys" / "other-p256.pub.pem")])
    edit_payload(OUT / "p256.sig", OUT / "p256-payload-edited.sig")
    verdict("p256-payload-edited.sig over model/", model, OUT / "p256-payload-edited.sig", pub)
    for variant, change in (
        ("model-changed", lambda d: write(d / "config.json", b'{"architectures": []}\n')),
        ("model-missing", lambda d: os.remove(d / "tokenizer" / "tokenizer.json")),
        ("model-extra", lambda d: write(d / "extra.bin", b"extra\n")),
    ):
        shutil.copytree(model, OUT / variant)
        change(OUT / variant)
        verdict(f"p256.sig over {variant}/", OUT / variant, OUT / "p256.sig", pub)
    make_certificates(model)
    make_hf_snapshot(p256)
    make_api_signatures(model)
    shutil.rmtree(TMP)
    write_readme()


def make_certificates(model):
    # The CAs are valid from 2019 on for 30 years, so the expired leaf
    # (valid 30 days from 2020-01-01) is within them at its own notBefore.
    now = datetime.datetime(2019, 1, 1, tzinfo=datetime.timezone.utc)
    root_key, mid_key = ec.generate_private_key(ec.SECP384R1()), ec.generate_private_key(ec.SECP256R1())
    root = cert("Test Root CA", "Test Root CA", root_key, root_key.public_key(), True, now, 10950)
    mid = cert("Test Intermediate CA", "Test Root CA", root_key, mid_key.public_key(), True, now, 10950)
    write(OUT / "certs" / "ca.pem", pem(root))
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = cert("Other Root CA", "Other Root CA", other_key, other_key.public_key(), True, now, 10950)
    write(OUT / "certs" / "other-ca.pem", pem(other))
    write(TMP / "mid.pem", pem(mid))
    for name, start, days in (("cert", datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1), 365),
                              ("cert-expired", datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc), 30)):
        leaf_key = ec.generate_private_key(ec.SECP256R1())
        leaf = cert(f"signer@{name}.example", "Test Intermediate CA", mid_key,
                    leaf_key.public_key(), False, start, days)
        write(TMP / f"{name}.key.pem", leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        write(TMP / f"{name}.pem", pem(leaf))
        sig = OUT / f"{name}.sig"
        code, lines = cli("sign", "certificate", "--private_key", str(TMP / f"{name}.key.pem"),
                          "--signing_certificate", str(TMP / f"{name}.pem"),
                          "--certificate_chain", str(TMP / "mid.pem"),
                          "--signature", str(sig), str(model))
        assert code == 0, lines
        verdict(f"{name}.sig with certs/ca.pem", model, sig,
                ["certificate", "--certificate_chain", str(OUT / "certs" / "ca.pem")])
    verdict("cert.sig with certs/other-ca.pem (untrusted root)", model, OUT / "cert.sig",
            ["certificate", "--certificate_chain", str(OUT / "certs" / "other-ca.pem")])


def make_hf_snapshot(p256):
    repo = OUT / "hf" / "models--org--tiny"
    snap = repo / "snapshots" / "0123456789abcdef0123456789abcdef01234567"
    write(repo / "refs" / "main", b"0123456789abcdef0123456789abcdef01234567")
    snap.mkdir(parents=True)
    import hashlib
    for name, data in (("config.json", b'{"model_type": "tiny"}\n'),
                       ("model.safetensors", bytes(range(256)) * 8)):
        blob = hashlib.sha256(data).hexdigest()
        write(repo / "blobs" / blob, data)
        os.symlink(f"../../blobs/{blob}", snap / name)
    sig = OUT / "hf.sig"
    code, lines = cli("sign", "key", "--allow_symlinks", "--private_key",
                      str(TMP / "p256.key.pem"), "--signature", str(sig), str(snap))
    assert code == 0, lines
    verdict("hf.sig over the snapshot (--allow_symlinks)", snap, sig,
            ["key", "--allow_symlinks", "--public_key", str(OUT / "keys" / "p256.pub.pem")])
    verdict("hf.sig over the snapshot (symlinks not allowed)", snap, sig,
            ["key", "--public_key", str(OUT / "keys" / "p256.pub.pem")])


def make_api_signatures(model):
    # The CLI signs only files + sha256: shards and BLAKE come from the API.
    H = model_signing.hashing.Config
    for name, hashing in (
        ("shard", H().use_shard_serialization(hashing_algorithm="sha256", shard_size=2048)),
        ("blake3", H().use_file_serialization(hashing_algorithm="blake3")),
        ("blake2", H().use_file_serialization(hashing_algorithm="blake2")),
    ):
        sig = OUT / f"{name}.sig"
        (model_signing.signing.Config()
         .use_elliptic_key_signer(private_key=TMP / "p256.key.pem")
         .set_hashing_config(hashing).sign(model, sig))
        api_verdict(f"{name}.sig over model/", model, sig, OUT / "keys" / "p256.pub.pem", hashing)
        verdict(f"{name}.sig over model/ (CLI)", model, sig,
                ["key", "--public_key", str(OUT / "keys" / "p256.pub.pem")])


def write_readme():
    rows = "\n".join(f"| {n} | {how} | {c} | {m.replace('|', '/')} |" for n, how, c, m in VERDICTS)
    (OUT / "README.md").write_text(f"""# OpenSSF Model Signing fixtures

Made by `tests/oms/make_fixtures.sh` with model-signing 1.1.1 (the real
signer, pinned in `tests/oms/requirements.txt`); do not edit by hand.
`model/` is the signed model; `model-changed/`, `model-missing/` and
`model-extra/` are copies of it with one file changed, removed or added;
`p256-payload-edited.sig` is `p256.sig` with its first resource digest
replaced in the payload (signature kept); `keys/` holds the public keys
(the private ones were thrown away), `certs/ca.pem` the root the
certificate signatures chain to (through an intermediate carried in the
bundle), `certs/other-ca.pem` an unrelated root; `hf/` a Hugging Face
cache whose snapshot `hf.sig` signs (its files are symlinks into
`blobs/`). `shard.sig` (2048-byte shards), `blake3.sig` and `blake2.sig`
were made with the Python API: the CLI signs only files + SHA-256.

What model-signing said of each variant when the fixtures were made
(exit code, last line of its output):

| variant | how | exit | said |
| --- | --- | --- | --- |
{rows}
""")


main()
