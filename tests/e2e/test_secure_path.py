"""The secure path's promises, end to end on real components.

- no plaintext at rest (canary values and a canary file name);
- a label edited in the store makes the chunk unservable, logged without content;
- query masking: entitled principals find a person by name, others search
  exactly as if they had typed the type instead of the name;
- erasure: after delete, a restored copy of the store serves nothing of it.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from ragseal.api._container import Services
from ragseal.api._settings import Settings
from ragseal.ingest import ingest_paths, load_manifest
from ragseal.retrieval import Principal

from .conftest import JWT_SECRET, World

CANARY_NAME = "Zebulon Quackenbush"
CANARY_EMAIL = "zebulon.quackenbush@canary.example"
CANARY_SSN = "536-22-8419"
CANARY_CARD = "4111 1111 1111 1111"
CANARY_PHRASE = "purple-walrus-quorum-8841"
CANARY_FILE = "canary-Xq7Zt9-salaries.txt"

CANARY_DOC = f"""Compensation note

{CANARY_NAME} ({CANARY_EMAIL}) joined the robotics team in March. His SSN is
{CANARY_SSN} and the corporate card on file is {CANARY_CARD}. The office wifi
passphrase this quarter is {CANARY_PHRASE}; do not share it outside the team.
{CANARY_NAME} reports to the head of engineering and works from the Austin office.
"""

# No gating entity here, so confidential readers (HR) reach it.
TEAM_NOTES = """Team notes

The gripper calibration project is led by Zebulon Quackenbush, who reports to
the head of engineering. Weekly syncs are on Tuesdays.

The cafeteria menu changes on Mondays; soup is served from noon.
"""

MANIFEST = "defaults: {tenant: acme, groups: [eng], level: internal}\n"
LEGAL = Principal("counsel@acme.example", "acme", ("eng",), ("legal",))
EMPLOYEE = Principal("emp@acme.example", "acme", ("eng",), ("employee",))
HR = Principal("hrp@acme.example", "acme", ("eng",), ("hr",))


def _services_like(world: World, data_dir: Path) -> Services:
    """A fresh store and keyring, sharing the session's loaded models."""
    services = Services(Settings(data_dir=data_dir, jwt_secret=JWT_SECRET))
    for name in ("classifier", "embedder", "chunker"):
        services.__dict__[name] = getattr(world.services, name)
    return services


@pytest.fixture(scope="module")
def canary(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[Services, Path]]:
    base = tmp_path_factory.mktemp("canary")
    docs, data_dir = base / "docs", base / "data"
    docs.mkdir()
    (docs / CANARY_FILE).write_text(CANARY_DOC, encoding="utf-8")
    (docs / "team-notes.txt").write_text(TEAM_NOTES, encoding="utf-8")
    (docs / "acl.yaml").write_text(MANIFEST, encoding="utf-8")
    services = _services_like(world, data_dir)
    report = ingest_paths(services.ingestor, [docs], load_manifest(docs / "acl.yaml"),
                          exclude=[docs / "acl.yaml"])
    assert len(report.ingested) == 2 and not report.refused
    yield services, data_dir
    services.close()


def _close_store(services: Services) -> None:
    """Close the store (flushing it) and forget everything that holds it."""
    services.store.close()
    for name in ("store", "ingestor", "retriever", "inspector"):
        services.__dict__.pop(name, None)


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_when_canaries_ingested_then_no_byte_at_rest_holds_them(
    canary: tuple[Services, Path],
) -> None:
    services, data_dir = canary
    _close_store(services)  # flush WAL and segments to disk
    blob = _all_bytes(data_dir)
    assert len(blob) > 10_000
    for value in (CANARY_NAME, CANARY_EMAIL, CANARY_SSN, CANARY_CARD, CANARY_PHRASE,
                  CANARY_FILE, "Quackenbush", "8419", "canary-Xq7Zt9"):
        for encoded in (value.encode(), value.encode("utf-16-le"), value.lower().encode()):
            assert encoded not in blob, f"{value!r} found at rest"


def test_when_canaries_ingested_then_legal_reads_them_back_in_clear(
    canary: tuple[Services, Path],
) -> None:
    services, _ = canary
    chunks = services.retriever.retrieve(LEGAL, "office wifi passphrase", 3).chunks
    assert chunks and CANARY_PHRASE in chunks[0].text and CANARY_NAME in chunks[0].text


