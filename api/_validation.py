"""Validation errors a client can act on, without echoing what it sent.

FastAPI's request validation errors carry the client's input (values,
unexpected keys) and pydantic's wording. A 422 here says, per problem,
*where* (a field the route declares, or ``body``) and *what is allowed*
(the field's type and limits, read from the route's body model), and for
malformed JSON the character position and the parser's reason. The
values themselves, an unexpected key's name and any part of the body never
come back: they are the client's input (CONTRACT.md: no error echoes
document text), and a key is no easier to check than a value.

Functions::

    describe_errors        one safe sentence per validation problem
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo

__all__ = ["describe_errors"]

_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# A JSON decoder's reason is one of a few fixed phrases ("Expecting value",
# "Expecting ',' delimiter", ...); anything else is not passed on.
_JSON_REASON = re.compile(r"^[A-Za-z][A-Za-z ',:\"{}\[\]-]{0,80}$")
_TYPE_ERRORS = frozenset({
    "int_type", "int_parsing", "int_from_float", "float_type", "float_parsing",
    "string_type", "bool_type", "bool_parsing", "greater_than", "greater_than_equal",
    "less_than", "less_than_equal", "string_too_short", "string_too_long", "too_short",
    "too_long", "list_type", "none_required",
})


def _body_model(route: object) -> type[BaseModel] | None:
    """The pydantic model of a route's JSON body, when it has exactly one."""
    field = getattr(route, "body_field", None)
    model = getattr(getattr(field, "field_info", None), "annotation", None)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model
    return None


def _bounds(info: FieldInfo) -> tuple[object, object, int | None, int | None]:
    low: object = None
    high: object = None
    min_len = max_len = None
    for item in info.metadata:
        if isinstance(item, Ge):
            low = item.ge
        elif isinstance(item, Gt):
            low = item.gt + 1 if isinstance(item.gt, int) else item.gt
        elif isinstance(item, Le):
            high = item.le
        elif isinstance(item, Lt):
            high = item.lt - 1 if isinstance(item.lt, int) else item.lt
        elif isinstance(item, MinLen):
            min_len = item.min_length
        elif isinstance(item, MaxLen):
            max_len = item.max_length
    return low, high, min_len, max_len


def _range(low: object, high: object) -> str:
    if low is not None and high is not None:
        return f" {low}..{high}"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""


def _allowed(info: FieldInfo) -> str | None:
    """What a field accepts, from its annotation and constraints."""
    annotation: Any = info.annotation
    nullable = False
    if get_origin(annotation) is Union or type(annotation).__name__ == "UnionType":
        args = [a for a in get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(get_args(annotation))
        if len(args) != 1:
            return None
        annotation = args[0]
    low, high, min_len, max_len = _bounds(info)
    if annotation is bool:
        text = "true or false"
    elif annotation is int:
        text = "an integer" + _range(low, high)
    elif annotation is float:
        text = "a number" + _range(low, high)
    elif annotation is str:
        if min_len is not None and max_len is not None:
            text = f"a string of {min_len}..{max_len} characters"
        elif max_len is not None:
            text = f"a string of at most {max_len} characters"
        elif min_len is not None:
            text = f"a string of at least {min_len} characters"
        else:
            text = "a string"
    else:
        return None
    return text + (" or null" if nullable else "")


def _reason(error: Mapping[str, Any]) -> str:
    """Pydantic's message without its prefix; our validators' messages are fixed."""
    return str(error.get("msg", "invalid")).removeprefix("Value error, ")


def _one(error: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    loc = tuple(error.get("loc", ()))
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "json_invalid":
        position = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
        reason = str(ctx.get("error", ""))
        reason = reason if _JSON_REASON.match(reason) else "malformed"
        where = f" at character {position}" if position is not None else ""
        return f"body: not valid JSON{where} ({reason})"
    fields = model.model_fields if model is not None else {}
    if kind == "extra_forbidden":
        allowed = f" (allowed: {', '.join(fields)})" if fields else ""
        return f"body: unknown field{allowed}"
    name = loc[1] if len(loc) == 2 and loc[0] == "body" else None
    if isinstance(name, str) and _SAFE_NAME.match(name) and name in fields:
        described = _allowed(fields[name])
        if kind == "missing":
            return f"body.{name}: required" + (f", {described}" if described else "")
        if described and (kind in _TYPE_ERRORS or (kind == "value_error"
                                                 and fields[name].annotation is int)):
            return f"body.{name}: must be {described}"
        return f"body.{name}: {_reason(error)}"
    parts = [str(p) if isinstance(p, int) or (isinstance(p, str) and _SAFE_NAME.match(p))
             else "?" for p in loc]
    where = ".".join(parts) or "request"
    if kind in {"missing", "model_attributes_type", "dict_type"}:
        return f"{where}: {_reason(error)}"
    return where


def describe_errors(errors: Iterable[Mapping[str, Any]], route: object) -> list[str]:
    """One sentence per distinct problem, in order; none holds the client's input."""
    model = _body_model(route)
    seen: list[str] = []
    for error in errors:
        text = _one(error, model)
        if text not in seen:
            seen.append(text)
    return seen
