"""``tongban demo``: the whole federation on loopback (deploy/demo/command.py)."""

from deploy.demo.command import demo

__all__ = ["demo"]
