"""Helpers the tests share: an API client for a user, real threads for the concurrency tests, and
bounded waits (polling, htmx swaps in the browser) instead of fixed sleeps.

Timing: nothing here assumes a quiet machine. Every wait of a thread, a barrier, an event, a Celery
result or a polled condition is bounded by `WAIT` seconds (CONCORD_TEST_WAIT overrides it); a test
fails when the bound is reached, never because something was a little slow. The browser tests'
timeouts are set in tests/browser/conftest.py."""

import itertools
import os
import threading
import time
from contextlib import contextmanager

from django.db import connection
from rest_framework.test import APIClient

WAIT = float(os.environ.get("CONCORD_TEST_WAIT", "60"))  # seconds, for every thread/worker/condition wait
POLL_INTERVAL = 0.05  # seconds between two looks at a polled condition


def api_client(user=None):
    """An API client logged in as `user` (anonymous when None)."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def poll(fetch, *, until=bool, timeout=WAIT, interval=POLL_INTERVAL):
    """Call `fetch()` until `until(value)` holds or `timeout` seconds have passed; return the last value.

    The one place where the tests sleep: between two looks, at most `timeout` in all."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if until(value) or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def wait_until(condition, *, timeout=WAIT, interval=POLL_INTERVAL, message=""):
    """Poll `condition()` until it returns something truthy and return that; fail the test after `timeout` s."""
    value = poll(condition, timeout=timeout, interval=interval)
    assert value, message or f"still false after {timeout:g} s: {getattr(condition, '__name__', condition)}"
    return value


def in_threads(*functions, together=False, expected=(), timeout=WAIT):
    """Run each function in its own thread and return their results in order.

    Each thread closes its database connection when done. `together`: the threads wait at a
    barrier and start at the same moment. An exception of a type in `expected` (the loser of
    a race, say a Conflict) is that thread's result; any other is re-raised here (the first
    one), and a thread still running after `timeout` seconds fails the test."""
    barrier = threading.Barrier(len(functions)) if together else None
    errors, results = [], [None] * len(functions)

    def run(i, fn):
        try:
            if barrier is not None:
                barrier.wait(WAIT)
            results[i] = fn()
        except expected as exc:
            results[i] = exc
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(functions)]
    for t in threads:
        t.start()
    join_all(threads, timeout=timeout)
    if errors:
        raise errors[0]
    return results


def join_all(threads, *, timeout=WAIT):
    """Join `threads`, all of them within `timeout` seconds in total; a thread still alive fails the test."""
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), f"a thread still runs after {timeout:g} s"


# --- the browser ------------------------------------------------------------------------------

_LISTEN_FOR_SETTLE = """([selector, params, key]) => {
  window[key] = false;
  const wanted = (detail) => {
    if (!detail.target || !detail.target.matches(selector) || !detail.xhr) return false;
    const url = new URL(detail.xhr.responseURL, window.location.href);
    return Object.entries(params).every(([name, value]) => url.searchParams.get(name) === value);
  };
  const listener = (event) => {
    if (!wanted(event.detail)) return;
    window[key] = true;
    document.removeEventListener("htmx:afterSettle", listener);
  };
  document.addEventListener("htmx:afterSettle", listener);
}"""
_settle_keys = itertools.count()


@contextmanager
def htmx_settled(page, target, **params):
    """Around an action in the browser: after it, wait until htmx has swapped a response into the
    element matching the CSS selector `target` and settled it, for a request whose query string has
    the given `params` (e.g. `label="Wrong"`: not the response to "Wro" typed on the way).

    What an assertion of absence needs first: the event that would have produced the thing.
    The page must not navigate away inside the block (the listener lives in the page)."""
    key = f"__concordSettled{next(_settle_keys)}"
    page.evaluate(_LISTEN_FOR_SETTLE, [target, {k: str(v) for k, v in params.items()}, key])
    yield
    page.wait_for_function("key => window[key] === true", arg=key)
