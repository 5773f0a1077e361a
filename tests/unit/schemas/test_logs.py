"""Personal data is masked in log output."""

from __future__ import annotations

import io
import logging

from schemas.logs import MaskingFilter, mask_personal_data


def test_masks_id_numbers_and_mobiles() -> None:
    text = "applicant 45098119900307123X phone 13812345678 case 2026-000123"
    masked = mask_personal_data(text)
    assert "45098119900307123X" not in masked
    assert "450981********123X" in masked
    assert "138****5678" in masked
    assert "2026-000123" in masked


def test_filter_masks_formatted_records() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskingFilter())
    logger = logging.getLogger("tongban.test.masking")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("lookup by %s", "450981199003071234")
    finally:
        logger.removeHandler(handler)
    assert "450981199003071234" not in stream.getvalue()
    assert "450981********1234" in stream.getvalue()
