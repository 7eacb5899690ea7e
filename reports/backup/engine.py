"""Whole-project backup and restore over every table of every app, found from the models themselves.

Which tables: every concrete model (many-to-many tables included) whose foreign keys
lead to the project model — directly (`Membership.project`) or through others
(`Annotation.assignment → Assignment.item → RoundItem.round → Round.project`).
Non-null foreign keys are preferred for that path, so a row is never missed. The
users those rows point at travel as their own table (username, names, e-mail, never
a password). New apps and models are covered without changing this module.

Export streams each table in primary-key order into the archive (reports.backup.archive),
so memory stays flat. Restore checks the whole archive first (checksums, version,
members), then recreates the project in one transaction:

- users are matched by username; a missing one is created inactive without a usable
  password (`map_users="create"`), or refused (`map_users="existing"`);
- rows keep their primary keys when none of them is taken in this database (an empty
  database, or the project deleted since), so identifiers inside JSON values (histories,
  snapshots, reports) stay right and a second export is byte-identical; otherwise every
  table's keys are shifted past those it holds (one offset per table, reserved in the
  sequence on PostgreSQL) and foreign keys shifted alike (ids inside JSON values are then
  the archive's: undo snapshots, which would act on those ids, are closed to undo);
- rows are written with multi-row INSERTs, without model instances or signals;
- timestamps are restored as exported (auto_now fields are not re-stamped);
- a foreign key to the same table (a taxonomy node's parent) or closing a cycle is set
  after all rows of the table exist;
- globally unique values with a generated default (a survey's public token) are generated
  anew when already taken here.
Anything wrong rolls the whole restore back: nothing is written.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone

from .archive import ArchiveError, ArchiveReader, ArchiveWriter

EXCLUDED_APPS = {"admin", "auth", "contenttypes", "sessions", "authtoken", "sites", "messages", "staticfiles"}
USER_FIELDS = (
    "username",
    "email",
    "first_name",
    "last_name",
    "date_joined",
)  # never a password; created users are inactive
BATCH = 1000
# Rows never backed up: a backup job's result is itself a backup (it would nest every earlier one).
ROW_EXCLUSIONS = {"core.job": {"kind": "export_project"}}
Progress = Callable[[int, int, str], None]


class RestoreError(Exception):
    """The archive is sound but cannot be restored here (a slug taken, a user missing, …)."""


@dataclass
class TablePlan:
    model: type[models.Model]
    label: str
    path: str  # lookup from this model to the project's pk ("pk" for the project itself)
    fields: list[models.Field]
    fks: dict[str, str] = field(default_factory=dict)  # attname -> target label ("<user>" for users)
    deferred: set[str] = field(default_factory=set)  # attnames set after the table's rows exist

    @property
    def attnames(self) -> list[str]:
        return [f.attname for f in self.fields]


USER = "<user>"


def _candidate_models() -> list[type[models.Model]]:
    out = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.abstract or meta.proxy or not meta.managed or meta.app_label in EXCLUDED_APPS:
            continue
        out.append(model)
    return out


def _fk_fields(model) -> list[models.ForeignKey]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey)]


def _paths(project_model, candidates) -> dict[type[models.Model], str]:
    """Each owned model's lookup to the project pk, non-null foreign keys first."""
    paths: dict[type[models.Model], str] = {project_model: "pk"}
    for allow_null in (False, True):
        changed = True
        while changed:
            changed = False
            for model in candidates:
                if model in paths:
                    continue
                for fk in sorted(_fk_fields(model), key=lambda f: f.name):
                    target = fk.remote_field.model
                    if target not in paths or target is model or (fk.null and not allow_null):
                        continue
                    parent = paths[target]
                    paths[model] = fk.name if parent == "pk" else f"{fk.name}__{parent}"
                    changed = True
                    break
    return paths


