"""Facts about the Python classes that msgspec's JSON schema does not carry.

Which fields are datetimes (the schema says only ``string``), the docstrings written under
fields, and the classes behind the schema's named components.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Iterable
from typing import Any

import msgspec


def doc(declaration: Any) -> str:
    """The cleaned docstring of a class, or an empty string."""
    return inspect.cleandoc(getattr(declaration, "__doc__", None) or "")


def named_classes(types: Iterable[Any]) -> dict[str, type]:
    """Every struct and enum class reachable from ``types`` (through fields), by class name."""
    classes: dict[str, type] = {}
    pending: list[msgspec.inspect.Type] = list(msgspec.inspect.multi_type_info(list(types)))
    while pending:
        info = pending.pop()
        if isinstance(info, msgspec.inspect.StructType):
            if info.cls.__name__ in classes:
                continue
            classes[info.cls.__name__] = info.cls
            pending.extend(struct_field.type for struct_field in info.fields)
        elif isinstance(info, msgspec.inspect.EnumType):
            classes[info.cls.__name__] = info.cls
        else:
            for attribute in ("item_type", "key_type", "value_type"):
                child = getattr(info, attribute, None)
                if isinstance(child, msgspec.inspect.Type):
                    pending.append(child)
            for attribute in ("item_types", "types"):
                pending.extend(getattr(info, attribute, ()))
    return classes


def timestamp_fields(struct: Any) -> set[str]:
    """JSON names of the struct's datetime fields (msgspec's schema types them as plain strings)."""
    if not (isinstance(struct, type) and issubclass(struct, msgspec.Struct)):
        return set()
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    names: set[str] = set()
    for struct_field in info.fields:
        kinds = (
            struct_field.type.types
            if isinstance(struct_field.type, msgspec.inspect.UnionType)
            else (struct_field.type,)
        )
        if any(isinstance(kind, msgspec.inspect.DateTimeType) for kind in kinds):
            names.add(struct_field.encode_name)
    return names


def attribute_docs(struct: Any) -> dict[str, str]:
    """JSON names -> the docstrings written under the struct's fields (and its bases' fields).

    Python keeps no such docstring at run time, so they are read from the source.
    """
    if not (isinstance(struct, type) and issubclass(struct, msgspec.Struct)):
        return {}
    encode_names = {field.name: field.encode_name for field in msgspec.structs.fields(struct)}
    docs: dict[str, str] = {}
    for klass in reversed(struct.__mro__):
        if klass is msgspec.Struct or not issubclass(klass, msgspec.Struct):
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue  # defined where no source is kept (an interactive session)
        body = ast.parse(source).body[0]
        assert isinstance(body, ast.ClassDef)
        for statement, following in zip(body.body, body.body[1:], strict=False):
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
                and statement.target.id in encode_names
            ):
                docs[encode_names[statement.target.id]] = inspect.cleandoc(following.value.value)
    return docs
