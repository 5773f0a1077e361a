"""The ``tongban`` command."""

from __future__ import annotations

import click

from deploy.demo import demo
from hub.cli import hub
from node.cli import node


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tongban")
def main() -> None:
    """tongban: a federation of government service centers (政务服务中心)."""


main.add_command(node)
main.add_command(hub)
main.add_command(demo)
