"""Set-based SQL helpers shared by the hot paths (claim, submit results, receipts).

Django's ``bulk_update`` writes ``CASE WHEN`` chains and cannot add a WHERE clause; the hot
paths need "set each row's own value, but only if it is still in a lower status", in one
statement. ``UPDATE … FROM (VALUES …)`` does that on PostgreSQL and SQLite (3.33+) alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model


def quoted_table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def update_from_values(
    model: type[Model],
    *,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    constants: dict[str, Any] | None = None,
    where: str = "",
    where_params: Sequence[Any] = (),
    chunk: int = 5000,
) -> int:
    """``UPDATE t SET col = v.col, … FROM (VALUES (id, …), …) v WHERE t.id = v.id [AND where]``.

    Each row is ``(id, *values for columns)``; ``constants`` are set on every matched row;
    ``where`` is extra SQL on ``t`` (the table is aliased by its own name). Returns rows
    updated.
    """
    if not rows:
        return 0
    table = quoted_table(model)
    pg = connection.vendor == "postgresql"
    names = ["id", *columns]
    select = ", ".join(f"column{i + 1} AS {connection.ops.quote_name(n)}" for i, n in enumerate(names))
    assignments = [f"{connection.ops.quote_name(c)} = v.{connection.ops.quote_name(c)}" for c in columns]
    const_params: list[Any] = []
    for name, value in (constants or {}).items():
        assignments.append(f"{connection.ops.quote_name(name)} = %s")
        const_params.append(value)
    cast = "::bigint" if pg else ""
    total = 0
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        placeholders = ", ".join("(" + ", ".join(["%s"] * len(names)) + ")" for _ in part)
        sql = (
            f"UPDATE {table} SET {', '.join(assignments)} "
            f"FROM (SELECT {select} FROM (VALUES {placeholders}) AS vv) AS v "
            f"WHERE {table}.id = v.id{cast}" + (f" AND ({where})" if where else "")
        )
        params: list[Any] = [*const_params]
        for row in part:
            params.extend(row)
        params.extend(where_params)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            total += max(cursor.rowcount, 0)
    return total


def member_of(column: str, values: Sequence[Any], *, cast: str = "bigint") -> tuple[str, list[Any]]:
    """``column = ANY(%s)`` (one array parameter) on PostgreSQL, ``column IN (%s, …)`` elsewhere."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::{cast}[])", [list(values)]
    return f"{column} IN (" + ", ".join(["%s"] * len(values)) + ")", list(values)


def ids_in(ids: Sequence[int]) -> Any:
    """A value for ``filter(id__in=…)`` that stays one parameter on PostgreSQL.

    A Python list of 10,000 ids becomes 10,000 placeholders, which the driver must
    splice into the query text on every call; ``IN (SELECT unnest(%s::bigint[]))`` ships
    them as one array. SQLite gets the plain list.
    """
    if connection.vendor == "postgresql":
        from django.db.models.expressions import RawSQL

        return RawSQL("SELECT unnest(%s::bigint[])", (list(ids),))
    return list(ids)
