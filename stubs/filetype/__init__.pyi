# The part of filetype (h2non/filetype.py, untyped) that node/cases/materials.py uses.
from pathlib import PurePath

def guess_mime(obj: bytes | bytearray | memoryview | str | PurePath) -> str | None: ...
