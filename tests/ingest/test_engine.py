"""``ragseal ingest --engine dask``: same result as one process, crash-safe.

Fast cases check what is refused before anything loads (a missing engine
package, a plaintext or malformed address, missing TLS files). The slow
ones run the real pipeline on a real Dask cluster:

- the sample corpus through the CLI on a local cluster equals a
  one-process run of the same installation secrets (point ids, payloads
  but the ciphertext, opened plaintexts, data keys, the JSON report);
- benchmarks/crash.py's scenarios on a mutual-TLS cluster in its own
  process (tests/ingest/_engine_cluster.py), the driver a separate process
  (tests/ingest/_engine_driver.py): SIGKILL of the driver at several
  durable writes, then a rerun, converges to the uninterrupted result;
  SIGKILL of every worker mid-run is absorbed (Dask reruns their tasks and
  recomputes lost inputs) and the run itself ends with that result.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
from ragseal.ingest._engine import EngineConfig, EngineError, check_engine

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks import crash  # noqa: E402

HERE = Path(__file__).resolve().parent
SAMPLES = ROOT / "samples" / "corpus"


# -- refused before anything loads -----------------------------------------------------


@pytest.mark.parametrize(("config", "expected"), [
    (EngineConfig(address="tcp://10.1.2.3:8786"), "is plaintext"),
    (EngineConfig(address="10.1.2.3:8786"), "is plaintext"),
    (EngineConfig(address="tls://10.1.2.3:8786"), "needs --engine-tls-ca"),
    (EngineConfig(address="ws://10.1.2.3:8786"), "scheme 'ws'"),
    (EngineConfig(address="tls://:8786", tls_ca=Path("a"), tls_cert=Path("b"),
                  tls_key=Path("c")), "expected tls://HOST:PORT"),
    (EngineConfig(tls_ca=Path("ca.pem")), "need --engine-address"),
    (EngineConfig(address="tcp://10.1.2.3:8786", allow_plaintext=True, tls_ca=Path("x")),
     "need a tls:// address"),
    (EngineConfig(name="ray"), "not one of dask"),
])
def test_when_the_engine_options_are_unsafe_or_malformed_then_they_are_refused(
    config: EngineConfig, expected: str,
) -> None:
    with pytest.raises(EngineError, match=expected):
        check_engine(config)


def test_when_tls_files_are_missing_then_the_address_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("x")
    config = EngineConfig(address="tls://10.1.2.3:8786", tls_ca=tmp_path / "ca.pem",
                          tls_cert=tmp_path / "cert.pem", tls_key=tmp_path / "key.pem")
    with pytest.raises(EngineError, match="does not exist"):
        check_engine(config)


def test_when_plaintext_is_explicitly_allowed_then_the_address_is_accepted() -> None:
    check_engine(EngineConfig(address="tcp://127.0.0.1:8786", allow_plaintext=True))
    check_engine(EngineConfig())  # a local cluster (mutual TLS on loopback)


def _cli(argv: list[str]) -> tuple[int, str, str]:
    from ragseal.api.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_when_the_engine_package_is_missing_then_ingest_exits_2_before_loading_anything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    import ragseal.ingest._engine as engine

    real = engine.find_spec
    monkeypatch.setattr(engine, "find_spec",
                        lambda name: None if name == "distributed" else real(name))
    data = tmp_path / "data"
    monkeypatch.setenv("RAGSEAL_DATA_DIR", str(data))
    code, out, err = _cli(["ingest", str(SAMPLES), "--manifest", str(SAMPLES / "acl.yaml"),
                           "--engine", "dask"])
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "ragseal: --engine dask needs the 'dask' extra: pip install 'ragseal[dask]'"]
    assert not data.exists()  # no keyring, no store, no model


def test_when_a_plaintext_address_is_given_then_ingest_exits_2_before_loading_anything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("RAGSEAL_DATA_DIR", str(data))
    code, _, err = _cli(["ingest", str(SAMPLES), "--manifest", str(SAMPLES / "acl.yaml"),
                         "--engine", "dask", "--engine-address", "tcp://10.1.2.3:8786"])
    assert code == 2 and "is plaintext" in err and len(err.strip().splitlines()) == 1
    assert not data.exists()


def test_when_engine_options_come_without_engine_then_ingest_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.setenv("RAGSEAL_DATA_DIR", str(tmp_path / "data"))
    code, _, err = _cli(["ingest", str(SAMPLES), "--manifest", str(SAMPLES / "acl.yaml"),
                         "--engine-address", "tls://h:1"])
    assert code == 2 and "need --engine" in err


def test_what_crosses_to_workers_never_shows_its_secrets_or_text() -> None:
    from ragseal.classification import Pseudonymizer, default_policy
    from ragseal.ingest._work import DocumentWork
    from ragseal.store import IdHasher

    canary = b"CANARY-SECRET-0123456789abcdef!!"
    work = DocumentWork(policy=default_policy(), classifier=None, chunker=None,  # type: ignore[arg-type]
                        embedder=None, ids=IdHasher(canary),  # type: ignore[arg-type]
                        pseudonyms=Pseudonymizer(canary))
    spec = work.spec()
    assert "CANARY" not in repr(spec) and "CANARY" not in str(spec)
    assert spec.policy_fingerprint == default_policy().fingerprint


# -- the real pipeline on a real cluster (slow) ----------------------------------------

MASTER_B64 = base64.b64encode(crash.MASTER_KEY).decode()


def _keyring_with_secrets(keys_dir: Path) -> None:
    """The same installation secrets in every copy: ids, pseudonyms, fingerprints."""
    from ragseal.store import LocalKeyring

    ring = LocalKeyring(keys_dir, crash.MASTER_KEY)
    for purpose in ("ids", "pseudonyms", "fingerprints"):
        ring.secret(purpose)
    ring.close()


def _ingest_cli(data: Path, *extra: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGSEAL_")}
    env.update(RAGSEAL_DATA_DIR=str(data), RAGSEAL_MASTER_KEY=MASTER_B64)
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-c", "from ragseal.api.cli import main; raise SystemExit(main())",
         "ingest", str(SAMPLES), "--manifest", str(SAMPLES / "acl.yaml"), "--json", *extra],
        env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    report: dict[str, object] = json.loads(done.stdout)
    report.pop("seconds")
    return report


@pytest.mark.slow
def test_when_the_sample_corpus_is_ingested_on_a_local_cluster_then_it_equals_one_process(
    tmp_path: Path,
) -> None:
    one, engine = tmp_path / "one", tmp_path / "engine"
    _keyring_with_secrets(one / "keys")
    shutil.copytree(one, engine)
    want = _ingest_cli(one, "--workers", "1")
    got = _ingest_cli(engine, "--engine", "dask", "--workers", "2")
    assert got == want
    assert got["written"] == len(got["documents"]) > 10  # type: ignore[arg-type]
    store = Path("store") / "ragseal_chunks"
    assert crash.snapshot(engine, engine / store) == crash.snapshot(one, one / store)
    # unchanged files: nothing starts, nothing is written
    again = _ingest_cli(engine, "--engine", "dask", "--engine-address", "tls://10.9.9.9:1",
                        "--engine-tls-ca", str(SAMPLES / "acl.yaml"),
                        "--engine-tls-cert", str(SAMPLES / "acl.yaml"),
                        "--engine-tls-key", str(SAMPLES / "acl.yaml"))
    assert again["written"] == 0 and again["unchanged"] == want["written"]


@dataclass
class Cluster:
    folder: Path
    process: subprocess.Popen[str]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("engine-cluster")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(HERE / "_engine_cluster.py"), str(folder), "2"],
        stdin=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not (folder / "address").exists():
            assert process.poll() is None, "the cluster did not start"
            assert time.monotonic() < deadline, "the cluster did not start in 300 s"
            time.sleep(0.5)
        yield Cluster(folder, process)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass
class Scenario:
    start: Path
    corpus: Path
    expected: dict[str, object]
    report: dict[str, object]
    checkpoints: int


def _drive(state: Path, corpus: Path, cluster: Cluster,
           *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(HERE / "_engine_driver.py"), str(state), str(corpus),
         str(cluster.folder), *flags],
        capture_output=True, text=True, timeout=900, check=False)


def _finish(state: Path, corpus: Path, cluster: Cluster) -> dict[str, object]:
    done = _drive(state, corpus, cluster)
    assert done.returncode == 0, done.stderr[-2000:]
    out: dict[str, object] = json.loads(done.stdout)
    return out


@pytest.fixture(scope="module")
def scenarios(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Scenario]:
    work = tmp_path_factory.mktemp("engine-crash")
    empty = work / "empty"
    _keyring_with_secrets(empty / "keys")
    v1 = crash.write_corpus(work / "v1", updated=False)
    v2 = crash.write_corpus(work / "v2", updated=True)
    after_v1, after_v2 = work / "after-v1", work / "after-v2"
    shutil.copytree(empty, after_v1)
    first = _finish(after_v1, v1, cluster)
    shutil.copytree(after_v1, after_v2)
    second = _finish(after_v2, v2, cluster)
    return {
        "fresh": Scenario(empty, v1, crash.snapshot(after_v1), first["report"],  # type: ignore[arg-type]
                          int(first["checkpoints"])),  # type: ignore[call-overload]
        "update": Scenario(after_v1, v2, crash.snapshot(after_v2), second["report"],  # type: ignore[arg-type]
                           int(second["checkpoints"])),  # type: ignore[call-overload]
    }


@pytest.mark.slow
def test_when_the_driver_is_killed_at_a_durable_write_then_a_rerun_converges(
    cluster: Cluster, scenarios: dict[str, Scenario], tmp_path: Path,
) -> None:
    fresh, update = scenarios["fresh"], scenarios["update"]
    assert fresh.checkpoints >= 12 and update.checkpoints >= 4
    # The first key, a first upsert, a switch mid-run, the last write; in an
    # update, the replacement's writes and the sync erase.
    plan = [("fresh", n) for n in sorted({1, 3, 4, fresh.checkpoints // 2,
                                          fresh.checkpoints})]
    plan += [("update", n) for n in range(1, update.checkpoints + 1, 3)]
    failures = []
    for name, n in plan:
        sc = scenarios[name]
        state = tmp_path / f"{name}-{n}"
        shutil.copytree(sc.start, state)
        killed = _drive(state, sc.corpus, cluster, "--kill-driver", str(n))
        if killed.returncode != -signal.SIGKILL:
            failures.append(f"{name} at {n}: not killed ({killed.returncode})")
            continue
        _finish(state, sc.corpus, cluster)
        got = crash.snapshot(state)
        if got != sc.expected:
            failures.append(f"{name} at {n}: {crash.describe_difference(got, sc.expected)}")
    assert failures == []


@pytest.mark.slow
def test_when_every_worker_is_killed_mid_run_then_the_run_itself_converges(
    cluster: Cluster, scenarios: dict[str, Scenario], tmp_path: Path,
) -> None:
    fresh = scenarios["fresh"]
    state = tmp_path / "workers-killed"
    shutil.copytree(fresh.start, state)
    done = _drive(state, fresh.corpus, cluster, "--kill-workers", "1")
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    assert out["report"] == fresh.report  # nothing refused, same documents
    assert crash.snapshot(state) == fresh.expected
