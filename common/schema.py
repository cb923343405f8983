"""Derive Arrow (and so Delta) schemas from the pydantic row models, in this one place."""

import types
import typing
from datetime import datetime
from typing import Any, Literal, TypeVar

import pyarrow as pa
from pydantic import BaseModel

_SCALARS: dict[type, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    datetime: pa.timestamp("us", tz="UTC"),
}


M = TypeVar("M", bound=BaseModel)


def arrow_type(annotation: Any) -> tuple[pa.DataType, bool]:
    """Arrow type of a field annotation, and whether it is nullable."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"unsupported union {annotation!r}")
        return arrow_type(inner[0])[0], True
    if origin is Literal:
        return arrow_type(type(args[0]))[0], False
    if origin is list:
        return pa.list_(arrow_type(args[0])[0]), False
    if origin is dict:
        return pa.map_(arrow_type(args[0])[0], arrow_type(args[1])[0]), False
    if annotation in _SCALARS:
        return _SCALARS[annotation], False
    raise TypeError(f"no Arrow type for {annotation!r}")


def arrow_schema(model: type[BaseModel]) -> pa.Schema:
    """The Arrow schema of a row model; field order is the model's."""
    fields = []
    for name, info in model.model_fields.items():
        dtype, nullable = arrow_type(info.annotation)
        fields.append(pa.field(name, dtype, nullable=nullable))
    return pa.schema(fields)


def to_arrow(model: type[BaseModel], rows: list[dict[str, Any]]) -> pa.Table:
    """Rows (``model_dump()`` dicts) as an Arrow table with the model's schema."""
    schema = arrow_schema(model)
    prepared = [
        {k: (list(v.items()) if isinstance(v, dict) else v) for k, v in row.items()} for row in rows
    ]
    return pa.Table.from_pylist(prepared, schema=schema)


def from_arrow(model: type[M], table: pa.Table) -> list[M]:
    """Rows read from Delta as ``model``s: Arrow maps come back as (key, value) pairs."""
    maps = [f.name for f in table.schema if pa.types.is_map(f.type)]
    rows = table.to_pylist()
    for row in rows:
        for name in maps:
            row[name] = dict(row[name] or [])
    return [model.model_validate(row) for row in rows]
