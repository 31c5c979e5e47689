"""The recognizer registry: one table says which recognizer serves which type."""

from __future__ import annotations

from collections import Counter

from ragseal.classification import FLOOR_ENTITIES, parse_policy, supported_entities
from ragseal.classification._registry import (
    REGISTRY,
    SECRET_ENTITIES,
    build_recognizers,
)

LEVELS = ["public", "internal", "confidential", "restricted"]


def _policy(entities: list[str]):  # type: ignore[no-untyped-def]
    return parse_policy({"levels": LEVELS,
                         "entities": {e: {"level": "internal"} for e in entities}})


def _served(recognizers) -> Counter[str]:  # type: ignore[no-untyped-def]
    return Counter(e for r in recognizers for e in r.supported_entities)


def test_when_every_type_is_enabled_then_every_registration_builds_and_serves_its_types() -> None:
    recognizers = build_recognizers(_policy(sorted(supported_entities())))
    assert len(recognizers) == len(REGISTRY)
    for registration, recognizer in zip(REGISTRY, recognizers, strict=True):
        assert type(recognizer).__name__ == registration.name
        assert set(recognizer.supported_entities) == set(registration.entities)


def test_when_one_type_is_enabled_then_its_recognizers_and_the_secret_floor_are_built() -> None:
    served = _served(build_recognizers(_policy(["EMAIL_ADDRESS"])))
    assert set(served) == {"EMAIL_ADDRESS"} | SECRET_ENTITIES
    assert served["EMAIL_ADDRESS"] == 1


def test_when_ner_types_are_enabled_then_one_ner_recognizer_serves_only_them() -> None:
    recognizers = build_recognizers(_policy(["PERSON", "NRP"]))
    ner = [r for r in recognizers if type(r).__name__ == "FilteredSpacyRecognizer"]
    assert len(ner) == 1
    assert sorted(ner[0].supported_entities) == ["NRP", "PERSON"]


def test_the_floor_registrations_are_the_policy_floor() -> None:
    assert SECRET_ENTITIES == FLOOR_ENTITIES
    assert all(r.floor == bool(r.entities & FLOOR_ENTITIES) for r in REGISTRY)


def test_no_class_is_registered_twice() -> None:
    names = Counter((r.module, r.name) for r in REGISTRY)
    assert [n for n, c in names.items() if c > 1] == []
