"""Cross-tenant and cross-group probes: queries aimed at forbidden documents.

The queries are sentences taken from the restricted sample documents
themselves (legal, board, HR, finance, runbooks, the other tenant), so a
vector search without the filter would rank exactly those chunks first.
For each of more than twenty principals, the forbidden chunk ids are what
the reference rule (``store.matches`` with ``retrieval.access_filter``)
refuses over the whole store; not one of them may come back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ragseal.api._app import create_app
from ragseal.api._auth import mint_token
from ragseal.api._limits import RateLimiter
from ragseal.ingest import load_document
from ragseal.retrieval import Principal, access_filter
from ragseal.store import matches

from .conftest import JWT_SECRET, World

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
TARGETS = ["corpus/legal", "corpus/board", "corpus/hr", "corpus/finance",
           "corpus/engineering/runbooks", "other-tenant"]
SENTENCES_PER_DOC = 2

P = Principal
PRINCIPALS = [
    # Acme staff without the group or clearance for each sensitive folder.
    P(sub="emp@acme.example", tenant="acme", groups=("all-staff",), roles=("employee",)),
    P(sub="nobody@acme.example", tenant="acme", groups=(), roles=()),
    P(sub="norole@acme.example", tenant="acme", groups=("all-staff",), roles=()),
    P(sub="hrgroup@acme.example", tenant="acme", groups=("hr", "all-staff"), roles=("employee",)),
    P(sub="hrrole@acme.example", tenant="acme", groups=("all-staff",), roles=("hr",)),
    P(sub="fin@acme.example", tenant="acme", groups=("finance", "all-staff"),
      roles=("employee",)),
    P(sub="legalgroup@acme.example", tenant="acme", groups=("legal",), roles=("hr",)),
    P(sub="legalrole@acme.example", tenant="acme", groups=("all-staff",), roles=("legal",)),
    P(sub="exec@acme.example", tenant="acme", groups=("executives",), roles=("hr",)),
    P(sub="eng@acme.example", tenant="acme", groups=("engineering",), roles=("employee",)),
    P(sub="support@acme.example", tenant="acme", groups=("support",), roles=("employee",)),
    P(sub="steward@acme.example", tenant="acme", groups=("all-staff",), roles=("steward",)),
    P(sub="ingestor@acme.example", tenant="acme", groups=("all-staff", "hr"),
      roles=("ingestor",)),
    P(sub="ceo@acme.example", tenant="acme", groups=("all-staff",), roles=("employee",)),
    P(sub="ceo@ACME.example", tenant="acme", groups=("all-staff",), roles=("legal",)),
    P(sub="hrlegal@acme.example", tenant="acme", groups=("hr", "all-staff"), roles=("legal",)),
    # Other tenants, with every group and the highest clearance.
    P(sub="ceo@acme.example", tenant="globex", groups=("executives", "all-staff"),
      roles=("legal",)),
    P(sub="hr@globex.example", tenant="globex", groups=("hr", "all-staff", "legal", "finance",
                                                         "executives"), roles=("legal",)),
    P(sub="emp@globex.example", tenant="globex", groups=("all-staff",), roles=("employee",)),
    P(sub="x@initech.example", tenant="initech", groups=("all-staff", "hr", "legal"),
      roles=("legal",)),
    P(sub="default@acme.example", tenant="default", groups=("all-staff", "hr"),
      roles=("legal",)),
    P(sub="acme", tenant="ACME", groups=("all-staff", "hr", "legal", "executives"),
      roles=("legal",)),
    P(sub="globex-legal@globex.example", tenant="globex", groups=("legal", "hr"),
      roles=("hr", "legal")),
]


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n{2,}", text)
    return [" ".join(p.split()) for p in parts if 40 <= len(" ".join(p.split())) <= 400]


def _probe_queries() -> list[str]:
    queries: list[str] = []
    for folder in TARGETS:
        for path in sorted((SAMPLES / folder).rglob("*")):
            if path.is_file() and path.name != "acl.yaml":
                sentences = _sentences(load_document(path).text)
                step = max(1, len(sentences) // SENTENCES_PER_DOC)
                queries.extend(sentences[::step][:SENTENCES_PER_DOC])
    return queries


@pytest.fixture(scope="module")
def queries() -> list[str]:
    found = _probe_queries()
    assert len(found) >= 20
    return found


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    app = create_app(world.settings, world.services)
    with TestClient(app) as c:
        app.state.rate_limiter = RateLimiter(0)
        yield c


@pytest.fixture(scope="module")
def points(world: World) -> dict[str, dict[str, Any]]:
    return {hit.id: dict(hit.payload) for hit in world.services.store.scroll()}


def test_probe_set_is_big_enough() -> None:
    assert len(PRINCIPALS) >= 20


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: f"{p.tenant}:{p.sub}:{p.roles}")
def test_when_probing_with_forbidden_sentences_then_no_forbidden_chunk(
    client: TestClient, world: World, points: dict[str, dict[str, Any]], queries: list[str],
    principal: Principal,
) -> None:
    access = access_filter(principal, world.services.policy)
    forbidden = {pid for pid, payload in points.items() if not matches(payload, access)}
    assert forbidden  # every probe principal is kept from something
    token = mint_token(JWT_SECRET, sub=principal.sub, tenant=principal.tenant,
                       groups=principal.groups, roles=principal.roles)
    leaked: list[str] = []
    for query in queries:
        r = client.post("/v1/retrieve", json={"query": query[:2000], "top_k": 10},
                        headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        leaked += [c["chunk_id"] for c in r.json()["chunks"] if c["chunk_id"] in forbidden]
        leaked += [c["chunk_id"] for c in r.json()["chunks"] if c["chunk_id"] not in points]
    assert leaked == []
