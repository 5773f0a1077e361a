"""Deployment: the ``tongban`` command line and the local demo federation."""
