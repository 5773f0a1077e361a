"""What ``tongban demo`` does (deploy/demo/command.py holds its options): set up the
federation's homes and data where an earlier run did not, start the hub, the nodes and their
workers, print where they are, and run until Ctrl-C; or, with ``--check``, verify every flow.

Each phase prints its time; the long ones show a progress bar (deploy/demo/progress.py).
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import click
import requests

from deploy.demo.catalog import DEMO_USERS
from deploy.demo.check import Checks
from deploy.demo.federation import Federation
from deploy.demo.layout import check_layout, full_layout
from deploy.demo.methodology import save_methodology
from deploy.demo.processes import (
    LOOPBACK,
    POLL_INTERVAL,
    Child,
    ChildDied,
    DemoError,
    Interrupted,
    port_is_free,
    scrub_environment,
    stop_all,
    wait_healthy,
)
from deploy.demo.progress import Phases, bar

RUNNING = "Press Ctrl-C to stop."


def _check_ports(hub_port: int, ports: list[int]) -> None:
    if hub_port in ports:
        raise click.BadParameter(
            f"the hub's port {hub_port} is among the nodes' ports "
            f"{ports[0]}–{ports[-1]}", param_hint="--hub-port")
    for port in [hub_port, *ports]:
        if not port_is_free(port):
            option = "--hub-port" if port == hub_port else "--base-port"
            raise DemoError(f"port {port} on {LOOPBACK} is in use (another demo?); stop it or "
                            f"choose another {option}")


def _later_steps(fed: Federation, months: int, scale: float,
                 jobs: int) -> list[tuple[str, Callable[[], str]]]:
    """The set-up steps done with the hub running, in order: each one's name and work."""
    return [
        ("enrolled", lambda: f"{fed.enroll_children()} centers enrolled by their parents"),
        ("catalog", lambda: f"the province published {fed.publish_catalog()} standard "
                            "matters; every center adopted and localized them"),
        ("calendar", lambda: f"the province published the holiday schedule of "
                             f"{fed.publish_calendar()}; every center adopted it"),
        ("history", lambda: f"{fed.history(months, scale, jobs)} cases"),
        ("forwarding", lambda: "forwarded today: " + json.dumps(fed.live_forwarding())),
        ("tongban", fed.live_tongban),
        ("bundle", fed.live_bundle),
        ("directives", lambda: f"{fed.directives()} directives issued and answered"),
        ("summaries", lambda: f"{fed.summaries(months)} signed summaries at the hub"),
        ("methodology", lambda: save_methodology(fed)),
    ]


def _build(fed: Federation, months: int, scale: float, jobs: int, stop: threading.Event,
           hub: Child, http: requests.Session, phases: Phases) -> None:
    """Every set-up step not done by an earlier run, in order (the hub is running)."""
    wait_healthy(hub, stop, http)
    phases.report("hub", f"serving at {fed.hub_url}")
    for step, run in _later_steps(fed, months, scale, jobs):
        if stop.is_set():
            raise Interrupted
        if not fed.done(step):
            phases.report(step, run())
            fed.mark(step)


def _print_running(fed: Federation, logins: Mapping[str, str], workers_on: bool,
                   exit_after_start: bool) -> None:
    rule = "=" * 78
    lines = ["", rule, " tongban demo: the federation is running", rule,
             f" Hub       {fed.hub_url}/healthz   (rankings: {fed.hub_url}/api/v1/docs)", ""]
    for member in fed.members.values():
        lines.append(f" {member.code:<10}{member.url:<24}{member.node.name}")
    lines += ["", " On every node: the citizens' pages at <url>/, staff at <url>/staff/login,",
              " API docs at <url>/api/v1/docs (docs/web.md is a tour of the pages)", "",
              f" Logins (the same on every node; kept in {fed.work / 'logins.json'})"]
    lines += [f"   {user.username:<12} {logins[user.username]:<20} {user.description}"
              for user in DEMO_USERS]
    lines += ["", " Workers " + ("sync every node every 10 s" if workers_on
                                 else "are not running (--no-workers)"),
              f" Logs in {fed.work / 'logs'}", rule]
    lines.append("--exit-after-start: stopping now." if exit_after_start else RUNNING)
    click.echo("\n".join(lines))


