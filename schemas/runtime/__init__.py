"""The runtime both applications are built on; none of it travels between centers.

Configuration (``settings``), the database (``database``, ``writelock``, ``migrate``,
``backup``, ``files``), the web (``webapp``, ``serving``, ``throttle``, ``passwords``),
``logs``, the command lines' shared pieces (``cli_support``) and the one CSV/XLSX writer
(``spreadsheet``).  It may use the wire formats of :mod:`schemas`; they never use it.
"""
