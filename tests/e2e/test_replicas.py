"""Replicas are stateless: two ``ragseal serve`` processes on one PostgreSQL control plane.

Each replica has its own data dir (its own embedded Qdrant Edge store, in
which the same document was ingested through the CLI): what they share is
only ``RAGSEAL_DATABASE_URL`` and ``RAGSEAL_MASTER_KEY``. Through replica
A and B:

- a retrieval id minted by A is accepted by B's ``/v1/inspect``;
- a policy pushed to A is in force on B within 5 s;
- keys rotated by ``ragseal keys rotate`` still open on both;
- a rate limit is counted once for both;
- ``ragseal audit verify`` covers every writer (the CLI runs and both servers);
- a document erased through A is refused by B at its next request.

Real components: PostgreSQL (scripts/postgres.sh), Presidio, MiniLM, AES-GCM,
Qdrant Edge on disk, uvicorn in two processes.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from ragseal.api._auth import mint_token
from ragseal.classification import default_policy

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RAGSEAL = [sys.executable, "-m", "ragseal.api.cli"]
SECRET = "replica-test-secret-" + "x" * 32
RATE = 12  # per principal and minute, all replicas together
DOC = ("Robotics all-hands agenda.\n\nThe warehouse robot demo is on Friday at noon in "
       "hall B. The roadmap review follows the demo.\n")
QUERY = "when is the warehouse robot demo"


def _people(sub: str, role: str = "employee") -> dict[str, object]:
    return {"sub": f"{sub}@acme", "tenant": "acme", "groups": ["all-staff"], "roles": [role]}


@dataclass
class Replicas:
    url: str
    env: dict[str, str]
    a: str
    b: str
    data_a: Path

    def cli(self, *argv: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "RAGSEAL_DATA_DIR": str(data_dir or self.data_a)}
        done = subprocess.run([*RAGSEAL, *argv], env=env, capture_output=True, text=True,  # noqa: S603 - our own command
                              timeout=900, cwd=ROOT, check=False)
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
        return done


def _call(base: str, method: str, path: str, who: dict[str, object], body: object = None,
          content_type: str = "application/json") -> tuple[int, dict[str, object]]:
    data = None if body is None else (
        body.encode() if isinstance(body, str) else json.dumps(body).encode())
    request = urllib.request.Request(  # noqa: S310 - http to loopback
        f"{base}{path}", data=data, method=method,
        headers={"Authorization": f"Bearer {mint_token(SECRET, **who)}",  # type: ignore[arg-type]
                 "content-type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=120) as r:  # noqa: S310 - http to loopback
            raw = r.read()
            return r.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str], data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    proc = subprocess.Popen([*RAGSEAL, "serve", "--port", str(port)],  # noqa: S603 - our own command
                            env={**env, "RAGSEAL_DATA_DIR": str(data_dir)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stderr is not None
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            pytest.fail(f"serve exited {proc.returncode}")
        if line.startswith("ragseal: serving on"):
            return proc, f"http://127.0.0.1:{port}"
    pytest.fail("serve did not start")


@pytest.fixture(scope="module")
def replicas(postgres_url_module: str, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Replicas]:
    root = tmp_path_factory.mktemp("replicas")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "agenda.txt").write_text(DOC)
    (corpus / "acl.yaml").write_text(
        "defaults:\n  tenant: acme\n  groups: [all-staff]\n  level: internal\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGSEAL_")}
    env.update(RAGSEAL_DATABASE_URL=postgres_url_module, RAGSEAL_JWT_SECRET=SECRET,
               RAGSEAL_MASTER_KEY=base64.b64encode(os.urandom(32)).decode(),
               RAGSEAL_RATE_LIMIT_PER_MINUTE=str(RATE))
    data_a, data_b = root / "a", root / "b"
    for data_dir in (data_a, data_b):  # the same document in each replica's own store
        done = subprocess.run(  # noqa: S603 - our own command
            [*RAGSEAL, "ingest", str(corpus), "--manifest", str(corpus / "acl.yaml"),
             "--workers", "1"], env={**env, "RAGSEAL_DATA_DIR": str(data_dir)},
            capture_output=True, text=True, timeout=900, cwd=ROOT, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
    proc_a, url_a = _serve(env, data_a)
    try:
        proc_b, url_b = _serve(env, data_b)
        try:
            yield Replicas(postgres_url_module, env, url_a, url_b, data_a)
        finally:
            proc_b.terminate()
            proc_b.wait(timeout=60)
    finally:
        proc_a.terminate()
        proc_a.wait(timeout=60)


def _retrieve(base: str, sub: str) -> tuple[int, dict[str, object]]:
    return _call(base, "POST", "/v1/retrieve", _people(sub), {"query": QUERY, "top_k": 3})


def test_when_a_retrieval_id_comes_from_one_replica_then_the_other_verifies_it(
        replicas: Replicas) -> None:
    status, body = _retrieve(replicas.a, "ids")
    assert status == 200 and body["chunks"], body
    answer = "The demo is on Friday at noon."
    status, checked = _call(replicas.b, "POST", "/v1/inspect", _people("ids"),
                            {"answer": answer, "retrieval_id": body["retrieval_id"]})
    assert status == 200, checked
    status, _ = _call(replicas.b, "POST", "/v1/inspect", _people("ids"),
                      {"answer": answer, "retrieval_id": "not-a-retrieval-id"})
    assert status >= 400


def test_when_a_policy_is_pushed_to_one_replica_then_the_other_applies_it_within_5s(
        replicas: Replicas) -> None:
    steward = _people("steward", "steward")
    status, before = _call(replicas.b, "GET", "/v1/policy", steward)
    assert status == 200 and before["version"] == 0, before
    status, pushed = _call(replicas.a, "PUT", "/v1/policy", steward,
                           yaml.safe_dump(default_policy().to_json()), "application/yaml")
    assert status == 200 and pushed["version"] == 1, pushed
    deadline = time.monotonic() + 5.0
    seen = 0
    while time.monotonic() < deadline:
        status, after = _call(replicas.b, "GET", "/v1/policy", steward)
        seen = int(after.get("version", 0))  # type: ignore[call-overload]
        if seen == 1:
            break
        time.sleep(0.2)
    assert seen == 1


def test_when_keys_are_rotated_then_both_replicas_open_the_document(replicas: Replicas) -> None:
    done = replicas.cli("keys", "rotate")
    assert done.returncode == 0, done.stderr
    status = replicas.cli("keys", "status", "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["active_version"] == 2
    for base in (replicas.a, replicas.b):
        code, body = _retrieve(base, "rotate")
        assert code == 200 and body["chunks"], body


def test_when_a_principal_calls_both_replicas_then_the_rate_limit_is_counted_once(
        replicas: Replicas) -> None:
    codes = [_retrieve((replicas.a, replicas.b)[i % 2], "limited")[0] for i in range(2 * RATE)]
    allowed = codes.count(200)
    # One bucket for both: RATE, plus what refilled meanwhile (RATE/60 per second);
    # per-replica buckets would have let all 2 * RATE through.
    assert RATE <= allowed < 2 * RATE - 4, codes
    assert set(codes) == {200, 429}
    assert 429 in codes[1::2] and 429 in codes[0::2]  # refused on both replicas


def test_when_audit_is_verified_then_every_writer_is_covered(replicas: Replicas) -> None:
    done = replicas.cli("audit", "verify", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    # Two ingest runs, two servers, the CLI's rotate/status/verify: one chain each.
    assert report["chains"] >= 4
    exported = replicas.cli("audit", "export")
    replicas_seen = {json.loads(line)["replica"] for line in exported.stdout.splitlines()}
    assert len(replicas_seen) == report["chains"]


def test_when_a_document_is_erased_on_one_replica_then_the_other_refuses_it_at_once(
        replicas: Replicas) -> None:
    status, body = _retrieve(replicas.b, "erase")
    assert status == 200 and body["chunks"], body
    doc_id = body["chunks"][0]["doc_id"]  # type: ignore[index]
    status, _ = _call(replicas.a, "DELETE", f"/v1/documents/{doc_id}",
                      _people("erase", "ingestor"))
    assert status == 204
    status, after = _retrieve(replicas.b, "erase")  # B's store still holds the points
    assert status == 200
    assert all(c["doc_id"] != doc_id for c in after["chunks"])  # type: ignore[union-attr]
