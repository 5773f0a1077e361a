"""The wire between tongban nodes and the hub.

Everything here is shared by ``node`` and ``hub`` and imports neither: the JSON error
document, division codes, configuration loading, the database plumbing and the web
plumbing both applications are built on.  (The layout of DESIGN.md is fixed and node and
hub may not import each other, so their common foundation lives beside the wire schemas.)
"""
