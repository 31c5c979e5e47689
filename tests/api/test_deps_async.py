"""The routes' collaborator dependencies run on the event loop, not in the thread pool.

FastAPI runs a plain ``def`` dependency in its thread pool: one hand-off to
a pool thread and back per dependency per request (docs/TRAPS.md, "Serving
all cores, fifth round"). The collaborators are attribute reads of the
app's state, so they are ``async``; the one that does I/O (health) is not.
"""

from __future__ import annotations

import inspect
import typing

import pytest
from ragseal.api._routes import _deps

ALIASES = ["RetrievalDep", "DocumentsDep", "QuarantineDep", "PolicyDep", "AuditorDep",
           "MetricsDep"]


@pytest.mark.parametrize("alias", ALIASES)
def test_when_a_route_names_a_collaborator_then_it_is_resolved_on_the_event_loop(
        alias: str) -> None:
    depends = typing.get_args(getattr(_deps, alias))[1]
    assert inspect.iscoroutinefunction(depends.dependency)


def test_when_health_is_checked_then_its_io_stays_off_the_event_loop() -> None:
    depends = typing.get_args(_deps.HealthDep)[1]
    assert not inspect.iscoroutinefunction(depends.dependency)
