"""Hot reads in plain SQL, prepared once per PostgreSQL session and loaded into model instances.

The labelling loop's reads run on every operation. Built through the ORM they cost more Python
time than the rest of the request, and planning their joins cost PostgreSQL more than running them.
So they are written once in SQL from the models' table and column names, run on PostgreSQL as
prepared statements (planned once per database session; the PREPARE goes straight to the driver,
so query counts per request are the same on a fresh connection) and loaded into model instances
through the fields' own converters, as the ORM loads them. Elsewhere (SQLite) the same SQL runs
plainly. Every statement carries its ORM equivalent (`orm`), which tests compare it with and which
runs instead when the setting CONCORD_PREPARED_SQL is off (e.g. behind PgBouncer in transaction
pooling, where a session's prepared statements do not follow the client).
"""

import threading

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

# Which statements each database session has prepared: {alias: (raw connection, {names})}, per thread
# (Django's connections are per thread); a new raw connection is a new session with none.
_sessions = threading.local()


def prepared_sql_enabled() -> bool:
    return bool(getattr(settings, "CONCORD_PREPARED_SQL", True))


def prepared_forget(connection) -> None:
    """Forget which statements the connection's session has prepared (they are asked for again)."""
    getattr(_sessions, "done", {}).pop(connection.alias, None)


def prepared_names(connection) -> set[str]:
    """The statements this thread knows the connection's current session to have prepared."""
    raw, names = getattr(_sessions, "done", {}).get(connection.alias, (None, set()))
    return names if raw is connection.connection else set()


class SqlNames:
    """Quoted table and column names of models, for one connection."""

    def __init__(self, connection):
        self.quote = connection.ops.quote_name
        self.can_lock = connection.features.has_select_for_update_of

    def for_update_of(self, alias: str) -> str:
        """` FOR UPDATE OF alias` where the database locks rows (SQLite serialises writers instead)."""
        return self.locking(f"FOR UPDATE OF {alias}")

    def locking(self, clauses: str) -> str:
        """Row-locking clauses (`FOR UPDATE OF a FOR SHARE OF b`) where the database locks rows."""
        return f" {clauses}" if self.can_lock else ""

    def table(self, model) -> str:
        return self.quote(model._meta.db_table)

    def col(self, model, name: str) -> str:
        return self.quote(model._meta.get_field(name).column)


class _Prepared:
    """A statement with %(name)s parameters, prepared once per PostgreSQL session (elsewhere run as is).

    `params`: (name, PostgreSQL type) pairs, the order of the prepared statement's $1, $2…
    `prep`: parameters given as Python values of a model field ({name: (model, field name)}),
    turned into database values by that field, as the ORM would."""

    def __init__(self, name: str, *, params, prep=None, orm=None):
        self.name, self.params, self.prep, self.orm = name, params, prep or {}, orm
        self._compiled = {}

    def _connection(self, using):
        return connections[using or DEFAULT_DB_ALIAS]

    def _compiled_for(self, connection):
        compiled = self._compiled.get(connection.vendor)
        if compiled is None:
            compiled = self._compiled[connection.vendor] = self._compile(connection)
        return compiled

    def _with_prepare(self, connection, sql: str) -> tuple[str, str | None]:
        """The SQL, and on PostgreSQL its PREPARE statement (parameters numbered $1, $2…)."""
        prepare = None
        if connection.vendor == "postgresql":
            numbered = sql % {name: f"${i}" for i, (name, _) in enumerate(self.params, start=1)}
            prepare = f"PREPARE {self.name} ({', '.join(t for _, t in self.params)}) AS {numbered}"
        return sql, prepare

    def _execute(self, cursor, connection, sql, prepare, values) -> None:
        for name, (model, field) in self.prep.items():
            values[name] = model._meta.get_field(field).get_db_prep_save(values[name], connection)
        if prepare:
            self._prepare(connection, prepare)
            placeholders = ", ".join(["%s"] * len(self.params))
            cursor.execute(f"EXECUTE {self.name} ({placeholders})", [values[p] for p, _ in self.params])
        else:
            cursor.execute(sql, values)

    def _prepare(self, connection, prepare: str) -> None:
        """PREPARE once per database session (a reconnect starts a new one, without the statement)."""
        raw = connection.connection
        sessions = _sessions.__dict__.setdefault("done", {})
        done = sessions.get(connection.alias)
        if done is None or done[0] is not raw:
            done = sessions[connection.alias] = (raw, set())
        if self.name not in done[1]:
            with raw.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [self.name])
                if cursor.fetchone() is None:
                    cursor.execute(prepare)
            done[1].add(self.name)


