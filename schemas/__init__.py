"""What node and hub share, importing neither.

The top level is the wire between tongban centers: the signed envelope and its canonical
JSON, the message bodies and their JSON Schemas, certificates, keys and signed requests,
division codes, reporting periods, applicants' personal-data formats and the JSON error
document.  :mod:`schemas.runtime` is the common foundation both applications run on
(configuration, database and web plumbing, migrations, serving, logging, passwords and the
login throttle, backups, private files, the spreadsheet writer): infrastructure, not wire.
(The layout of DESIGN.md is fixed and node and hub may not import each other, so their
common foundation lives beside the wire schemas.)
"""