def test_when_label_edited_in_store_then_chunk_never_served_and_logged_without_content(
    canary: tuple[Services, Path], caplog: pytest.LogCaptureFixture,
) -> None:
    services, _ = canary
    store = services.store
    hit = services.retriever.retrieve(LEGAL, "office wifi passphrase", 1).chunks[0]
    original = dict(store.retrieve([hit.chunk_id])[0].payload)
    caplog.set_level(logging.DEBUG)
    try:
        for tamper in ({"level": 0}, {"level": -1}, {"level": -4}, {"groups": ["eng", "everyone"]},
                       {"users": ["emp@acme.example"]},
                       {"tenant": "acme2"}, {"doc_id": "0" * 32}):
            store.set_payload(hit.chunk_id, {**original, **tamper})
            for who in (LEGAL, EMPLOYEE):
                served = services.retriever.retrieve(who, "office wifi passphrase", 10).chunks
                assert hit.chunk_id not in {c.chunk_id for c in served}, tamper
    finally:
        store.set_payload(hit.chunk_id, original)
    assert "failed verification" in caplog.text and hit.chunk_id in caplog.text
    for value in (CANARY_PHRASE, CANARY_NAME, CANARY_FILE):
        assert value not in caplog.text
    assert hit.chunk_id in {c.chunk_id for c in
                            services.retriever.retrieve(LEGAL, "office wifi passphrase", 3).chunks}


@pytest.mark.parametrize("person", ["Aisha Patel", "Daniel Okafor", "Maria Gonzalez",
                                    "Tom Becker"])
def test_when_entitled_principal_names_a_person_then_finds_their_chunks(
    world: World, person: str,
) -> None:
    hr = Principal("hrp@acme.example", "acme", ("all-staff", "hr", "support"), ("hr",))
    chunks = world.services.retriever.retrieve(hr, f"Tell me about {person}", 3).chunks
    assert chunks and person in chunks[0].text  # found, and in clear: HR unmasks PERSON
    # A principal who may not unmask names gets no such help: the name is a bare <PERSON>.
    employee = Principal("emp@acme.example", "acme", ("all-staff", "hr", "support"),
                         ("employee",))
    blind = world.services.retriever.retrieve(employee, f"Tell me about {person}", 3).chunks
    typed = world.services.retriever.retrieve(employee, "Tell me about PERSON", 3).chunks
    assert [c.chunk_id for c in blind] == [c.chunk_id for c in typed]


def test_when_unentitled_principal_names_a_person_then_ranking_equals_typed_placeholder(
    world: World,
) -> None:
    retriever = world.services.retriever
    for person in ("Maria Gonzalez", "Daniel Okafor", CANARY_NAME):
        named = retriever.retrieve(EMPLOYEE, f"What is {person}'s phone number?", 10).chunks
        for typed in ("PERSON", "<PERSON>"):
            plain = retriever.retrieve(EMPLOYEE, f"What is {typed}'s phone number?", 10).chunks
            assert [(c.chunk_id, round(c.score, 5)) for c in named] == \
                   [(c.chunk_id, round(c.score, 5)) for c in plain]


def test_when_document_deleted_then_restored_store_copy_serves_nothing(
    world: World, tmp_path: Path,
) -> None:
    docs, data_dir = tmp_path / "docs", tmp_path / "data"
    docs.mkdir()
    (docs / "victim.txt").write_text(CANARY_DOC, encoding="utf-8")
    (docs / "acl.yaml").write_text(MANIFEST, encoding="utf-8")
    services = _services_like(world, data_dir)
    ingest_paths(services.ingestor, [docs], load_manifest(docs / "acl.yaml"),
                 exclude=[docs / "acl.yaml"])
    doc_id = services.ids.doc_id("acme", "victim.txt")
    assert services.retriever.retrieve(LEGAL, "wifi passphrase", 3).chunks
    _close_store(services)
    backup = tmp_path / "store-backup"
    shutil.copytree(data_dir / "store", backup)  # a backup taken before the deletion

    assert services.ingestor.delete("acme", doc_id)
    assert services.store.document_point_ids("acme", doc_id) == []
    assert services.retriever.retrieve(LEGAL, "wifi passphrase", 10).chunks == ()

    _close_store(services)
    shutil.rmtree(data_dir / "store")
    shutil.copytree(backup, data_dir / "store")  # restore the old store, keep the keyring
    assert services.store.document_point_ids("acme", doc_id)  # the points are back...
    assert services.retriever.retrieve(LEGAL, "wifi passphrase", 10).chunks == ()  # ...inert
    services.close()
