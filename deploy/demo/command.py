"""The ``tongban demo`` command: the whole federation on loopback, or ``--check``.

Only the options live here; the demo's machinery (deploy/demo/run.py) is imported when the
command runs, so that every other ``tongban`` command starts without it.
"""

from __future__ import annotations

import click

from deploy.demo.layout import default_workers


@click.command()
@click.option("--dir", "work_dir", default="demo-data", show_default=True,
              type=click.Path(file_okay=False),
              help="Work folder for every home, log and the logins (reused when it exists).")
@click.option("--hub-port", default=8100, show_default=True, type=click.IntRange(1, 65535),
              help="Loopback port of the hub.")
@click.option("--base-port", default=8200, show_default=True, type=click.IntRange(1, 65000),
              help="The nodes listen on consecutive ports from this one.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 8),
              help="gunicorn workers per server.")
@click.option("--months", default=3, show_default=True, type=click.IntRange(1, 12),
              help="Months of past cases in every center.")
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(0.001, 10),
              help="Multiplies every center's monthly volume.")
@click.option("--jobs", default=default_workers(), show_default=True,
              type=click.IntRange(1, 16), help="Processes generating the past cases.")
@click.option("--no-workers", is_flag=True,
              help="Do not start a sync worker per node (the federation then stands still).")
@click.option("--check", is_flag=True,
              help="A smaller federation, built, verified flow by flow and stopped; prints one "
                   "JSON report and exits 0 only when every check passed.")
@click.option("--exit-after-start", is_flag=True,
              help="Start everything, print the URLs and logins, then stop and exit 0.")
@click.pass_context
def demo(ctx: click.Context, work_dir: str, hub_port: int, base_port: int, workers: int,
         months: int, scale: float, jobs: int, no_workers: bool, check: bool,
         exit_after_start: bool) -> None:
    """Run the demo federation on loopback, on embedded SQLite.

    Guangxi (450000), Yulin (450900), Yulin's seven county-level centers and two townships
    under each, plus the hub: every home is set up with tongban's own commands, every center
    enrolled by its parent, the province's standard catalog published and localized, months of
    cases generated, cases forwarded from townships and returned, summaries sent. Then each
    node's URL and a login per role are printed, and everything runs until Ctrl-C. A second
    run reuses the folder and its data.
    """
    from deploy.demo.run import run_demo

    ctx.exit(run_demo(work_dir=work_dir, hub_port=hub_port, base_port=base_port,
                      workers=workers, months=months, scale=scale, jobs=jobs,
                      no_workers=no_workers, check=check, exit_after_start=exit_after_start))
