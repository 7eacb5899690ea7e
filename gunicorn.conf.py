"""Gunicorn settings for Concord's web server (docker-compose.yml's web service; bench/labelling_loop.py).

Sync workers, two per core. A request is mostly Python, and Python runs one thread at a time per
process, so the CPU-bound part scales with processes; the second process per core runs while the
first waits for PostgreSQL. A sync worker accepts a connection only when it is free, from the one
socket all workers share, so every request goes to an idle process. Measured on 2 cores with 20
clients labelling (bench/labelling_loop.py): 4 sync workers served ~310 operations/s with p95
~80 ms; gthread workers (2–4 processes × 1–8 threads) served as many or fewer with p95 100–150 ms,
because keep-alive connections stay with the process that accepted them and some processes queue
requests while others idle (and a single process is held to one core).

Sync workers do not keep connections alive and a slow client holds a worker for its request: in
front of the open internet, put a buffering proxy (nginx) before gunicorn. Every value can be
overridden on the command line or with the GUNICORN_* variables below.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "sync"
workers = int(os.environ.get("GUNICORN_WORKERS") or 2 * (os.cpu_count() or 1))
# Imports and exports run in Celery; the timeout only guards against a stuck request.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 60)
# Load Django once in the master: workers start serving at once and share the loaded code.
preload_app = True
