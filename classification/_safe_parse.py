"""Bounded JSON and YAML from untrusted hands: depth, aliases, duplicate keys.

Python's ``json`` and PyYAML's composer recurse once per nesting level, so
100,000 brackets raise ``RecursionError`` (a 500 in a server) before any
schema sees the value; PyYAML and ``json`` also keep the last of two equal
keys without a word, and YAML aliases can expand a few lines into billions
of nodes for whoever walks the result. Every JSON or YAML a user hands
ragseal (an upload's ``acl``, request bodies, policies, manifests) goes
through here first:

* :func:`json_depth` measures nesting without recursion (strings removed by
  one regular expression, then a running sum over the remaining brackets);
* :func:`check_yaml` walks PyYAML's *event* stream, which its parser yields
  from a state machine without recursion, and stops at the first level over
  the limit or alias over the budget — before the recursive composer runs;
* :func:`loads_json` refuses duplicate keys and ``NaN``/``Infinity``, like
  the token parser (``api._auth``).

Errors::

    UnsafeInputError(ValueError)   too deep, too many aliases, duplicate key
      NotJsonError                 not JSON at all
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

import yaml

from ragseal import InvalidInputError

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "NotJsonError", "UnsafeInputError", "check_yaml",
           "json_depth", "loads_json"]

MAX_DEPTH = 64
"""Deepest nesting accepted; ragseal's own documents need fewer than 8 levels."""
MAX_ALIASES = 64
"""YAML aliases accepted in one document (billion laughs needs many)."""

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = b"[]{}"
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)


class UnsafeInputError(InvalidInputError, ValueError):
    """The input is refused before parsing; the message names the rule, never the input."""


class NotJsonError(UnsafeInputError):
    """The input is not JSON at all (a caller may still try another format)."""


def json_depth(data: str | bytes) -> int:
    """The deepest nesting of ``data`` read as JSON, in linear time, no recursion.

    Brackets inside strings are not counted. Malformed JSON gives some
    number; the parser that runs next refuses it.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(_STEP[b] for b in brackets), default=0)


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise UnsafeInputError("duplicate key in a JSON object")
        result[key] = value
    return result


def _refuse_constant(_name: str) -> Any:
    raise UnsafeInputError("NaN and Infinity are not JSON")


def loads_json(data: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` with a depth bound, no duplicate keys and no non-finite numbers.

    Raises:
        UnsafeInputError: too deep, a duplicate key, a non-finite constant,
            or not JSON at all.
    """
    if json_depth(data) > max_depth:
        raise UnsafeInputError(f"nested deeper than {max_depth} levels")
    try:
        return json.loads(data, object_pairs_hook=_refuse_duplicates,
                          parse_constant=_refuse_constant)
    except UnsafeInputError:
        raise
    except (ValueError, RecursionError):  # JSONDecodeError, bad UTF-8
        raise NotJsonError("not valid JSON") from None


def check_yaml(text: str, *, max_depth: int = MAX_DEPTH, max_aliases: int = MAX_ALIASES) -> None:
    """Refuse YAML nested deeper than ``max_depth`` or with more than ``max_aliases``
    aliases, reading only parser events (no recursion, nothing constructed).

    Malformed YAML passes through here unchanged: the loader that runs next
    reports it with its line.

    Raises:
        UnsafeInputError: too deep or too many aliases.
    """
    depth = aliases = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > max_depth:
                    raise UnsafeInputError(f"nested deeper than {max_depth} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > max_aliases:
                    raise UnsafeInputError(f"more than {max_aliases} YAML aliases")
    except yaml.YAMLError:
        return