def plan_tables(project_model: type[models.Model] | None = None) -> list[TablePlan]:
    """The owned tables in the order they are restored (a table after those its keys point at)."""
    project_model = project_model or _project_model()
    user_model = get_user_model()
    candidates = _candidate_models()
    paths = _paths(project_model, candidates)
    plans: dict[type[models.Model], TablePlan] = {}
    for model, path in paths.items():
        plan = TablePlan(
            model=model, label=model._meta.label_lower, path=path, fields=list(model._meta.concrete_fields)
        )
        for fk in _fk_fields(model):
            target = fk.remote_field.model
            if target is user_model:
                plan.fks[fk.attname] = USER
            elif target in paths:
                plan.fks[fk.attname] = target._meta.label_lower
                if target is model:
                    if not fk.null:
                        raise RestoreError(f"{plan.label}.{fk.name} points at its own table and cannot be null")
                    plan.deferred.add(fk.attname)
        plans[model] = plan
    return _ordered(plans)


def _ordered(plans: dict) -> list[TablePlan]:
    by_label = {p.label: p for p in plans.values()}
    done: list[TablePlan] = []
    placed: set[str] = set()
    remaining = sorted(by_label)
    while remaining:
        ready = [
            label
            for label in remaining
            if all(
                t in placed or t in (USER, label) or attname in by_label[label].deferred
                for attname, t in by_label[label].fks.items()
            )
        ]
        if not ready:
            # a cycle: defer the nullable keys of the first stuck table that has one
            for label in remaining:
                plan = by_label[label]
                nullable = [
                    a
                    for a, t in plan.fks.items()
                    if t not in placed and t != USER and plan.model._meta.get_field(_name(plan, a)).null
                ]
                if nullable:
                    plan.deferred.update(nullable)
                    break
            else:
                raise RestoreError(f"Tables {', '.join(remaining)} point at one another with non-null keys")
            continue
        for label in ready:
            done.append(by_label[label])
            placed.add(label)
        remaining = [label for label in remaining if label not in placed]
    return done


def _name(plan: TablePlan, attname: str) -> str:
    return next(f.name for f in plan.fields if f.attname == attname)


def _project_model():
    label = getattr(settings, "CONCORD_PROJECT_MODEL", None)
    if label:
        return apps.get_model(label)
    for model in _candidate_models():
        if model.__name__ == "Project" and any(f.name == "slug" for f in model._meta.fields):
            return model
    raise RestoreError("No project model found")


def _queryset(plan: TablePlan, project_pk: int):
    queryset = plan.model._base_manager.filter(**{plan.path: project_pk})
    if plan.label in ROW_EXCLUSIONS:
        queryset = queryset.exclude(**ROW_EXCLUSIONS[plan.label])
    return queryset.order_by("pk")


# --- export ---------------------------------------------------------------------------------


def project_export(
    *,
    project: models.Model,
    target: str | BinaryIO,
    concord_version: str,
    created_at: str | None = None,
    progress: Progress | None = None,
) -> dict:
    """Write the project's backup archive to `target`. Returns the manifest."""
    plans = plan_tables(type(project))
    user_model = get_user_model()
    counts = {p.label: _queryset(p, project.pk).count() for p in plans}
    total = sum(counts.values()) or 1
    done = 0
    with ArchiveWriter(target, project=project.slug, concord_version=concord_version, created_at=created_at) as writer:
        user_ids: set[int] = set()
        for plan in plans:
            for attname, target_label in plan.fks.items():
                if target_label == USER:
                    values = _queryset(plan, project.pk).exclude(**{f"{attname}__isnull": True})
                    user_ids.update(values.values_list(attname, flat=True).distinct())
        users = user_model._base_manager.filter(pk__in=user_ids).order_by("username")
        user_fields = [f for f in USER_FIELDS if _has_field(user_model, f)]
        usernames = dict(users.values_list("pk", "username"))
        writer.write_table(
            user_model._meta.label_lower,
            (dict(zip(user_fields, row, strict=True)) for row in users.values_list(*user_fields)),
        )
        ranges = {}
        for plan in plans:
            rows = _rows(plan, project.pk, usernames)
            writer.write_table(plan.label, _counting(rows, plan.label, counts[plan.label], done, total, progress))
            done += counts[plan.label]
            bounds = _queryset(plan, project.pk).aggregate(lo=models.Min("pk"), hi=models.Max("pk"))
            ranges[plan.label] = [bounds["lo"], bounds["hi"]]
        writer.extra = {
            "user_table": user_model._meta.label_lower,
            "project_table": type(project)._meta.label_lower,
            "pk_ranges": ranges,
        }
    return writer.manifest()


