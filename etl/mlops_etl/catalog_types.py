"""Values of a column as its declared Glue catalog type, and the Spark schema the job writes with.

The Glue job must write each curated column with the type the catalog table declares
(:func:`mlops_etl.pseudonymise.build_curated_schema`, the one source Pulumi declares the table from):
Spark's CSV inference turns a declared ``int`` into ``long``, and Athena then fails the file with
``HIVE_BAD_DATA``. So every value is converted to its declared type (:func:`to_declared`) before Spark
sees it, and the DataFrame is created with the declared schema (:func:`spark_schema_ddl`), not the
inferred one.

Types are the catalog (Hive) names that ``organization.yaml`` allows for a column: ``string``,
``int``, ``bigint``, ``double``, ``float``, ``boolean``, ``date``, ``timestamp`` and
``decimal(p,s)``. In a CSV field an empty value of a non-string type is null, as Hive's
LazySimpleSerDe reads it.
"""

from __future__ import annotations

import datetime
import decimal
import re
from typing import Any, Callable

#: ``int`` and ``bigint`` are 32- and 64-bit signed (Hive, Spark and Parquet INT32/INT64).
INTEGER_BITS = {"int": 32, "bigint": 64}
DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")
BOOLEANS = {"true": True, "false": False}


class DeclaredTypeError(ValueError):
    """A value does not fit its column's declared type, or the type is not one we write; one line."""


def _integer(bits: int) -> Callable[[Any], int]:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError("a boolean is not an integer")
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError("has a fraction")
            number = int(value)
        else:
            number = int(str(value).strip())
        if not low <= number <= high:
            raise ValueError(f"outside the {bits}-bit range")
        return number

    return convert


def _floating(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    return float(value) if isinstance(value, (int, float)) else float(str(value).strip())


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return BOOLEANS[str(value).strip().lower()]


def _date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        raise ValueError("a timestamp is not a date")
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value).strip())


def _timestamp(value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(str(value).strip())


def _decimal(precision: int, scale: int) -> Callable[[Any], decimal.Decimal]:
    quantum = decimal.Decimal(1).scaleb(-scale)

    def convert(value: Any) -> decimal.Decimal:
        number = decimal.Decimal(str(value).strip()).quantize(quantum, rounding=decimal.ROUND_HALF_UP)
        if len(number.as_tuple().digits) > precision:
            raise ValueError(f"more than {precision} digits")
        return number

    return convert


def converter(declared_type: str) -> Callable[[Any], Any]:
    """The function taking a raw value (CSV text or a Spark-inferred value) to ``declared_type``."""
    kind = declared_type.strip().lower()
    if kind == "string":
        return str
    if kind in INTEGER_BITS:
        return _integer(INTEGER_BITS[kind])
    if kind in ("double", "float"):
        return _floating
    simple = {"boolean": _boolean, "date": _date, "timestamp": _timestamp}
    if kind in simple:
        return simple[kind]
    match = DECIMAL.match(kind)
    if match:
        return _decimal(int(match.group(1)), int(match.group(2)))
    raise DeclaredTypeError(f"type {declared_type!r} is not a catalog type the curation writes")


def to_declared(value: Any, declared_type: str, convert: Callable[[Any], Any] | None = None) -> Any:
    """``value`` as ``declared_type``; None, and an empty field of a non-string type, are null."""
    if value is None:
        return None
    if declared_type.strip().lower() != "string" and isinstance(value, str) and not value.strip():
        return None
    try:
        return (convert or converter(declared_type))(value)
    except (ValueError, KeyError, ArithmeticError) as error:
        raise DeclaredTypeError(f"value {value!r} is not a {declared_type} ({error})") from None


def spark_schema_ddl(curated: list[dict[str, Any]]) -> str:
    """The curated schema as a Spark DDL string (``createDataFrame(rows, ddl)``): declared types, in order."""
    for column in curated:
        converter(column["type"])  # refuse a type we do not convert
    return ", ".join(f"`{column['name']}` {column['type'].upper()}" for column in curated)