def run_demo(*, work_dir: str, hub_port: int, base_port: int, workers: int, months: int,
             scale: float, jobs: int, no_workers: bool, check: bool,
             exit_after_start: bool) -> int:
    """``tongban demo`` (deploy/demo/command.py): set up what an earlier run did not, start
    everything, then wait for Ctrl-C (or verify and report, with ``check``); the exit code."""
    phases = Phases()
    layout = check_layout() if check else full_layout()
    if check:
        months, scale, no_workers = 1, min(scale, 0.05), True
    work = Path(work_dir).resolve()
    reused = work.exists()
    work.mkdir(parents=True, exist_ok=True)
    (work / "logs").mkdir(exist_ok=True)
    ports = [base_port + i for i in range(len(layout))]
    _check_ports(hub_port, ports)
    fed = Federation(work, layout, hub_port, base_port)
    click.echo(f"tongban demo: {len(layout)} centers and a hub in {work} "
               f"({'reused' if reused else 'new'})", err=check)

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    children: list[Child] = []
    exit_code = 0
    report: dict[str, object] | None = None
    try:
        # with --check, stdout carries the JSON report only: progress goes to stderr
        with contextlib.redirect_stdout(sys.stderr) if check else contextlib.nullcontext():
            removed = scrub_environment()
            if removed:
                click.echo(f"ignoring {', '.join(removed)}: the demo configures its own homes")
            _start(fed, children, stop, months, scale, jobs, workers, no_workers, phases)
            click.echo(phases.summary())
            if check:
                checks = Checks(fed, fed.logins(),
                                workers=lambda codes: _workers_of(fed, codes, children))
                results = checks.run()
                ok = all(result["ok"] for result in results.values())
                exit_code = 0 if ok else 1
                report = {"ok": ok, "checks": results, "nodes": len(layout),
                          **checks.figures, "seconds": round(phases.total(), 1)}
            else:
                _print_running(fed, fed.logins(), not no_workers, exit_after_start)
                while not exit_after_start and not stop.wait(POLL_INTERVAL):
                    for child in children:
                        if child.exited():
                            raise ChildDied(child)
    except Interrupted:
        click.echo("interrupted while starting.", err=True)
    except ChildDied as died:
        exit_code = 1
        click.echo(f"\nerror: {died}; the last lines of {died.child.log_path}:\n"
                   f"{died.child.log_tail()}", err=True)
    finally:
        with contextlib.redirect_stdout(sys.stderr) if check else contextlib.nullcontext():
            stop_all(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if report is not None:
        click.echo(json.dumps(report, ensure_ascii=False))
    return exit_code


@contextlib.contextmanager
def _workers_of(fed: Federation, codes: list[str], children: list[Child]) -> Iterator[None]:
    """The sync workers of ``codes`` for a block (``--check`` runs them for one check)."""
    started = [_serve(f"worker {code}", ["node", "worker", "--home", str(member.home)],
                      fed.work / "logs" / f"worker-{code}.log", member.url)
               for code in codes for member in (fed.members[code],)]
    children += started
    try:
        yield
    finally:
        stop_all(started)
        for child in started:
            children.remove(child)


def _serve(name: str, args: list[str], log: Path, url: str) -> Child:
    return Child.start(name, args, log, url)


def _start(fed: Federation, children: list[Child], stop: threading.Event, months: int,
           scale: float, jobs: int, workers: int, no_workers: bool, phases: Phases) -> None:
    """Set up what an earlier run did not, then start the hub, the nodes and the workers."""
    logs = fed.work / "logs"
    hub_args = ["hub", "serve", "--home", str(fed.hub_home), "--bind",
                f"{LOOPBACK}:{fed.hub_port}", "--workers", "2"]
    created = fed.init_homes()
    phases.report("homes", f"{created} created, {len(fed.members) + 1 - created} kept")
    if not fed.done("trust"):
        # the hub reads its trust root when it starts: trust the province before serving
        phases.report("users", f"{fed.create_users(fed.logins())} staff accounts")
        fed.mark("users")
        fed.enroll()
        fed.mark("trust")
        phases.report("trust", "the province's key is the hub's trust root")
    if stop.is_set():
        raise Interrupted
    hub = _serve("hub", hub_args, logs / "hub.log", fed.hub_url)
    children.append(hub)

    def serve_nodes() -> list[Child]:
        nodes = [_serve(f"node {m.code}", ["node", "serve", "--home", str(m.home), "--bind",
                                            f"{LOOPBACK}:{m.port}", "--workers", str(workers)],
                        logs / f"node-{m.code}.log", m.url)
                 for m in fed.members.values()]
        children.extend(nodes)
        return nodes

    # a folder an earlier run set up has nothing to build: the nodes boot beside the hub
    # instead of after it
    built = all(fed.done(step) for step, _ in _later_steps(fed, months, scale, jobs))
    nodes = serve_nodes() if built else []
    with requests.Session() as http:
        _build(fed, months, scale, jobs, stop, hub, http, phases)
        nodes = nodes or serve_nodes()
        with bar("starting the node servers", len(nodes)) as advance:
            for child in nodes:
                wait_healthy(child, stop, http)
                advance(1)
        phases.report("servers", f"{len(nodes)} node servers answering")
    if not no_workers:
        children += [_serve(f"worker {m.code}", ["node", "worker", "--home", str(m.home)],
                            logs / f"worker-{m.code}.log", m.url)
                     for m in fed.members.values()]


