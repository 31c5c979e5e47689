"""Classification: the steward's policy, detectors, findings and masking."""

from ._offline import OFFLINE_ENV, ensure_offline

ensure_offline()

from ._classifier import Classification, Classifier  # noqa: E402
from ._errors import DetectorError  # noqa: E402
from ._eval import Counts, EvalInputError, EvalReport, evaluate, parse_labeled  # noqa: E402
from ._findings import Finding, resolve_overlaps  # noqa: E402
from ._policy import (  # noqa: E402
    FLOOR_ENTITIES,
    MASKS,
    EntityRule,
    InjectionRule,
    InspectRule,
    Marker,
    Policy,
    PolicyError,
    RecognizerRule,
    RoleRule,
    default_policy,
    key_path,
    load_policy,
    parse_policy,
    parse_policy_text,
)
from ._registry import HIPAA_ENTITIES, supported_entities, unsupported_entities  # noqa: E402
from .injection import InjectionScore, score_injection  # noqa: E402

__all__ = [
    "FLOOR_ENTITIES",
    "HIPAA_ENTITIES",
    "MASKS",
    "OFFLINE_ENV",
    "Classification",
    "Classifier",
    "Counts",
    "DetectorError",
    "EntityRule",
    "EvalInputError",
    "EvalReport",
    "Finding",
    "InjectionRule",
    "InjectionScore",
    "InspectRule",
    "Marker",
    "Policy",
    "PolicyError",
    "RecognizerRule",
    "RoleRule",
    "default_policy",
    "key_path",
    "ensure_offline",
    "evaluate",
    "load_policy",
    "parse_labeled",
    "parse_policy",
    "parse_policy_text",
    "resolve_overlaps",
    "score_injection",
    "supported_entities",
    "unsupported_entities",
]
