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
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

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
        return self._compiled(using).run(values)  # type: ignore[return-value]

    def first(self, *, using: str = "default", **values: Any) -> M | None:
        found = self.fetch(using=using, **values)
        return found[0] if found else None
