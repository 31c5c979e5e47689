"""The one YAML loader for what a steward writes: policies and ACL manifests.

Both files come from people and, through the API, from the network, so
both are read the same way and refused for the same reasons:

* larger than ``max_chars`` (:data:`MAX_YAML_CHARS` by default);
* nested too deep or with too many aliases (anchor bombs), found on the
  parser's event stream before anything is composed
  (:func:`~ragseal.classification._safe_parse.check_yaml`);
* a mapping key given twice, anywhere (PyYAML keeps the last one without a
  word, so a rule would silently disappear), named by its key path and line;
  YAML merge keys (``<<: *anchor``) are not duplicates;
* not YAML at all: the line, column and reason PyYAML gives.

Messages name the rule, the key path and the place, never a value from the
text. Callers prefix their source (a file name) and raise their own error
type (``PolicyError``, ``ManifestError``).

Errors::

    YamlError(UnsafeInputError, ValueError)   the text is refused
      DuplicateKeyError                        a mapping key given twice
"""

from __future__ import annotations

import yaml

from ._policy_hints import yaml_problem
from ._safe_parse import UnsafeInputError, check_yaml

__all__ = ["MAX_YAML_CHARS", "DuplicateKeyError", "YamlError", "key_path", "load_yaml"]

MAX_YAML_CHARS = 1_000_000
"""Longest text accepted; the bundled policy is about 4,000 characters."""

_MERGE = "tag:yaml.org,2002:merge"


class YamlError(UnsafeInputError):
    """The YAML text is refused; the message names the rule and place, never a value."""


class DuplicateKeyError(YamlError):
    """A mapping key is given twice; the message is ``path: duplicate key at line N``."""


def key_path(loc: tuple[int | str, ...]) -> str:
    """A location as a key path: ``recognizers[2].patterns[0]`` (``(root)`` when empty)."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(root)"


def _duplicate_key(root: yaml.Node) -> str | None:
    """The first mapping key given twice, as ``path: duplicate key at line N``.

    Walks the composed node graph with an explicit stack (``check_yaml``
    already bounded its depth) and each node once (aliases share nodes).
    """
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, tuple[int | str, ...]]] = [(root, ())]
    while stack:
        node, loc = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        children: list[tuple[yaml.Node, tuple[int | str, ...]]] = []
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key_node, value_node in node.value:
                scalar = isinstance(key_node, yaml.ScalarNode)
                key = str(key_node.value)[:64] if scalar else "?"
                if scalar and key_node.tag != _MERGE:
                    if key in keys:
                        return (f"{key_path((*loc, key))}: duplicate key at line "
                                f"{key_node.start_mark.line + 1}")
                    keys.add(key)
                children.append((value_node, (*loc, key)))
        elif isinstance(node, yaml.SequenceNode):
            children = [(item, (*loc, i)) for i, item in enumerate(node.value)]
        stack.extend(reversed(children))  # document order: the first duplicate is reported
    return None


def load_yaml(text: str, *, max_chars: int = MAX_YAML_CHARS) -> object:
    """Parse one YAML (or JSON) document under the rules above.

    Returns:
        The constructed value (``None`` for an empty document).

    Raises:
        DuplicateKeyError: a mapping key is given twice.
        YamlError: too large, too deep, too many aliases, or not YAML.
    """
    if len(text) > max_chars:
        raise YamlError(f"larger than {max_chars:,} characters")
    try:
        check_yaml(text)  # before the recursive composer: 20,000 levels was a 500
    except UnsafeInputError as exc:
        raise YamlError(str(exc)) from None
    try:
        # The reader checks every character here, in the constructor: a NUL
        # or another control character is a ReaderError before any parsing.
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:
        raise YamlError(f"not valid YAML{yaml_problem(exc)}") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        duplicate = _duplicate_key(node)
        if duplicate is not None:
            raise DuplicateKeyError(duplicate)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise YamlError(f"not valid YAML{yaml_problem(exc)}") from None
    finally:
        loader.dispose()
