"""Logging set-up: one format for every process, with personal data masked.

Resident ID numbers and mobile phone numbers are masked in every log record, whatever logged
them (DESIGN.md: personal data is masked in logs).
"""

from __future__ import annotations

import logging

from schemas.personal import mask_personal_data

__all__ = ["MaskingFilter", "configure_logging", "mask_personal_data"]


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_personal_data(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # tracebacks carry values too (an ID number in an exception message)
            record.exc_text = mask_personal_data(
                logging.Formatter().formatException(record.exc_info)
            )
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
