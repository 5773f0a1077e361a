"""Personal data is masked in log output."""

from __future__ import annotations

import io
import logging

from schemas.runtime.logs import MaskingFilter, mask_personal_data


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


def test_tracebacks_are_masked_too() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskingFilter())
    logger = logging.getLogger("tongban.test.masking.exc")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError("bad applicant 450981199003071234 phone 13812345678")
        except ValueError:
            logger.exception("lookup failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "Traceback" in output
    assert "450981199003071234" not in output
    assert "13812345678" not in output
    assert "450981********1234" in output


def test_phone_with_trailing_newline_is_refused() -> None:
    from schemas.personal import phone_problems, resident_id_problems

    assert phone_problems("13812345678") == []
    assert phone_problems("13812345678\n") != []
    assert resident_id_problems("11010519491231002X\n") == []  # stripped before the check
