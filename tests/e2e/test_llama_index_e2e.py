"""A real RetrieverQueryEngine with LlamaIndex's MockLLM over RagsealRetriever, wrapped by
RagsealQueryEngine, against the API under uvicorn.

MockLLM (no max_tokens) answers with its whole prompt: the context it was given and
the question. So the answer shows exactly what the LLM saw, and a question that
carries a value above the user's clearance makes a leaking answer to catch."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from ragseal_client.llama_index import RagsealQueryEngine, RagsealRetriever

from ._live import ALL_HANDS, EMPLOYEE, HR, NAME, ragseal_app, serve, token
from .conftest import World

pytestmark = pytest.mark.slow

SSN = "143-82-6604"


@pytest.fixture(scope="module")
def url(world: World) -> Iterator[str]:
    with serve(ragseal_app(world, rate_limit_per_minute=0)) as base:
        yield base


def engines(url: str, who: dict[str, Any]) -> tuple[RetrieverQueryEngine, RagsealQueryEngine]:
    def tok() -> str:
        return token(**who)

    inner = RetrieverQueryEngine.from_args(RagsealRetriever(base_url=url, token=tok),
                                           llm=MockLLM())
    return inner, RagsealQueryEngine(inner, base_url=url, token=tok)


def test_nodes_carry_the_contract_metadata_hidden_from_the_llm(url: str) -> None:
    nodes = RagsealRetriever(base_url=url, token=token(**EMPLOYEE), top_k=2).retrieve(ALL_HANDS)
    assert 1 <= len(nodes) <= 2
    meta = nodes[0].node.metadata
    assert {"chunk_id", "doc_id", "score", "level", "masked", "retrieval_id"} <= set(meta)
    assert "retrieval_id" in nodes[0].node.excluded_llm_metadata_keys


def test_employee_engine_sees_masked_context(url: str) -> None:
    inner, engine = engines(url, EMPLOYEE)
    raw = str(inner.query(ALL_HANDS))
    assert NAME not in raw and "<PERSON_" in raw  # what the LLM saw
    response = engine.query(ALL_HANDS)
    assert NAME not in str(response)
    assert response.metadata is not None and response.metadata["ragseal"]["verdict"] in (
        "allow", "redact")


def test_hr_engine_reads_clear_names(url: str) -> None:
    _, engine = engines(url, HR)
    response = engine.query(ALL_HANDS)
    assert NAME in str(response)  # HR may unmask PERSON: the inspected answer keeps it


def test_a_leaking_answer_is_caught(url: str) -> None:
    inner, engine = engines(url, EMPLOYEE)
    question = f"Whose SSN is {SSN}? {ALL_HANDS}"
    assert SSN in str(inner.query(question))  # the echoing LLM leaks it
    response = asyncio.run(engine.aquery(question))
    assert SSN not in str(response)
    assert response.metadata is not None
    assert response.metadata["ragseal"]["verdict"] in ("redact", "block")
