"""Hints for a steward's policy mistakes: "did you mean", and YAML errors with their reason.

A misspelt key (``gte: true``) used to be refused as "Extra inputs are not
permitted" with no suggestion, and a YAML syntax error named only the line
where the parser gave up, often the one after the mistake, with no reason
(issue 20, item 13). These helpers only read the policy models' own field
names and PyYAML's marks; they never echo a value from the file.
"""

from __future__ import annotations

import difflib
import types
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel

__all__ = ["did_you_mean", "yaml_problem"]


def _inner(annotation: Any) -> Any:
    """The model a field holds, through Optional, list, tuple and dict values."""
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        for arg in get_args(annotation):
            found = _inner(arg)
            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
        return None
    if origin in (list, tuple, dict, set, frozenset):
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        return _inner(args[-1]) if args else None
    return annotation


def _model_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model whose fields hold the last key of ``loc``."""
    model: Any = root
    pending: Any = None  # a container field's value type, waiting for its key or index
    for part in loc[:-1]:
        if pending is not None:
            model, pending = pending, None
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        annotation = field.annotation
        inner = _inner(annotation)
        if get_origin(annotation) in (list, tuple, dict, set, frozenset) or (
                get_origin(annotation) in (Union, types.UnionType)
                and any(get_origin(a) in (list, tuple, dict) for a in get_args(annotation))):
            pending = inner
            model = None
        else:
            model = inner
    if pending is not None:
        model = pending
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def did_you_mean(root: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """``" (did you mean 'gate'?)"``, or the keys allowed there, or ``""``."""
    if not loc or not isinstance(loc[-1], str):
        return ""
    model = _model_at(root, loc)
    if model is None:
        return ""
    names = list(model.model_fields)
    close = difflib.get_close_matches(loc[-1], names, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (allowed here: {', '.join(names)})"


def yaml_problem(exc: yaml.YAMLError) -> str:
    """``at line L, column C: reason`` (and where the construct began, when elsewhere)."""
    if isinstance(exc, yaml.reader.ReaderError):  # before parsing: no mark, a position
        return f" at character {exc.position + 1}: a control character YAML does not allow"
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return ""
    problem = getattr(exc, "problem", None) or "syntax error"
    text = f" at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark.line != mark.line:
        text += f" ({context} at line {context_mark.line + 1})"
    return text
