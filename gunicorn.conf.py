"""Gunicorn settings for Concord's web server (docker-compose.yml's web service; bench/labelling_loop.py).

Python runs one thread at a time per process, so the CPU-bound part of a request scales with
processes; threads only fill the time a request waits for PostgreSQL. Hence a few processes (one per
core, plus one) with a few threads each. `reuse_port` gives every process its own listening socket
and the kernel spreads new connections over them: with one shared socket, long-lived keep-alive
connections tend to pile onto whichever process accepted first, which then queues requests while
the others idle. Every value can be overridden on the command line or with GUNICORN_* variables.
"""

import os

cores = os.cpu_count() or 1

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS") or cores + 1)
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
reuse_port = True
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE") or 30)
# Load Django once in the master: workers start serving at once and share the loaded code.
preload_app = True
