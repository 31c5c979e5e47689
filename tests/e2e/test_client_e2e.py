"""ragseal-client against the real API under uvicorn, over the ingested sample corpus:
typed answers for every route that exists, contract errors as exceptions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from ragseal_client import (
    AsyncRagsealClient,
    AuthenticationError,
    Document,
    InvalidRequestError,
    InvalidRetrievalIdError,
    NotFoundError,
    PermissionDeniedError,
    RagsealClient,
    RateLimitedError,
    UnsupportedTypeError,
)

from ._live import ALL_HANDS, EMPLOYEE, HR, NAME, ragseal_app, serve, token
from .conftest import World

pytestmark = pytest.mark.slow

INGESTOR = dict(sub="ing@acme.example", tenant="acme", groups=["all-staff"], roles=["ingestor"])
STEWARD = dict(sub="stw@acme.example", tenant="acme", groups=["all-staff"], roles=["steward"])


@pytest.fixture(scope="module")
def url(world: World) -> Iterator[str]:
    with serve(ragseal_app(world, rate_limit_per_minute=0)) as base:
        yield base


@pytest.fixture(scope="module")
def client(url: str) -> Iterator[RagsealClient]:
    with RagsealClient(url) as c:
        yield c


def test_retrieve_shows_each_user_what_it_may_see(client: RagsealClient,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    as_employee = client.retrieve(ALL_HANDS, token=token(**EMPLOYEE))
    as_hr = client.retrieve(ALL_HANDS, top_k=5, token=token(**HR))
    assert as_employee.chunks and as_employee.retrieval_id and as_employee.context
    assert not any(NAME in c.text for c in as_employee.chunks)
    assert any("PERSON" in c.masked for c in as_employee.chunks)
    assert any(NAME in c.text for c in as_hr.chunks)
    assert all(c.injection is not None for c in as_hr.chunks)
    assert ALL_HANDS not in caplog.text and NAME not in repr(as_hr)


def test_inspect_redacts_and_blocks(client: RagsealClient) -> None:
    tok = token(**EMPLOYEE)
    rid = client.retrieve(ALL_HANDS, token=tok).retrieval_id
    redacted = client.inspect(f"The meeting is run by {NAME}.", rid, token=tok)
    assert redacted.verdict == "redact" and NAME not in redacted.answer
    assert redacted.findings[0].type == "PERSON"
    blocked = client.inspect("Use AKIAQ3EGRJ5KZXMBT7WN to deploy.", token=tok)
    assert blocked.verdict == "block" and "AKIA" not in blocked.answer
    assert client.inspect("Fine.", rid, token=tok).allowed


def test_upload_then_delete_as_ingestor(client: RagsealClient) -> None:
    tok = token(**INGESTOR)
    doc = client.upload(b"Client library upload check: the canteen opens at 8.",
                        filename="client-check.txt", acl={"groups": ["all-staff"],
                                                          "level": "internal"}, token=tok)
    assert isinstance(doc, Document) and doc.chunks >= 1 and doc.level == "internal"
    client.delete(doc.doc_id, token=tok)
    with pytest.raises(NotFoundError):
        client.delete(doc.doc_id, token=tok)


@pytest.mark.parametrize("call,error", [
    (lambda c: c.retrieve("x", token="not-a-jwt"), AuthenticationError),
    (lambda c: c.upload(b"x", filename="a.txt", token=token(**EMPLOYEE)), PermissionDeniedError),
    (lambda c: c.upload(b"MZ", filename="a.exe", token=token(**INGESTOR)), UnsupportedTypeError),
    (lambda c: c.retrieve("x", top_k=0, token=token(**EMPLOYEE)), InvalidRequestError),
    (lambda c: c.inspect("x", "forged", token=token(**EMPLOYEE)), InvalidRetrievalIdError),
    (lambda c: c.get_policy(token=token(**EMPLOYEE)), PermissionDeniedError),
    (lambda c: c.release("no-such-doc", token=token(**STEWARD)), NotFoundError),
])
def test_contract_errors_raise_their_exception(client: RagsealClient, call: object,
                                               error: type[Exception]) -> None:
    with pytest.raises(error):
        call(client)  # type: ignore[operator]


def test_steward_reads_policy_and_quarantine(client: RagsealClient) -> None:
    tok = token(**STEWARD)
    policy = client.get_policy(token=tok)
    assert "levels" in policy.document
    assert isinstance(client.quarantine(token=tok).documents, list)


def test_steward_policy_versions_rollback_and_quarantine_a_document(
    client: RagsealClient,
) -> None:
    tok = token(**STEWARD)
    current = client.get_policy(token=tok)
    versions = client.policy_versions(token=tok)
    assert versions and all(v.fingerprint for v in versions)
    rolled = client.rollback_policy(versions[-1].version, token=tok)
    assert rolled.version is not None and rolled.version >= (current.version or 0)
    ingestor = token(**INGESTOR)
    doc = client.upload(b"A note to hold for review.", filename="hold-me.txt",
                        acl={"groups": ["all-staff"]}, token=ingestor)
    assert isinstance(doc, Document)
    assert client.quarantine_document(doc.doc_id, token=tok).quarantined >= 1
    assert client.release(doc.doc_id, token=tok).released >= 1
    client.delete(doc.doc_id, token=ingestor)


def test_rate_limit_is_raised_with_retry_after_when_beyond_the_cap(world: World) -> None:
    with serve(ragseal_app(world, rate_limit_per_minute=1)) as base, \
            RagsealClient(base, token=lambda: token(**EMPLOYEE), max_retry_wait=0.5) as c:
        c.inspect("Fine.")
        with pytest.raises(RateLimitedError) as info:
            c.inspect("Fine.")
    assert info.value.retry_after is not None and info.value.retry_after >= 1


def test_async_client_with_a_token_provider(url: str) -> None:
    async def provider() -> str:
        return token(**HR)

    async def main() -> tuple[bool, str]:
        async with AsyncRagsealClient(url, token=provider) as c:
            r = await c.retrieve(ALL_HANDS)
            verdict = (await c.inspect(f"Run by {NAME}.", r.retrieval_id)).verdict
            return any(NAME in ch.text for ch in r.chunks), verdict

    assert asyncio.run(main()) == (True, "allow")