def _has_field(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except Exception:  # FieldDoesNotExist
        return False
    return True


def _rows(plan: TablePlan, project_pk: int, usernames: dict[int, str]) -> Iterator[dict]:
    """The table's rows; a key to a user is the user's username, so the archive does not depend on user ids."""
    attnames = plan.attnames
    user_keys = [a for a, t in plan.fks.items() if t == USER]
    for values in _queryset(plan, project_pk).values_list(*attnames).iterator(chunk_size=2000):
        row = dict(zip(attnames, values, strict=True))
        for attname in user_keys:
            if row[attname] is not None:
                row[attname] = usernames[row[attname]]
        yield row


def _counting(rows, label, count, done, total, progress) -> Iterator[dict]:
    for index, row in enumerate(rows, start=1):
        if progress and index % 5000 == 0:
            progress(done + index, total, f"{label}: {index}/{count}")
        yield row
    if progress:
        progress(done + count, total, f"{label}: {count}")


# --- restore --------------------------------------------------------------------------------


@contextlib.contextmanager
def _timestamps_as_given(plans: list[TablePlan]):
    """auto_now/auto_now_add off while restoring, so the archive's timestamps are kept."""
    saved = []
    for plan in plans:
        for f in plan.fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                saved.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def project_restore(
    *,
    source: str | BinaryIO,
    slug: str | None = None,
    map_users: str = "create",
    progress: Progress | None = None,
) -> dict:
    """Recreate the project of a backup archive; returns a report. Nothing is written on any error."""
    if map_users not in ("create", "existing"):
        raise RestoreError(f"map_users is create or existing, not {map_users!r}")
    with ArchiveReader(source) as reader:
        reader.verify()
        plans = plan_tables()
        user_model = get_user_model()
        known = {p.label: p for p in plans}
        user_table = reader.manifest.get("extra", {}).get("user_table", user_model._meta.label_lower)
        unknown = [t for t in reader.tables if t not in known and t != user_table]
        if unknown:
            raise ArchiveError(
                f"The archive holds tables this Concord does not have ({', '.join(unknown)}); "
                "restore it with the Concord version that wrote it."
            )
        with transaction.atomic(), _timestamps_as_given(plans):
            return _restore(reader, plans, user_table, slug=slug, map_users=map_users, progress=progress)


def _restore(reader: ArchiveReader, plans, user_table, *, slug, map_users, progress) -> dict:
    user_map, created_users = _restore_users(reader, user_table, map_users)
    ranges = reader.manifest.get("extra", {}).get("pk_ranges", {})
    keep_ids = all(_free(p, ranges.get(p.label)) for p in plans if reader.counts.get(p.label))
    offsets = {p.label: 0 if keep_ids else _offset(p, ranges.get(p.label)) for p in plans}
    total = sum(reader.counts.values()) or 1
    done = 0
    project_pk = None
    for plan in plans:
        if plan.label not in reader.tables:
            continue
        inserter = _Inserter(plan, user_map=user_map, offsets=offsets, slug=slug)
        for batch in _batches(reader.rows(plan.label)):
            inserter.insert(batch)
            done += len(batch)
            if progress:
                progress(done, total, f"{plan.label}: {done}/{total}")
        inserter.apply_deferred()
        if plan.path == "pk" and inserter.first_pk is not None:
            project_pk = inserter.first_pk
    if project_pk is None:
        raise ArchiveError("The archive holds no project row.")
    _reset_sequences([p.model for p in plans])
    closed = 0 if keep_ids else _close_undo(plans, project_pk)
    project = plans[0].model._base_manager.get(pk=project_pk)
    return {
        "project": project.slug,
        "project_id": project.pk,
        "ids_kept": keep_ids,
        "undo_closed": closed,
        "users_created": created_users,
        "users_matched": len(user_map) - len(created_users),
        "counts": {p.label: reader.counts.get(p.label, 0) for p in plans},
    }


def _close_undo(plans: list[TablePlan], project_pk: int) -> int:
    """With shifted keys, an undo snapshot (a JSON `snapshot` beside `undone_at`) still names the archive's
    rows — in this database, maybe another project's. Such changes are closed to undo (marked undone now)."""
    closed = 0
    for plan in plans:
        names = {f.name for f in plan.fields}
        if {"snapshot", "undone_at"} <= names:
            rows = plan.model._base_manager.filter(**{plan.path: project_pk, "undone_at__isnull": True})
            closed += rows.update(undone_at=timezone.now())
    return closed


def _offset(plan: TablePlan, bounds) -> int:
    """New keys are the archive's plus this offset: past every key the table holds here (and reserved)."""
    if not bounds or bounds[0] is None:
        return 0
    current = plan.model._base_manager.aggregate(m=models.Max("pk"))["m"] or 0
    offset = max(current - bounds[0] + 1, 0)
    if connection.vendor == "postgresql":  # reserve the range, so concurrent inserts take keys beyond it
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, %s), %s)",
                [plan.model._meta.db_table, plan.model._meta.pk.column, bounds[1] + offset],
            )
    return offset


