"""Queries the hot path runs on every step, compiled to SQL once and then only executed.

Django compiles a queryset to SQL each time it runs it; for the small queries of a move that
costs more than PostgreSQL's own work (bench/step_cost.py: ~1 ms of the lock query's 2.7 ms).
A `Prepared` query is built from an ordinary queryset with stand-in values, compiled the first
time it runs in a thread (a select_for_update only compiles inside a transaction), and from
then on runs that SQL with the real values and builds the objects the way Django's own
iterator does: the same columns, converters (decrypted fields, JSON, dates) and
select_related partners. Queries still go through the connection's cursor, so query counts,
execute wrappers and the debug log see them as any other.

Only plain filters on stand-in values are supported: each stand-in must come out of the
compiler as exactly one parameter, which `Prepared` checks when it compiles.

The move's two writes are the same idea: `insert` (one `INSERT ... RETURNING id`) and `update`
(one UPDATE of the columns that changed) build their SQL once per model and set of columns,
and still convert each value through its field.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar, cast

from django.db import DatabaseError, connections
from django.db.models import Model, QuerySet, signals
from django.db.models.query import get_related_populators

from live import fast

M = TypeVar("M", bound=Model)


class Param:
    """A stand-in for one value, named as `fetch` will receive it. Strings and integers are
    the kinds the hot path filters on; an integer stand-in is negative (no id is), or, for a
    positive integer field, a large positive number."""

    def __init__(self, name: str, kind: type = str, *, positive: bool = False):
        self.name = name
        self.kind = kind
        self.positive = positive  # compared with a positive integer field (a value below its
        # range would make Django drop the condition: EmptyResultSet)

    def value(self, index: int) -> Any:
        if self.kind is int:
            stand_in = 10**9 + 7919 * (index + 1)  # within a 32-bit integer column's range
            return stand_in if self.positive else -stand_in
        return f"\x00prepared:{index}:{self.name}\x00"


class _Compiled:
    def __init__(self, queryset: QuerySet, alias: str, stand_ins: dict[Any, str]):
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        self.sql = sql
        self.slots: list[tuple[str | None, Any]] = []
        found: dict[str, int] = {}
        for value in params:
            name = stand_ins.get(value)
            if name is not None:
                found[name] = found.get(name, 0) + 1
            self.slots.append((name, value))
        if sorted(found) != sorted(stand_ins.values()) or any(n != 1 for n in found.values()):
            raise ValueError(f"each stand-in must be one parameter of the query: {found}")
        select, klass_info = compiler.select, compiler.klass_info
        assert klass_info is not None, "a Prepared query must select model instances"
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, alias)  # type: ignore[call-arg]
        self.converters = compiler.get_converters([s[0] for s in select[: compiler.col_count]])
        self.compiler = compiler
        self.alias = alias

    def run(self, values: dict[str, Any]) -> list[Model]:
        params = [values[name] if name is not None else value for name, value in self.slots]
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = list(self.compiler.apply_converters(rows, self.converters))
        found = []
        for row in rows:
            obj = self.model.from_db(self.alias, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            found.append(obj)
        return found


class Prepared(Generic[M]):
    """`Prepared(lambda p: Model.objects.filter(x=p["x"]), Param("x"))`, then
    `.fetch(x=...)` returns the model instances (a list) as the queryset would."""

    def __init__(self, build: Callable[[dict[str, Any]], QuerySet[M]], *params: Param):
        self._build = build
        self._params = params
        self._local = threading.local()

    def _compiled(self, alias: str) -> _Compiled:
        cache = self._local.__dict__.setdefault("by_alias", {})
        compiled = cache.get(alias)
        if compiled is None:
            stand_ins = {p.value(i): p.name for i, p in enumerate(self._params)}
            queryset = self._build({p.name: p.value(i) for i, p in enumerate(self._params)})
            compiled = cache[alias] = _Compiled(queryset.using(alias), alias, stand_ins)
        return compiled

    def fetch(self, *, using: str = "default", **values: Any) -> list[M]:
        missing = {p.name for p in self._params} - values.keys()
        if missing:
            raise TypeError(f"missing values: {sorted(missing)}")
        if not fast.on("prepared"):
            return list(self._build(values).using(using))
        return self._compiled(using).run(values)  # type: ignore[return-value]

    def first(self, *, using: str = "default", **values: Any) -> M | None:
        found = self.fetch(using=using, **values)
        return found[0] if found else None


# --- writes: one INSERT ... RETURNING, one UPDATE of the changed columns ----------------------


class _Write:
    """One write statement for a model and a set of fields: its SQL, built once."""

    def __init__(self, sql: str, fields: list, returning: list):
        self.sql = sql
        self.fields = fields
        self.returning = returning


_writes = threading.local()


def _plain(model: type[Model], fields: list) -> bool:
    """Whether a write of these fields can skip Django's save machinery without changing what
    it does (with `_heard`): no field compiles its value into SQL of its own (a placeholder
    other than %s), no parent table, no ordering column to fill in."""
    if model._meta.order_with_respect_to is not None or model._meta.parents:
        return False
    return not any(hasattr(f, "get_placeholder") or f.generated for f in fields)


def _insert_write(model: type[Model], alias: str) -> _Write | None:
    cache = _writes.__dict__.setdefault("insert", {})
    key = (model, alias)
    if key not in cache:
        connection: Any = connections[alias]
        meta: Any = model._meta
        fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
        returning = list(meta.db_returning_fields)
        write = None
        if (
            _plain(model, fields)
            and connection.features.can_return_columns_from_insert
            and returning == [meta.auto_field]
        ):
            quote = connection.ops.quote_name
            columns = ", ".join(quote(f.column) for f in fields)
            values = ", ".join(["%s"] * len(fields))
            tail, tail_params = connection.ops.return_insert_columns(returning)
            table = quote(meta.db_table)
            sql = f"INSERT INTO {table} ({columns}) VALUES ({values}) {tail}"  # noqa: S608
            if not tail_params:  # (the names are quoted; the values are parameters)
                write = _Write(sql, fields, returning)
        cache[key] = write
    return cache[key]


def _update_write(model: type[Model], names: tuple[str, ...], alias: str) -> _Write | None:
    cache = _writes.__dict__.setdefault("update", {})
    key = (model, names, alias)
    if key not in cache:
        connection: Any = connections[alias]
        meta: Any = model._meta
        fields = [meta.get_field(name) for name in names]
        write = None
        if _plain(model, fields) and all(
            f.concrete and not f.primary_key and f.model is model for f in fields
        ):
            quote = connection.ops.quote_name
            sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
            table, pk = quote(meta.db_table), quote(meta.pk.column)
            sql = f"UPDATE {table} SET {sets} WHERE {pk} = %s"  # noqa: S608 (quoted names)
            write = _Write(sql, fields, [])
        cache[key] = write
    return cache[key]


def _heard(model: type[Model]) -> bool:
    """Someone listens to this model's saves (asked on every write: Django caches it)."""
    return signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model)


