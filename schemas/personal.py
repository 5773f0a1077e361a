"""Applicants' personal data: resident ID numbers (GB 11643) and phone numbers.

Validation for input, masking for lists, exports and logs.  Personal data never leaves a
node in a summary; where it must be shown to staff in a list it is masked.
"""

from __future__ import annotations

import re

from schemas.i18n import _

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
_MOBILE_SHAPE = re.compile(r"^1[3-9][0-9]{9}$")
_LANDLINE_SHAPE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}$")

_ID_IN_TEXT = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def id_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character (ISO 7064 MOD 11-2) for 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def resident_id_problems(value: str) -> list[str]:
    """Why ``value`` is not a valid 18-character resident ID number (empty when valid)."""
    value = value.strip().upper()
    if not _ID_SHAPE.fullmatch(value):
        return [_("a resident ID number has 17 digits followed by a digit or X")]
    problems = []
    month, day = int(value[10:12]), int(value[12:14])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        problems.append(_("the birth date in the ID number is not a date"))
    if id_check_digit(value[:17]) != value[17]:
        problems.append(_("the check digit does not match (GB 11643)"))
    return problems


def phone_problems(value: str) -> list[str]:
    """Why ``value`` is not a mainland mobile or landline number (empty when valid)."""
    if _MOBILE_SHAPE.fullmatch(value) or _LANDLINE_SHAPE.fullmatch(value):
        return []
    return [_("a phone number is an 11-digit mobile (1xxxxxxxxxx) or a landline like 0775-1234567")]


def mask_id_number(value: str) -> str:
    """``450981********123X``: keeps the region and the last four characters."""
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "****"


def mask_phone(value: str) -> str:
    """``138****5678``."""
    return value[:3] + "****" + value[-4:] if len(value) >= 7 else "****"


def mask_name(value: str) -> str:
    """``张*`` / ``欧阳**``: the family name's first character stays."""
    return value[:1] + "*" * max(len(value) - 1, 1) if value else ""


def mask_personal_data(text: str) -> str:
    """Mask every resident ID number and mobile number found in free text (for logs)."""
    text = _ID_IN_TEXT.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    return _MOBILE_IN_TEXT.sub(lambda m: m.group(1) + "****" + m.group(2), text)
