"""Classification: the steward's policy, detectors, findings and masking."""

from ._offline import OFFLINE_ENV, ensure_offline

ensure_offline()

from ._classifier import Classification, Classifier  # noqa: E402
from ._errors import DetectorError  # noqa: E402
from ._eval import (  # noqa: E402
    Counts,
    EvalInputError,
    EvalReport,
    LabeledSample,
    evaluate,
    parse_labeled,
    parse_mapping,
    predict,
)
from ._eval import Span as LabeledSpan  # noqa: E402
from ._findings import Finding, resolve_overlaps  # noqa: E402
from ._markers import MarkerMatcher  # noqa: E402
from ._masking import PSEUDONYM_HEX, MaskedText, Pseudonymizer, mask  # noqa: E402
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
    decode_policy_text,
    default_policy,
    key_path,
    load_policy,
    parse_policy,
    parse_policy_text,
)
from ._protocol import ClassificationLike, TextClassifier  # noqa: E402
from ._registry import (  # noqa: E402
    HIPAA_ENTITIES,
    PRESIDIO_ENTITIES,
    supported_entities,
    unsupported_entities,
)
from ._safe_parse import (  # noqa: E402
    NotJsonError,
    UnsafeInputError,
    check_yaml,
    json_depth,
    loads_json,
)
from ._yaml import MAX_YAML_CHARS, DuplicateKeyError, YamlError, load_yaml  # noqa: E402
from .injection import InjectionScore, score_injection  # noqa: E402

__all__ = [
    "FLOOR_ENTITIES",
    "HIPAA_ENTITIES",
    "PRESIDIO_ENTITIES",
    "MASKS",
    "OFFLINE_ENV",
    "MAX_YAML_CHARS",
    "PSEUDONYM_HEX",
    "Classification",
    "ClassificationLike",
    "Classifier",
    "Counts",
    "DetectorError",
    "DuplicateKeyError",
    "EntityRule",
    "EvalInputError",
    "EvalReport",
    "Finding",
    "InjectionRule",
    "InjectionScore",
    "InspectRule",
    "LabeledSample",
    "LabeledSpan",
    "Marker",
    "MarkerMatcher",
    "MaskedText",
    "NotJsonError",
    "Policy",
    "PolicyError",
    "Pseudonymizer",
    "RecognizerRule",
    "RoleRule",
    "TextClassifier",
    "UnsafeInputError",
    "YamlError",
    "decode_policy_text",
    "default_policy",
    "ensure_offline",
    "check_yaml",
    "evaluate",
    "json_depth",
    "key_path",
    "load_yaml",
    "load_policy",
    "loads_json",
    "mask",
    "parse_labeled",
    "parse_mapping",
    "parse_policy",
    "parse_policy_text",
    "predict",
    "resolve_overlaps",
    "score_injection",
    "supported_entities",
    "unsupported_entities",
]

