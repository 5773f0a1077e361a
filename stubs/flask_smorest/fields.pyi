# flask_smorest.fields (0.47): the file upload field of @blp.arguments(..., location="files").
from typing import Any

import marshmallow as ma
from werkzeug.datastructures import FileStorage

class Upload(ma.fields.Field[FileStorage]):
    format: str
    def __init__(self, format: str = ..., **kwargs: Any) -> None: ...
