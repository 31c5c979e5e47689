"""The floor: what no policy can lower (CONTRACT.md, "Policy administration").

Secrets are detected, masked with ``redact``, gate their chunk and count at
the policy's highest level under **every** policy, whether the policy lists
them or not. A careless or hostile steward who leaves ``AWS_ACCESS_KEY`` out
of the policy, sets ``API_TOKEN`` to ``public``, turns its ``gate`` off,
asks for a ``pseudonym`` or sets a ``min_score`` no match reaches gets the
floor anyway; what the floor changed is reported (``ragseal policy check``)
as plain notes that name key paths, never values.

:func:`with_floor` is applied by :func:`ragseal.classification.parse_policy`
to every policy it returns: no code path can hold a policy without the
floor. Roles cannot lift it either: :meth:`Policy.may_unmask` shows a floor
entity only at the highest clearance, whatever ``unmask`` lists.

``FLOOR_ENTITIES`` equals the secret recognizers' entity types
(``_registry.SECRET_ENTITIES``, the floor registrations; a test keeps them
equal) but is declared with the policy model, which the registry imports.
"""

from __future__ import annotations

from ._policy import FLOOR_ENTITIES, FLOOR_MIN_SCORE, EntityRule, Policy

__all__ = ["FLOOR_ENTITIES", "FLOOR_MIN_SCORE", "with_floor"]


def _floored(rule: EntityRule, highest: str, policy_min: float) -> EntityRule:
    threshold = rule.min_score if rule.min_score is not None else policy_min
    return EntityRule(
        level=highest,
        mask="redact",
        gate=True,
        # Kept as written when it already meets the floor (same fingerprint).
        min_score=rule.min_score if threshold <= FLOOR_MIN_SCORE else FLOOR_MIN_SCORE,
    )


def _notes(path: str, old: EntityRule, new: EntityRule, policy_min: float) -> list[str]:
    notes: list[str] = []
    if old.level != new.level:
        notes.append(f"{path}.level: {old.level} raised to {new.level}")
    if old.mask != new.mask:
        notes.append(f"{path}.mask: {old.mask} replaced by redact")
    if not old.gate:
        notes.append(f"{path}.gate: turned on")
    threshold = old.min_score if old.min_score is not None else policy_min
    if threshold > FLOOR_MIN_SCORE:
        notes.append(f"{path}.min_score: {threshold} lowered to {FLOOR_MIN_SCORE}")
    return notes


def with_floor(policy: Policy) -> tuple[Policy, tuple[str, ...]]:
    """``policy`` with the floor applied, and a note per thing the floor changed.

    The returned policy is a new validated model when anything changed; the
    input is returned as is (same fingerprint) when it already met the floor.
    """
    highest = policy.highest
    notes: list[str] = []
    entities = dict(policy.entities)
    custom = {rec.entity: i for i, rec in enumerate(policy.recognizers)}
    recognizers = list(policy.recognizers)
    for entity in sorted(FLOOR_ENTITIES):
        if entity in custom:
            i = custom[entity]
            rec = recognizers[i]
            old = EntityRule(level=rec.level, mask=rec.mask, gate=rec.gate)
            new = _floored(old, highest, policy.min_score)
            notes += _notes(f"recognizers[{i}]", old, new, policy.min_score)
            notes.append(f"recognizers[{i}]: the built-in {entity} recognizers run beside it")
            recognizers[i] = rec.model_copy(update={"level": highest, "mask": "redact",
                                                    "gate": True})
            if policy.min_score > FLOOR_MIN_SCORE:  # Policy.threshold caps it
                notes.append(f"recognizers[{i}]: counts from score {FLOOR_MIN_SCORE}")
            continue
        current = entities.get(entity)
        if current is None:
            entities[entity] = _floored(EntityRule(level=highest), highest, policy.min_score)
            notes.append(f"entities.{entity}: added ({highest}, redact, gate)")
            continue
        floored = _floored(current, highest, policy.min_score)
        notes += _notes(f"entities.{entity}", current, floored, policy.min_score)
        entities[entity] = floored
    for name, role in policy.roles.items():
        if policy.rank(role.clearance) >= policy.rank(highest):
            continue
        listed = FLOOR_ENTITIES if role.unmask == "all" else FLOOR_ENTITIES & set(role.unmask)
        if listed:
            notes.append(f"roles.{name}.unmask: {', '.join(sorted(listed))} stay masked "
                         f"below {highest}")
    unchanged = entities == dict(policy.entities) and tuple(recognizers) == policy.recognizers
    if unchanged:
        return policy, tuple(notes)
    data = {name: getattr(policy, name) for name in type(policy).model_fields}
    data.update(entities=entities, recognizers=tuple(recognizers))
    # The parts are validated models already: construct, do not re-run the
    # (slow) regex probes of every recognizer.
    result = Policy.model_construct(_fields_set=set(policy.model_fields_set), **data)
    return result, tuple(notes)
