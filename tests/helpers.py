"""Helpers the tests share: an API client for a user, and real threads for the concurrency tests."""

import threading

from django.db import connection
from rest_framework.test import APIClient


def api_client(user=None):
    """An API client logged in as `user` (anonymous when None)."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def in_threads(*functions, together=False, expected=(), timeout=60):
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
                barrier.wait(30)
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
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results
