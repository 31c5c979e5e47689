"""Every core serves (issue 19): retrieve and inspect in worker processes.

A real :class:`CorePool` of two spawned workers over the session's ingested
corpus, reaching the store through the owner socket as ``ragseal serve``
runs them: the answers equal the in-process ones, errors keep their kind,
and the HTTP routes keep authentication, audit and the probing guard in the
server process.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from ragseal.api._app import create_app
from ragseal.api._beside import store_channel
from ragseal.api._cores import CorePool
from ragseal.retrieval import Principal, RetrievalIdError
from ragseal.store import read_audit

from .conftest import World, bearer

pytestmark = pytest.mark.slow

HR = Principal(sub="hrp@acme.example", tenant="acme", groups=("hr", "all-staff"),
               roles=("hr",))
EMPLOYEE = Principal(sub="emp@acme.example", tenant="acme", groups=("all-staff",),
                     roles=("employee",))
QUERY = "Who is the HR partner for engineering?"


@pytest.fixture(scope="module")
def pool(world: World) -> Iterator[CorePool]:
    channel = store_channel(world.services)  # the server's owner socket
    cores = CorePool(world.settings, 2, remote_store=True)
    cores.start()
    yield cores
    cores.close()
    channel.close()


def test_when_a_worker_retrieves_then_the_answer_equals_the_server_process_one(
    world: World, pool: CorePool,
) -> None:
    here = world.services.for_tenant("acme").retriever.retrieve(HR, QUERY, 5)
    there = pool.retrieve(HR, QUERY, 5, pseudonymize=False, version=0)
    assert [(c.chunk_id, c.text, c.masked) for c in there.chunks] == [
        (c.chunk_id, c.text, c.masked) for c in here.chunks]
    assert there.chunks and there.context
    # The worker's retrieval id is the server's kind: inspect here accepts it.
    answer = " ".join(c.text for c in there.chunks[:1])
    local = world.services.for_tenant("acme").inspector.inspect(HR, answer, there.retrieval_id)
    remote = pool.inspect(HR, answer, there.retrieval_id, version=0)
    assert (remote.verdict, remote.answer, remote.findings) == (
        local.verdict, local.answer, local.findings)


def test_when_a_retrieval_id_is_another_principals_then_the_worker_refuses_it(
    pool: CorePool,
) -> None:
    mine = pool.retrieve(HR, QUERY, 3, pseudonymize=False, version=0)
    with pytest.raises(RetrievalIdError):
        pool.inspect(EMPLOYEE, "anything", mine.retrieval_id, version=0)


def test_when_the_routes_use_the_pool_then_auth_audit_and_answers_hold(
    world: World, pool: CorePool,
) -> None:
    app = create_app(world.settings, world.services)
    with TestClient(app) as client:
        app.state.cores = pool
        assert client.post("/v1/retrieve", json={"query": QUERY}).status_code == 401
        headers = bearer(sub=HR.sub, tenant="acme", groups=list(HR.groups),
                         roles=list(HR.roles))
        r = client.post("/v1/retrieve", json={"query": QUERY, "top_k": 3}, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["chunks"]
        r = client.post("/v1/inspect", headers=headers, json={
            "answer": body["chunks"][0]["text"], "retrieval_id": body["retrieval_id"]})
        assert r.status_code == 200 and r.json()["verdict"] in {"allow", "redact", "block"}
        other = bearer(sub=EMPLOYEE.sub, tenant="acme", groups=["all-staff"],
                       roles=["employee"])
        r = client.post("/v1/inspect", headers=other, json={
            "answer": "x", "retrieval_id": body["retrieval_id"]})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_retrieval_id"
    # Audited once, by the server process (the workers write no audit chain).
    records = read_audit(world.data_dir / "audit")
    assert [r["action"] for r in records][-3:] == ["retrieve", "inspect", "inspect"]
    assert len({r["replica"] for r in records[-3:]}) == 1
