"""Set-based SQL helpers shared by the hot paths (claim, submit results, receipts).

Django's ``bulk_update`` writes ``CASE WHEN`` chains and cannot add a WHERE clause; the hot
paths need "set each row's own value, but only if it is still in a lower status", in one
statement. ``UPDATE … FROM (VALUES …)`` does that on PostgreSQL and SQLite (3.33+) alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, ForeignObject, Lookup, Model


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
        return f"{column} = ANY(%s::{cast}[])", [pg_array(values, cast)]
    return f"{column} IN (" + ", ".join(["%s"] * len(values)) + ")", list(values)


_INT_TYPES = frozenset({"bigint", "int", "integer", "smallint"})
_TEXT_TYPES = frozenset({"text", "varchar"})


def pg_array(values: Sequence[Any], pg_type: str) -> Any:
    """An array parameter for ``%s::<type>[]``: integers and text as one array literal.

    psycopg adapts a list element by element in Python (on the hot paths, a fifth of a bind
    worker's CPU); a literal built with ``join`` costs a tenth of that. Text elements are
    quoted as PostgreSQL's array input wants them (double quotes, backslash escapes), so
    any string round-trips, "NULL" and "{,}" included. Other types: the list, for psycopg.
    """
    if pg_type in _INT_TYPES:
        return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"
    if pg_type in _TEXT_TYPES:
        return "{" + ",".join("NULL" if v is None else _quote_element(v) for v in values) + "}"
    return list(values)


def _quote_element(value: str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def values_source(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
    """Rows as a table ``v`` for ``FROM`` / ``INSERT … SELECT``: ``(sql, params)``.

    ``columns`` are (name, PostgreSQL type). On PostgreSQL the rows travel as one array per
    column through ``unnest`` (a handful of parameters, whatever the row count), and a
    column with the same value in every row as one scalar; elsewhere as ``VALUES`` (keep
    rows × columns under SQLite's 32,766 parameters).
    """
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        constant = [i for i in range(len(columns)) if all(row[i] == rows[0][i] for row in rows)] if rows else []
        varying = [i for i in range(len(columns)) if i not in constant] or [0]
        constant = [i for i in constant if i not in varying]
        select = [f"%s::{columns[i][1]} AS {quote(columns[i][0])}" for i in constant]
        params: list[Any] = [rows[0][i] for i in constant]
        select += [f"u.{quote(columns[i][0])}" for i in varying]
        arrays = ", ".join(f"%s::{columns[i][1]}[]" for i in varying)
        params += [pg_array([row[i] for row in rows], columns[i][1]) for i in varying]
        names = ", ".join(quote(columns[i][0]) for i in varying)
        return f"(SELECT {', '.join(select)} FROM unnest({arrays}) AS u({names})) AS v", params
    select = ", ".join(f"column{i + 1} AS {quote(n)}" for i, (n, _) in enumerate(columns))
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params = [value for row in rows for value in row]
    return f"(SELECT {select} FROM (VALUES {', '.join([row_sql] * len(rows))})) AS v", params


def rank_sql(expression: str) -> str:
    """SQL for the forward-only rank of a status expression (see campaigns.statuses.RANK)."""
    from campaigns.statuses import RANK

    whens = " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in RANK.items())
    return f"(CASE {expression} {whens} ELSE -1 END)"


class AnyOf(Lookup):
    """``filter(id__any=[…])``: ``id = ANY(%s)`` with ONE array parameter on PostgreSQL.

    Django's ``__in`` with a list of 10,000 ids makes 10,000 placeholders; its subquery form
    (``IN (SELECT unnest(…))``) lets the planner pick a semi-join that, on a freshly filled
    table with no statistics, compares every row with every id (seconds for a 500-id batch).
    ``= ANY(array)`` is always an index scan by the ids. SQLite gets ``IN (%s, …)``.
    """

    lookup_name = "any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, list[Any]]:
        field = self.lhs.output_field
        return "%s", [field.get_db_prep_value(v, connection, prepared=False) for v in value]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if not values:
            return "1 = 0", []
        db_type = self.lhs.output_field.cast_db_type(connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::{db_type}[])", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # foreign keys keep their own lookup table
