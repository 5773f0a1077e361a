"""Typed service inputs: the dataclasses the marshmallow schemas load (``@post_load``) and the
services take, instead of raw mappings of user input.

An update names only what changes: a field left out of the request is :data:`UNSET` (not
``None``, which may be a value: "no window"), and :meth:`Given.given` is what was given.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any, Final, TypeVar


class Unset(enum.Enum):
    """The type of :data:`UNSET`: a field the input leaves out."""

    UNSET = "unset"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = Unset.UNSET

_G = TypeVar("_G", bound="Given")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Given:
    """A typed input whose fields may be :data:`UNSET`."""

    def given(self) -> dict[str, Any]:
        """The fields the input gives, by name (the :data:`UNSET` ones left out)."""
        values = ((f.name, getattr(self, f.name)) for f in dataclasses.fields(self))
        return {name: value for name, value in values if value is not UNSET}

    @classmethod
    def of(cls: type[_G], loaded: Mapping[str, Any]) -> _G:
        """The input from a schema's loaded fields (its ``@post_load``)."""
        return cls(**loaded)


__all__ = ["UNSET", "Given", "Unset"]
