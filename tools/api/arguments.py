"""The model's arguments to an operation: their strict schema, and their validation in code into
the question asked before a change runs.

Path placeholders that are state parameters (`{customer_id}`) are filled from the conversation's
state (injected), never by the model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from langgraph.prebuilt import InjectedState
from pydantic import BaseModel, Field, ValidationError, create_model

from tools.actions import CallContext, Proposal
from tools.api.config import Operation
from tools.api.templates import fill

PATH_PARAM = re.compile(r"\{(\w+)\}")
STATE_PARAMETERS = ("customer_id", "wa_id", "user_id")
INJECTED = (*STATE_PARAMETERS, "language")
_JSON_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
}
_CONSTRAINTS = {
    "maxLength": "max_length",
    "minLength": "min_length",
    "pattern": "pattern",
    "minimum": "ge",
    "maximum": "le",
}


def _field_type(spec: dict[str, Any]) -> Any:
    if spec.get("enum"):
        return Literal[tuple(spec["enum"])]
    return _JSON_TYPES.get(spec.get("type", "string"), str)


def arguments_model(operation: Operation) -> type[BaseModel]:
    """The operation's JSON-schema parameters as a strict model (types, enums, bounds)."""
    schema = operation.parameters
    required = set(schema.get("required", []))
    fields: dict[str, Any] = {}
    for name, spec in schema.get("properties", {}).items():
        python_type = _field_type(spec)
        limits = {_CONSTRAINTS[k]: v for k, v in spec.items() if k in _CONSTRAINTS}
        if spec.get("type", "string") == "string" and "max_length" not in limits:
            limits["max_length"] = 1000
        description = spec.get("description")
        if name in required:
            fields[name] = (python_type, Field(description=description, strict=True, **limits))
        else:
            fields[name] = (
                python_type | None,
                Field(default=None, description=description, strict=True, **limits),
            )
    for name in PATH_PARAM.findall(operation.path):
        if name in STATE_PARAMETERS:
            fields[name] = (Annotated[str | None, InjectedState(name)], None)
    fields["language"] = (Annotated[str, InjectedState("language")], "en")
    model_name = "".join(part.title() for part in operation.name.split("_")) + "Input"
    return create_model(model_name, **fields)


def proposal(
    operation: Operation,
    args_model: type[BaseModel],
    arguments: Mapping[str, Any],
    context: CallContext,
    record: Mapping[str, Any] | None = None,
) -> Proposal | str:
    """Validate the model's arguments in code; the question to ask before the call runs."""
    if any(
        name in STATE_PARAMETERS and not getattr(context, name, None)
        for name in PATH_PARAM.findall(operation.path)
    ):
        return f"ERROR: cannot call {operation.name}: no account is linked to this WhatsApp number."
    visible = {k: v for k, v in arguments.items() if k not in INJECTED}
    try:
        checked = args_model.model_validate(visible)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
            for e in error.errors()
        )
        return f"ERROR: invalid arguments for {operation.name}: {problems[:300]}"
    values = {k: v for k, v in checked.model_dump().items() if k not in INJECTED and v is not None}
    unknown = set(visible) - set(args_model.model_fields)
    if unknown:
        return f"ERROR: unknown arguments for {operation.name}: {', '.join(sorted(unknown))[:200]}"
    if record is not None and operation.check is not None:
        for parameter, field in operation.check.match.items():
            expected = record.get(field)
            if parameter in values and str(values[parameter]) != str(expected):
                return (
                    f"ERROR: invalid arguments for {operation.name}: {parameter} "
                    f"{str(values[parameter])[:40]!r} is not on the customer's record "
                    f"(the record has {expected!r})."
                )
            values[parameter] = expected
    template = operation.confirm.get(context.language) or operation.confirm.get("en")  # type: ignore[call-overload]
    shown = {**(record or {}), **values}
    summary = fill(template, shown) if template else f"{operation.description} ({values})?"
    return Proposal(operation.name, values, summary)
