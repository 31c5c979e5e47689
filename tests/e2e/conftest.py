"""One real ingest of the bundled sample corpus, shared by the end-to-end tests.

Real components throughout: unstructured, Presidio with the packaged spaCy
model, MiniLM embeddings, AES-GCM sealing, Qdrant Edge on disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ragseal.api._app import create_app
from ragseal.api._auth import mint_token
from ragseal.api._container import Services
from ragseal.api._settings import Settings
from ragseal.ingest import BatchReport, ingest_paths, load_manifest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
JWT_SECRET = "e2e-test-secret-" + "z" * 40


@dataclass
class World:
    data_dir: Path
    settings: Settings
    services: Services
    reports: dict[str, BatchReport]

    def doc_id(self, tenant: str, source: str) -> str:
        return self.services.ids.doc_id(tenant, source)


def ingest_corpus(services: Services, folder: Path) -> BatchReport:
    manifest = folder / "acl.yaml"
    return ingest_paths(services.ingestor, [folder], load_manifest(manifest), exclude=[manifest])


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("e2e-data")
    settings = Settings(data_dir=data_dir, jwt_secret=JWT_SECRET)
    services = Services(settings)
    reports = {
        "acme": ingest_corpus(services, SAMPLES / "corpus"),
        "globex": ingest_corpus(services, SAMPLES / "other-tenant"),
    }
    yield World(data_dir, settings, services, reports)
    services.close()


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    """The real app over the session's ingested corpus."""
    with TestClient(create_app(world.settings, world.services)) as c:
        yield c


def bearer(**claims: object) -> dict[str, str]:
    """An Authorization header with a token minted for the e2e secret."""
    token = mint_token(JWT_SECRET, **claims)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}
