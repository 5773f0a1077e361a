"""Serving a tongban application: gunicorn in production, Flask's server with ``--dev``."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import Application

# The access log's line: the method and the path, never the query string (a staff search carries
# an applicant's ID number, phone or name there, a public lookup its query code), then the
# status, size, time in milliseconds and the request id the app also logs and returns.
ACCESS_LOG_FORMAT = (
    '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s '
    'fwd="%({x-forwarded-for}i)s" ua="%(a)s"'
)


class _Gunicorn(Application):
    """gunicorn around an app factory; a config file's settings, then the command line's."""

    def __init__(
        self, factory: Callable[[], Flask], options: dict[str, Any], config_file: str | None
    ) -> None:
        self.factory = factory
        self.options = options
        self.config_file = config_file
        super().__init__()

    def init(self, parser: Any, opts: Any, args: Any) -> None:
        return None

    def load_config(self) -> None:
        if self.config_file:
            self.load_config_from_file(self.config_file)
        for key, value in self.options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.factory()


def _cooperative(factory: Callable[[], Flask]) -> Callable[[], Flask]:
    """``factory`` for a gevent worker, which monkey-patches the standard library after the
    master imported psycopg: psycopg chooses how to wait on its sockets when it is imported
    (its C wait would block every greenlet of the worker), so it chooses again here, after
    the patch — ``psycopg.waiting`` then picks its gevent-aware strategy."""

    def build() -> Flask:
        waiting = sys.modules.get("psycopg.waiting")
        if waiting is not None:
            importlib.reload(waiting)
        return factory()

    return build


def serve(
    factory: Callable[[], Flask],
    *,
    bind: str,
    workers: int | None,
    dev: bool,
    config_file: str | None = None,
    threads: int | None = None,
    worker_class: str | None = None,
    worker_connections: int | None = None,
    keepalive: int | None = None,
) -> None:
    """Run ``factory()``'s app until stopped (SIGINT/SIGTERM end it cleanly).

    Settings given on the command line (bind, workers, threads) override the config file's;
    without a config file, gunicorn runs with tongban's defaults below.  ``threads`` above 1
    makes gunicorn's workers threaded (gthread), so that a request waiting on something (the
    hub's long-polled mailbox) holds a thread instead of a whole process.  ``worker_class``
    ``"gevent"`` (the hub's default) serves each request on a greenlet instead, up to
    ``worker_connections`` open connections a worker: a waiting request then holds only its
    socket and a greenlet (docs/scale.md).  ``keepalive`` (seconds an idle kept-alive
    connection stays open; gunicorn's own default is 2) overrides the config file's.
    """
    if dev:
        host, _, port = bind.rpartition(":")
        factory().run(host=host or "127.0.0.1", port=int(port), debug=False, use_reloader=False)
        return
    defaults: dict[str, Any] = {
        "workers": 2,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "timeout": 60,
        # seconds a stopped worker has to finish its requests (an open long poll or an idle
        # kept-alive connection holds a gevent worker that long);
        # TONGBAN_GUNICORN_GRACEFUL_TIMEOUT, the variable deploy/gunicorn.conf.py reads too,
        # changes it (the real-process tests stop their servers with 1 s: nothing is in flight)
        "graceful_timeout": int(os.environ.get("TONGBAN_GUNICORN_GRACEFUL_TIMEOUT", "10")),
        # every gunicorn would otherwise claim the same ~/.gunicorn control socket
        "control_socket_disable": True,
    }
    # a config file replaces tongban's defaults (but every gunicorn still skips the socket)
    options: dict[str, Any] = (
        {"control_socket_disable": True} if config_file else dict(defaults)
    )
    options["bind"] = bind
    if workers is not None:
        options["workers"] = workers
    if keepalive is not None:
        options["keepalive"] = keepalive
    if worker_class == "gevent":
        factory = _cooperative(factory)
        options["worker_class"] = "gevent"
        if worker_connections is not None:
            options["worker_connections"] = worker_connections
    elif threads is not None and threads > 1:
        options["threads"] = threads
        options["worker_class"] = "gthread"
    _Gunicorn(factory, options, config_file).run()