def _value(field, obj: Model, *, add: bool, connection) -> Any:
    value = field.pre_save(obj, add)
    if hasattr(value, "resolve_expression"):
        raise TypeError(f"{field.name}: an expression can't be written by a prepared write")
    return field.get_db_prep_save(value, connection=connection)


def insert(obj: Model, *, using: str = "default") -> None:
    """`obj.save(force_insert=True)` as one `INSERT ... RETURNING id` whose SQL is built once
    per model and database: each value still goes through its field (defaults, encryption,
    JSON), only the compiling is skipped (~0.4 ms a move, bench/step_cost.py). A model whose
    save signals have listeners, or that the backend can't insert this way, is saved by
    Django as usual."""
    write = _insert_write(type(obj), using) if fast.on("prepared") else None
    if write is None or _heard(type(obj)):
        obj.save(force_insert=True, using=using)
        return
    cast(Any, obj)._prepare_related_fields_for_save(operation_name="save")  # Django's check
    connection = connections[using]
    params = [_value(f, obj, add=True, connection=connection) for f in write.fields]
    with connection.cursor() as cursor:
        cursor.execute(write.sql, params)
        row = cursor.fetchone()
    for value, field in zip(row, write.returning, strict=True):
        setattr(obj, field.attname, value)
    obj._state.adding = False
    obj._state.db = using


def update(obj: Model, fields: Iterable[str], *, using: str = "default") -> None:
    """`obj.save(update_fields=fields)` as one UPDATE of those columns, its SQL built once per
    set of fields. Nothing to update writes nothing (as Django's save does)."""
    names = tuple(fields)
    if not names:
        return
    write = _update_write(type(obj), names, using) if fast.on("prepared") else None
    if write is None or _heard(type(obj)):
        obj.save(update_fields=names, using=using)
        return
    cast(Any, obj)._prepare_related_fields_for_save(operation_name="save", fields=write.fields)
    connection = connections[using]
    params = [_value(f, obj, add=False, connection=connection) for f in write.fields]
    with connection.cursor() as cursor:
        cursor.execute(write.sql, [*params, obj.pk])
        if cursor.rowcount != 1:
            raise DatabaseError("Save with update_fields did not affect any rows.")
    obj._state.db = using
