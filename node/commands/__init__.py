"""The command groups of ``tongban node`` beside node/cli.py's own: sync and keys
(sync.py), the audit chain (audit.py), the working calendar (calendar.py).

They sit above the features and the sync layer, as the CLI's part of the composition root
(node/composition.py), so no feature imports a command or node.sync.  Each command imports
what it works with when it runs, so that starting one costs little (``cli_start_ratio``).
"""
