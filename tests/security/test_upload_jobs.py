"""Issue 14, items 7 and 10: an upload is done (201) or accepted (202 + job), never a
misleading error; its identity is explicit, and a clash is a 409, not an overwrite.

The job protocol is exercised with a controllable ingestor (it blocks until
the test lets it go) in front of the real route, runner, id hasher and
job registry; the real pipeline behind it is the end-to-end suite's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ragseal.api._app import create_app
from ragseal.api._settings import Settings
from ragseal.ingest import FilePlan, IngestResult, LoadedDocument
from ragseal.store import IdHasher

from tests.security.test_limits import (
    INGESTOR,
    SECRET,
    StubServices,
    assert_error,
    bearer,
)

OTHER_INGESTOR = dict(sub="other-bot@acme.example", tenant="acme", groups=["all-staff"],
                      roles=["ingestor"])
GLOBEX_INGESTOR = dict(sub="bot@globex.example", tenant="globex", groups=["staff"],
                       roles=["ingestor"])


class _Keys:
    def __init__(self) -> None:
        self.current: dict[tuple[str, str], str] = {}

    def current_version(self, doc_id: str, tenant: str) -> str | None:
        return self.current.get((doc_id, tenant))


@dataclass
class _Ingestor:
    """Plans like the real one (version = content), stores by doc id, can be held."""

    keys: _Keys
    release: threading.Event = field(default_factory=threading.Event)
    stored: dict[str, tuple[str, str]] = field(default_factory=dict)  # doc_id -> (text, version)

    def plan_file(self, path: Path, *, source: str, acl: Any) -> FilePlan | IngestResult:
        self.release.wait(60)
        doc_id = IDS.doc_id(acl.tenant, source)
        version = IDS.keyed_hash("version", path.read_text() + repr(acl))
        if self.keys.current.get((doc_id, acl.tenant)) == version:
            return IngestResult(doc_id=doc_id, tenant=acl.tenant, chunks=1, level="internal",
                                unchanged=True)
        return FilePlan(doc_id=doc_id, version=version, started=time.perf_counter())

    def ingest_planned(self, plan: FilePlan, text: str, *, source: str, acl: Any,
                       hidden: Any = ()) -> IngestResult:
        self.stored[plan.doc_id] = (text, plan.version)
        self.keys.current[(plan.doc_id, acl.tenant)] = plan.version
        return IngestResult(doc_id=plan.doc_id, tenant=acl.tenant, chunks=1, level="internal")


class _Sandbox:
    def load(self, path: Path, *, deadline: float, cancelled: threading.Event) -> LoadedDocument:
        return LoadedDocument(text=path.read_text(), format="text")

    def close(self) -> None: ...


IDS = IdHasher(b"k" * 32)


@dataclass
class UploadServices(StubServices):
    keys: _Keys = field(default_factory=_Keys)
    ingestor: _Ingestor = field(init=False)

    def __post_init__(self) -> None:
        self.ids = IDS  # type: ignore[assignment]
        self.ingestor = _Ingestor(self.keys)
        self.ingestor.release.set()


@pytest.fixture
def services() -> UploadServices:
    return UploadServices()


@pytest.fixture
def client(services: UploadServices) -> Iterator[TestClient]:
    app = create_app(Settings(jwt_secret=SECRET, upload_wait_seconds=0.5),
                     services)  # type: ignore[arg-type]
    with TestClient(app) as c:
        app.state.uploads.sandbox = _Sandbox()
        yield c


def upload(client: TestClient, text: str, who: dict[str, Any] | None = None,
           name: str = "report.txt", **form: str) -> Any:
    return client.post("/v1/documents", files={"file": (name, text.encode(), "text/plain")},
                       data=form, headers=bearer(**(who or INGESTOR)))


def wait_for_job(client: TestClient, url: str, who: dict[str, Any]) -> dict[str, Any]:
    for _ in range(400):
        body: dict[str, Any] = client.get(url, headers=bearer(**who)).json()
        if body["status"] != "running":
            return body
        time.sleep(0.05)
    raise AssertionError("job never finished")


# --- item 7: 201 when done, 202 + job when not, never a 503 for work that happens ---


def test_when_ingest_finishes_within_wait_then_201_with_contract_fields(
    client: TestClient
) -> None:
    r = upload(client, "quarterly figures")
    assert r.status_code == 201, r.text
    assert {"doc_id", "chunks", "level"} <= r.json().keys()


def test_when_ingest_outlasts_wait_then_202_and_job_reports_the_outcome(
    client: TestClient, services: UploadServices
) -> None:
    services.ingestor.release.clear()
    r = upload(client, "a long document")
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert accepted["status"] == "running"
    assert accepted["status_url"] == f"/v1/jobs/{accepted['job_id']}"
    assert client.get(accepted["status_url"], headers=bearer(**INGESTOR)).json()[
        "status"] == "running"
    services.ingestor.release.set()
    done = wait_for_job(client, accepted["status_url"], INGESTOR)
    assert done["status"] == "done"
    assert done["doc_id"] == accepted["doc_id"] and done["chunks"] == 1
    assert services.ingestor.stored[accepted["doc_id"]][0] == "a long document"


def test_when_job_asked_by_another_tenant_then_404(client: TestClient,
                                                   services: UploadServices) -> None:
    services.ingestor.release.clear()
    url = upload(client, "tenant data").json()["status_url"]
    assert_error(client.get(url, headers=bearer(**GLOBEX_INGESTOR)), 404, "not_found")
    assert_error(client.get("/v1/jobs/nope", headers=bearer(**INGESTOR)), 404, "not_found")
    services.ingestor.release.set()
    wait_for_job(client, url, INGESTOR)


# --- item 10: explicit identity; a clash is refused unless replace=true -------------


def test_when_two_ingestors_upload_same_name_then_both_documents_survive(
    client: TestClient, services: UploadServices
) -> None:
    first = upload(client, "Alice's report, users: alice", INGESTOR)
    second = upload(client, "Bob's report, users: bob", OTHER_INGESTOR)
    assert first.status_code == second.status_code == 201
    assert first.json()["doc_id"] != second.json()["doc_id"]
    texts = {text for text, _ in services.ingestor.stored.values()}
    assert texts == {"Alice's report, users: alice", "Bob's report, users: bob"}


def test_when_same_content_uploaded_again_then_same_id_unchanged(client: TestClient) -> None:
    first = upload(client, "same bytes")
    again = upload(client, "same bytes", name="renamed.txt")
    assert first.json()["doc_id"] == again.json()["doc_id"]
    assert again.status_code == 201


def test_when_client_doc_id_clashes_with_other_content_then_409_unless_replace(
    client: TestClient, services: UploadServices
) -> None:
    first = upload(client, "version one", doc_id="q3-report")
    assert first.status_code == 201
    clash = upload(client, "someone else's text", OTHER_INGESTOR, doc_id="q3-report")
    assert_error(clash, 409, "conflict")
    doc_id = first.json()["doc_id"]
    assert services.ingestor.stored[doc_id][0] == "version one"
    replaced = upload(client, "version two", doc_id="q3-report", replace="true")
    assert replaced.status_code == 201 and replaced.json()["doc_id"] == doc_id
    assert services.ingestor.stored[doc_id][0] == "version two"


@pytest.mark.parametrize("doc_id", ["../etc/passwd", "a b", "x" * 129, "ü-id", "-lead"])
def test_when_client_doc_id_malformed_then_422(client: TestClient, doc_id: str) -> None:
    r = upload(client, "text", doc_id=doc_id)
    assert r.status_code == 422, r.text
