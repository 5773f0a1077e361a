"""Logging set-up: one format for every process, with personal data masked.

Resident ID numbers and mobile phone numbers are masked in every log record, whatever logged
them (DESIGN.md: personal data is masked in logs).
"""

from __future__ import annotations

import logging
import re

_ID_NUMBER = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_personal_data(text: str) -> str:
    """Mask resident ID numbers (keep 6 + 4 characters) and mobile numbers (keep 3 + 4)."""
    text = _ID_NUMBER.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    return _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_personal_data(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str = "INFO") -> None:
    """Configure the ``tongban`` logger once per process."""
    logger = logging.getLogger("tongban")
    logger.setLevel(level.upper())
    if any(isinstance(f, MaskingFilter) for f in logger.filters):
        return
    logger.addFilter(MaskingFilter())
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s %(process)d %(message)s")
        )
        handler.addFilter(MaskingFilter())
        logger.addHandler(handler)
        logger.propagate = False
