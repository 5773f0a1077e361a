# ruff: noqa: N999 - gunicorn looks for a file of this name
"""gunicorn settings for a production node or hub.

    tongban node serve --home /srv/tongban/node --bind 127.0.0.1:8000 \\
        --gunicorn-config deploy/gunicorn.conf.py
    tongban hub serve --home /srv/tongban/hub --bind 127.0.0.1:8100 \\
        --gunicorn-config deploy/gunicorn.conf.py

The address comes from ``--bind``. Most values below can be changed without editing this file
through the environment variable named next to them. Scheduled jobs never run in web workers
(DESIGN.md), so any number of workers is safe.
"""

import multiprocessing
import os

from schemas.runtime.serving import ACCESS_LOG_FORMAT as _ACCESS_LOG_FORMAT


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


# Workers: gunicorn's rule of thumb, 2 x CPUs + 1, capped because each worker holds its own
# database connection pool. A node on SQLite serialises writes anyway (WAL lets reads run
# alongside); the hub on PostgreSQL scales out with more processes, here or on more machines.
workers = _env_int("TONGBAN_GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 12))
# A node's requests are short and a reverse proxy buffers slow clients. The hub overrides
# this: `tongban hub serve` runs gevent workers (serve_worker_class), since every node keeps
# a mailbox long poll open there (docs/scale.md).
worker_class = "sync"

# A worker silent for `timeout` seconds is killed and replaced; a large catalog import is the
# slowest request a node answers. On SIGTERM, workers get `graceful_timeout` to finish.
timeout = _env_int("TONGBAN_GUNICORN_TIMEOUT", 60)
graceful_timeout = _env_int("TONGBAN_GUNICORN_GRACEFUL_TIMEOUT", 30)
# Seconds an idle kept-alive connection stays open (threaded and gevent workers; sync workers
# close after each request): above nginx's upstream keep-alive (60 s), so that nginx never
# sends on a connection gunicorn has just closed. `tongban hub serve` sets its own
# (serve_keepalive_seconds, 75).
keepalive = _env_int("TONGBAN_GUNICORN_KEEPALIVE", 75)

# Recycle workers now and then so that a slow leak can never grow without bound.
max_requests = _env_int("TONGBAN_GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = 500

# Each worker builds its own app (and database engine) after the fork: no shared connections.
preload_app = False

# Logs go to stdout/stderr for systemd's journal. Each access line carries the response time
# in milliseconds and the request id that the app also logs and returns as X-Request-Id, so an
# error report can be matched to its log lines. The request line is logged without its query
# string, which may carry personal data (a staff search by ID number, phone or name) or a
# lookup's query code: schemas/runtime/serving.py's ACCESS_LOG_FORMAT, the same as without
# this file.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("TONGBAN_GUNICORN_LOGLEVEL", "info")
access_log_format = _ACCESS_LOG_FORMAT

# Behind a reverse proxy (nginx, a load balancer) gunicorn trusts X-Forwarded-Proto only from
# these addresses; it decides whether a request counts as https. Keep the default (loopback)
# when the proxy runs on the same machine; list the proxy's address otherwise. Never use "*"
# unless nothing but the proxy can reach this port. X-Forwarded-For is not applied to the
# client address: the access log records it separately (fwd=...).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Refuse oversized request lines and headers early; bodies are capped by the app
# (max_content_length in tongban.toml; the forms with material files: upload_request_max_bytes).
limit_request_line = 8190
limit_request_fields = 100

# gunicorn >= 25 opens a control socket at one fixed per-user path by default, which the node,
# its sync worker and the hub on one machine would all fight over: not needed here.
control_socket_disable = True