_CONVERTED = (
    models.DateTimeField,
    models.DateField,
    models.TimeField,
    models.DurationField,
    models.DecimalField,
    models.UUIDField,
    models.BinaryField,
    models.JSONField,
)


class _Inserter:
    """Rows of one table written with batched INSERTs (no model instances), keys shifted by the offsets."""

    def __init__(self, plan: TablePlan, *, user_map, offsets, slug):
        self.plan, self.user_map, self.offsets, self.slug = plan, user_map, offsets, slug
        self.fields = plan.fields
        self.pk_attname = plan.model._meta.pk.attname
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in self.fields)
        self.sql = f"INSERT INTO {quote(plan.model._meta.db_table)} ({columns}) VALUES "
        self.marks = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        limit = connection.features.max_query_params
        self.rows_per_statement = BATCH if not limit else max(1, min(BATCH, limit // len(self.fields)))
        self.deferred: list[tuple[str, int, int]] = []
        self.first_pk = None
        self.converters = self._converters()
        self.fresh = [
            f
            for f in self.fields
            if f.unique and not f.primary_key and not isinstance(f, models.ForeignKey) and callable(f.default)
        ]

    def _converters(self) -> list:
        """Per field, how an archived value becomes a database value (decided once per table)."""
        conn = connections[DEFAULT_DB_ALIAS]
        out = []
        for f in self.fields:
            target = self.plan.fks.get(f.attname)
            if f.primary_key:
                out.append(("pk", f.attname, None))
            elif target == USER:
                out.append(("user", f.attname, None))
            elif target is not None and f.attname in self.plan.deferred:
                out.append(("deferred", f.attname, self.offsets[target]))
            elif target is not None:
                out.append(("fk", f.attname, self.offsets[target]))
            elif conn.vendor == "postgresql" and isinstance(f, models.DateField):
                out.append(("value", f.attname, None))  # PostgreSQL reads the archive's ISO 8601 text itself
            elif conn.vendor == "postgresql" and isinstance(f, models.JSONField):
                out.append(("convert", f.attname, lambda v: json.dumps(v, ensure_ascii=False)))
            elif isinstance(f, _CONVERTED):
                out.append(("convert", f.attname, lambda v, f=f: f.get_db_prep_save(f.to_python(v), conn)))
            else:
                out.append(("value", f.attname, None))
        return out

    def _row(self, row: dict, new_pk: int) -> list:
        values = []
        for kind, attname, extra in self.converters:
            value = row.get(attname)
            if kind == "pk":
                value = new_pk
            elif value is None or kind == "value":
                pass
            elif kind == "fk":
                value += extra
            elif kind == "convert":
                value = extra(value)
            elif kind == "user":
                if value not in self.user_map:
                    raise ArchiveError(f"{self.plan.label} row {row.get(self.pk_attname)} names user {value!r}")
                value = self.user_map[value]
            else:  # deferred: set once every row of the table exists
                self.deferred.append((attname, new_pk, value + extra))
                value = None
            values.append(value)
        return values

    def insert(self, batch: list[dict]) -> None:
        offset = self.offsets[self.plan.label]
        if self.plan.path == "pk":
            for row in batch:
                self._project_row(row)
        rows = []
        for row in batch:
            new_pk = row[self.pk_attname] + offset
            rows.append(self._row(row, new_pk))
            if self.first_pk is None:
                self.first_pk = new_pk
        for f in self.fresh:
            self._fresh_values(f, rows)
        with connection.cursor() as cursor:  # multi-row INSERTs: one round trip per statement, not per row
            step = self.rows_per_statement
            for start in range(0, len(rows), step):
                chunk = rows[start : start + step]
                cursor.execute(self.sql + ", ".join([self.marks] * len(chunk)), [v for r in chunk for v in r])

    def _project_row(self, row: dict) -> None:
        if self.slug:
            row["slug"] = self.slug
        if self.plan.model._base_manager.filter(slug=row.get("slug")).exists():
            raise RestoreError(f"A project with slug {row.get('slug')!r} exists here; restore with --slug NEW_SLUG.")

    def _fresh_values(self, f: models.Field, rows: list[list]) -> None:
        """Globally unique values with a generated default are generated anew when taken here."""
        index = self.fields.index(f)
        wanted = [r[index] for r in rows if r[index] is not None]
        taken = set(
            self.plan.model._base_manager.filter(**{f"{f.attname}__in": wanted}).values_list(f.attname, flat=True)
        )
        for r in rows:
            if r[index] in taken:
                r[index] = f.get_db_prep_save(f.default(), connection)

    def apply_deferred(self) -> None:
        quote = connection.ops.quote_name
        table, pk = quote(self.plan.model._meta.db_table), quote(self.plan.model._meta.pk.column)
        by_attname: dict[str, list] = defaultdict(list)
        for attname, new_pk, target in self.deferred:
            by_attname[attname].append((target, new_pk))
        with connection.cursor() as cursor:
            for attname, pairs in by_attname.items():
                column = quote(self.plan.model._meta.get_field(_name(self.plan, attname)).column)
                for start in range(0, len(pairs), BATCH):
                    cursor.executemany(
                        f"UPDATE {table} SET {column} = %s WHERE {pk} = %s", pairs[start : start + BATCH]
                    )


def _restore_users(reader: ArchiveReader, user_table: str, map_users: str) -> tuple[dict[str, int], list[str]]:
    """{username: user id here}, and the usernames created."""
    user_model = get_user_model()
    user_map: dict[str, int] = {}
    created: list[str] = []
    if user_table not in reader.tables:
        return user_map, created
    rows = list(reader.rows(user_table))
    existing = {
        u.username: u.pk for u in user_model._base_manager.filter(username__in=[r.get("username") for r in rows])
    }
    for row in rows:
        username = row.get("username")
        if not username:
            raise ArchiveError(f"{user_table} has a row without a username.")
        if username in existing:
            user_map[username] = existing[username]
            continue
        if map_users == "existing":
            raise RestoreError(f"No user {username!r} in this database (restore with --map-users create to add one).")
        user = user_model(username=username)
        for name in USER_FIELDS[1:]:
            if name in row and _has_field(user_model, name) and name != "is_active":
                setattr(user, name, user_model._meta.get_field(name).to_python(row[name]))
        user.is_active = False
        user.set_unusable_password()
        user.save()
        user_map[username] = user.pk
        created.append(username)
    return user_map, created


def _free(plan: TablePlan, bounds) -> bool:
    if not bounds or bounds[0] is None:
        return True
    return not plan.model._base_manager.filter(pk__gte=bounds[0], pk__lte=bounds[1]).exists()


def _batches(rows: Iterator[dict]) -> Iterator[list[dict]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _reset_sequences(model_list) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), model_list)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
