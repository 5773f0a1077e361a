"""A tongban node: one government service center with its own database."""

from node.app import create_app

__all__ = ["create_app"]
