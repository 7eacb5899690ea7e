"""Every URL pattern of the app, GET as every role: never a 5xx; non-members 404; ids of another
project under this project's URL 404 (IDOR); ids out of any range 404.

The patterns come from Django's URL resolver, so a new page or API route is swept without
editing this file; each URL keyword is filled from a World (tests/review/world.py)."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import member
from tests.review.world import World, stranger

SKIP_NAMESPACES = {"admin"}
# Router `pk` keywords: which World id a route's pk names.
PK_SOURCE = {
    "artefact": "artefact_id",
    "assignment": "assignment_id",
    "label": "label_id",
    "conflict": "item_id",
    "vocabulary-term": "term_id",
    "taxonomy-node": "node_id",
    "taxonomy-leaf": "leaf_id",
    "taxonomy-comparison": "comparison_id",
    "project": None,
}
FORMATS = {"fmt": ["csv", "json", "xlsx", "svg", "txt", "docx", "md", "latex", "bogus"]}
PUBLIC = {
    "login",
    "logout",
    "schema",
    "api-docs",
    "api-root",
    "take",
    "respond",
    "survey-public",
    "survey-public-start",
    "survey-response",
    "survey-response-submit",
    "home",
    "project-list",
    # accounts (issue 9): a reset link and an invitation link are answered to whoever holds them
    "password_reset_confirm",
    "invite",
}


def _walk(patterns, namespace="", keys=frozenset()):
    for p in patterns:
        here = keys | set(p.pattern.regex.groupindex)
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            if ns in SKIP_NAMESPACES:
                continue
            yield from _walk(p.url_patterns, ns, here)
        elif isinstance(p, URLPattern) and p.name:
            yield namespace, p, here


def url_names():
    """(name, URL keywords) of every named route (DRF's format-suffix twins left out)."""
    seen = set()
    for namespace, p, keys in _walk(get_resolver().url_patterns):
        if "format" in keys:
            continue
        seen.add((f"{namespace}:{p.name}" if namespace else p.name, tuple(sorted(keys))))
    return sorted(seen)


def _base(name):
    bare = name.split(":")[-1]
    for suffix in (
        "-list",
        "-detail",
        "-merge",
        "-move",
        "-flag",
        "-close",
        "-open",
        "-results",
        "-annotation",
        "-resolve",
        "-classes",
        "-class-update",
        "-coverage",
    ):
        if bare.endswith(suffix):
            return bare[: -len(suffix)]
    return bare


def shard(names, index: int, count: int):
    """Every `count`-th route from `index`: a sweep split into tests that each stay well inside the
    per-test timeout on a busy machine (each shard builds its own worlds)."""
    return names[index::count]


SHARDS = {"roles": 4, "ids": 4, "queries": 10, "writes": 8}


def fill(name, keys, ids, **override):
    """URLs for `name`: one per format when it takes one."""
    kwargs = {}
    for key in keys:
        if key == "pk":
            source = PK_SOURCE.get(_base(name), "missing")
            kwargs[key] = ids.get(source, 1) if source else ids["slug"]
        elif key == "fmt":
            continue
        else:
            kwargs[key] = ids.get(key, 1)
    kwargs.update({k: v for k, v in override.items() if k in keys})
    if "fmt" in keys:
        return [reverse(name, kwargs={**kwargs, "fmt": f}) for f in FORMATS["fmt"]]
    return [reverse(name, kwargs=kwargs)]


@pytest.fixture
def worlds(db, settings):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    a, b = World("a"), World("b")
    return a, b


def get(client, url):
    try:
        response = client.get(url)
    except Exception as exc:  # noqa: BLE001 - reported with the URL
        return f"raised {exc.__class__.__name__}: {exc}"
    return response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize("part", range(SHARDS["roles"]))
def test_every_url_as_every_role(worlds, part):
    a, b = worlds
    problems = []
    assert len(url_names()) > 100
    names = shard(url_names(), part, SHARDS["roles"])
    users = {**a.users(), "stranger": stranger(), "anonymous": None}
    for role, user in users.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        for name, keys in names:
            for url in fill(name, keys, a.ids):
                for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
                    try:
                        status = client.get(url, **headers).status_code
                    except Exception as exc:  # noqa: BLE001
                        status = f"raised {exc.__class__.__name__}: {exc}"
                    if not isinstance(status, int) or status >= 500:
                        problems.append((role, url, headers, status))
                    elif role == "stranger" and keys and name.split(":")[-1] not in PUBLIC and status not in (404, 405):
                        problems.append((role, url, headers, status, "stranger not 404"))
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.django_db
@pytest.mark.parametrize("part", range(SHARDS["ids"]))
def test_ids_of_another_project_or_out_of_range_are_not_found(worlds, part):
    a, b = worlds
    problems = []
    client = Client()
    both = member(a.project, lead=True, moderator=True, evaluator=True, username="both")
    member(b.project, lead=True, moderator=True, evaluator=True, username="both")
    both.refresh_from_db()  # the factory set the password again: log in with the stored one
    idor_users = {"lead": a.lead, "moderator": a.moderator, "evaluator": a.evaluators[0], "member of both": both}
    for name, keys in shard(url_names(), part, SHARDS["ids"]):
        id_keys = [k for k in keys if k not in ("slug", "project_slug", "fmt", "token")]
        if not id_keys:
            continue
        for role, user in idor_users.items():
            client.force_login(user)
            for key in id_keys:
                variants = {"other project": None, "2**31": 2**31, "2**63": 2**63, "2**70": 2**70, "0": 0}
                for what, value in variants.items():
                    if what == "other project":
                        if key == "number":
                            continue  # numbers are per project: round 1 and interview 1 exist in both
                        source = PK_SOURCE.get(_base(name), "missing") if key == "pk" else key
                        if not source or source not in b.ids:
                            continue
                        override = {key: b.ids[source]}
                    else:
                        override = {key: value}
                    for url in fill(name, keys, a.ids, **override):
                        status = get(client, url)
                        leaked = what == "other project" and status in (200, 201, 204, 302)
                        if leaked or not isinstance(status, int) or status >= 500:
                            problems.append((role, what, url, status))
    assert not problems, "\n".join(map(str, problems))


QUERY_KEYS = [
    "page",
    "page_size",
    "round",
    "q",
    "number",
    "node",
    "leaf",
    "selected",
    "status",
    "kind",
    "source",
    "format",
    "show",
    "piece",
    "limit",
    "state",
    "edit",
    "level",
    "framework",
    "pool",
    "resolved",
    "label",
    "verdict",
    "speaker",
    "coder",
    "order",
    "sort",
    "tag",
    "interview",
    "category",
    "download",
    "search",
    "ordering",
    "file_format",
    "min_count",
    "mine",
    "pseudonymise",
    "part",
    "stage",
    "pending",
]
ODD_VALUES = ["²", "-1", "99999999999999999999", "abc", "\x00", "node-²", "x" * 3000]


@pytest.mark.django_db
@pytest.mark.parametrize("part", range(SHARDS["queries"]))
def test_odd_query_parameters_never_raise(worlds, part):
    a, _ = worlds
    everyone = member(a.project, lead=True, moderator=True, evaluator=True, username="all-roles")
    client = Client()
    client.force_login(everyone)
    problems = []
    for name, keys in shard(url_names(), part, SHARDS["queries"]):
        for url in fill(name, keys, a.ids)[:2]:
            if client.get(url).status_code != 200:
                continue  # POST-only routes, and downloads refused for a reason of their own
            # every parameter at once with each odd value, then each parameter alone with the values most
            # likely to pass a digit check and break int() or the database's integer range
            queries = [dict.fromkeys(QUERY_KEYS, value) for value in ODD_VALUES]
            queries += [{key: value} for key in QUERY_KEYS for value in ("²", "99999999999999999999")]
            for query in queries:
                try:
                    status = client.get(url, query, HTTP_HX_REQUEST="true").status_code
                except Exception as exc:  # noqa: BLE001
                    status = f"raised {exc.__class__.__name__}: {exc}"
                if not isinstance(status, int) or status >= 500:
                    problems.append((url, query if len(query) == 1 else str(query)[:60], status))
    assert not problems, "\n".join(map(str, problems))


JUNK_BODIES = [
    {},
    {"action": "bogus", "name": "x", "id": "abc", "label_id": "abc", "target": "abc", "parent": "abc", "node": "abc"},
    {"action": "delete"},
    {"action": "close"},
    {"action": "flag", "term_id": "abc"},
    {"action": "keep"},
    {"action": "edit"},
    {"action": "update"},
    {"action": "reopen"},
    {"action": "add_classes"},
    {"action": "merge", "label_id": "1"},
    {"action": "rename", "label_id": "1"},
]


@pytest.mark.django_db
@pytest.mark.parametrize("part", range(SHARDS["writes"]))
def test_every_url_takes_junk_writes_without_a_server_error(worlds, part):
    """POST (and PUT, PATCH, DELETE) with empty and junk bodies to every route as a member holding every
    role and as a plain evaluator: 4xx or a redirect, never a 5xx."""
    a, _ = worlds
    everyone = member(a.project, lead=True, moderator=True, evaluator=True, username="all-roles")
    problems = []
    for user in (everyone, a.evaluators[0]):
        client = Client()
        client.force_login(user)
        for name, keys in shard(url_names(), part, SHARDS["writes"]):
            if name in ("logout", "login"):
                continue
            for url in fill(name, keys, a.ids)[:1]:
                for body in JUNK_BODIES:
                    calls = [("post", {"data": body}), ("post", {"data": body, "HTTP_HX_REQUEST": "true"})]
                    if url.startswith("/api/"):
                        calls = [
                            (m, {"data": body, "content_type": "application/json"}) for m in ("post", "put", "patch")
                        ]
                        calls.append(("delete", {}))
                    for method, kwargs in calls:
                        try:
                            status = getattr(client, method)(url, **kwargs).status_code
                        except Exception as exc:  # noqa: BLE001
                            status = f"raised {exc.__class__.__name__}: {exc}"
                        if not isinstance(status, int) or status >= 500:
                            problems.append((user.username, method, url, body, status))
    assert not problems, "\n".join(map(str, problems))
