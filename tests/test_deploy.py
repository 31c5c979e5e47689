"""deploy/: the compose file and the Helm sketch say what docs/DEPLOY.md says.

Nothing here starts a container (no Docker on the test machines): the
files are parsed and their load-bearing settings checked, so that an edit
that drops a Qdrant replica, a secret file or the engine's TLS fails here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|API_KEY|MASTER_KEY|TOKEN|DATABASE_URL)", re.I)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_compose_file_runs_every_part_of_a_multi_machine_deployment(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert {"qdrant-0", "qdrant-1", "qdrant-2", "postgres", "api", "lb", "ingest-scheduler",
            "ingest-worker", "ingest"} <= set(services)
    assert services["api"]["deploy"]["replicas"] >= 2
    assert services["ingest-worker"]["deploy"]["replicas"] >= 2
    # followers join the first node's consensus
    for n in (1, 2):
        assert "--bootstrap" in services[f"qdrant-{n}"]["command"]


def test_qdrant_keeps_two_replicas_of_every_shard_and_talks_tls() -> None:
    config = yaml.safe_load((DEPLOY / "qdrant" / "config.yaml").read_text(encoding="utf-8"))
    assert config["cluster"]["enabled"] is True
    assert config["storage"]["collection"]["replication_factor"] == 2
    assert config["service"]["enable_tls"] is True
    assert config["cluster"]["p2p"]["enable_tls"] is True
    assert "api_key" not in yaml.safe_dump(config)  # the key is a secret file


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_no_secret_is_an_environment_literal_and_every_secret_is_a_file(
    compose: dict[str, Any],
) -> None:
    for name, service in compose["services"].items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key):
                assert key.endswith("_FILE") and value.startswith("/run/secrets/"), (name, key)
    for name, secret in compose["secrets"].items():
        assert set(secret) == {"file"}, name


def test_the_ingestion_cluster_is_mutual_tls_and_never_spills_to_disk(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    scheduler = services["ingest-scheduler"]["command"]
    assert scheduler[scheduler.index("--protocol") + 1] == "tls"
    for name in ("ingest-scheduler", "ingest-worker"):
        command = services[name]["command"]
        assert {"--tls-ca-file", "--tls-cert", "--tls-key"} <= set(command), name
    worker = services["ingest-worker"]
    assert worker["command"][2].startswith("tls://")
    assert worker["command"][worker["command"].index("--nthreads") + 1] == "1"
    env = _environment(worker)
    assert env["DASK_DISTRIBUTED__WORKER__MEMORY__SPILL"] == "false"
    ingest = services["ingest"]["command"]
    assert ingest[ingest.index("--engine-address") + 1].startswith("tls://")
    assert {"--engine-tls-ca", "--engine-tls-cert", "--engine-tls-key"} <= set(ingest)


def test_the_helm_sketch_has_the_same_parts_and_settings() -> None:
    values = yaml.safe_load((DEPLOY / "helm" / "ragseal" / "values.yaml").read_text())
    assert values["qdrant"]["replicas"] == 3 and values["qdrant"]["replicationFactor"] == 2
    assert values["api"]["replicas"] >= 2 and values["ingest"]["workers"]["replicas"] >= 2
    folder = DEPLOY / "helm" / "ragseal" / "templates"
    templates = {p.name: p.read_text() for p in folder.iterdir()}
    assert {"qdrant.yaml", "postgres.yaml", "api.yaml", "ingest.yaml"} <= set(templates)
    assert "replication_factor: {{ .Values.qdrant.replicationFactor }}" in templates["qdrant.yaml"]
    assert "DASK_DISTRIBUTED__WORKER__MEMORY__SPILL" in templates["ingest.yaml"]
    assert "POSTGRES_PASSWORD_FILE" in templates["postgres.yaml"]
    for text in templates.values():
        assert "password:" not in text.lower().replace("postgres_password_file", "")