class PreparedWrite(_Prepared):
    """An INSERT or UPDATE; `statement(names)` returns its SQL given a `SqlNames`. `run` returns the
    row of its RETURNING clause, if it has one; `orm(**values)` does the same through the ORM.
    `postgresql_only`: SQL other databases do not run (a data-modifying WITH); they run `orm`."""

    def __init__(self, name: str, *, params, statement, prep=None, orm=None, postgresql_only=False):
        super().__init__(name, params=params, prep=prep, orm=orm)
        self.statement, self.postgresql_only = statement, postgresql_only

    def _compile(self, connection):
        return self._with_prepare(connection, self.statement(SqlNames(connection)))

    def run(self, *, using: str | None = None, **values) -> tuple | None:
        connection = self._connection(using)
        if not prepared_sql_enabled() or (self.postgresql_only and connection.vendor != "postgresql"):
            return self.orm(**values)
        sql, prepare = self._compiled_for(connection)
        with connection.cursor() as cursor:
            self._execute(cursor, connection, sql, prepare, values)
            return cursor.fetchone() if cursor.description else None


class PreparedRead(_Prepared):
    """Rows of a hot read, loaded as model instances (and trailing scalar columns).

    `tables`: (alias, model, attnames) in select order; a table whose primary key comes back NULL
    (an outer join found nothing) loads as None. `build(names)` returns (extra select expressions,
    the SQL from FROM on) with %(name)s placeholders, given a `SqlNames`. Or, for a statement of
    another shape, `statement(names, columns)` returns it whole, given the tables' column list.
    `orm(**values)` returns the same rows (a list of tuples) through the ORM."""

    def __init__(self, name: str, *, tables, params, build=None, statement=None, prep=None, orm=None):
        super().__init__(name, params=params, prep=prep, orm=orm)
        self.tables, self.build, self.statement = tables, build, statement

    def fetch(self, *, using: str | None = None, **values) -> tuple | None:
        """The first row, or None."""
        rows = self._run(using, values, many=False)
        return rows[0] if rows else None

    def fetch_all(self, *, using: str | None = None, **values) -> list[tuple]:
        return self._run(using, values, many=True)

    def _run(self, using, values, *, many: bool) -> list[tuple]:
        if not prepared_sql_enabled():
            rows = self.orm(**values)
            return rows if many else rows[:1]
        connection = self._connection(using)
        sql, prepare, loaders = self._compiled_for(connection)
        with connection.cursor() as cursor:
            self._execute(cursor, connection, sql, prepare, values)
            rows = cursor.fetchall() if many else cursor.fetchmany(1)
        return [self._load(connection, loaders, row) for row in rows]

    def _compile(self, connection):
        names = SqlNames(connection)
        loaders, select = [], []
        for alias, model, attnames in self.tables:
            fields = [f for f in model._meta.concrete_fields if f.attname in attnames]
            assert len(fields) == len(attnames), (model, attnames)
            converters = []
            for field in fields:
                col = field.get_col(alias)
                converters.append((col, connection.ops.get_db_converters(col) + field.get_db_converters(connection)))
            loaders.append((model, [f.attname for f in fields], converters))
            select += [f"{alias}.{names.quote(f.column)}" for f in fields]
        if self.statement is not None:
            sql = self.statement(names, select)
        else:
            extras, rest = self.build(names)
            sql = f"SELECT {', '.join([*select, *extras])} {rest}"
        sql, prepare = self._with_prepare(connection, sql)
        return sql, prepare, loaders

    def _load(self, connection, loaders, row) -> tuple:
        loaded, start = [], 0
        for model, attnames, converters in loaders:
            values = list(row[start : start + len(attnames)])
            start += len(attnames)
            if values[0] is None:  # the outer join found nothing
                loaded.append(None)
                continue
            for i, (col, convert) in enumerate(converters):
                for converter in convert:
                    values[i] = converter(values[i], col, connection)
            loaded.append(model.from_db(connection.alias, attnames, values))
        return (*loaded, *row[start:])
