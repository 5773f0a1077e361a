"""通办 (代收代办): the rules of a case received at one center for another center of the
province that is competent for it.  Plain Python, no database: forwarding
(node/cases/forwarding.py) asks these rules when it sends a case sideways and when one arrives.

- A matter may be received elsewhere when the catalog marks it 通办 (``tongban_scope``
  ``province``: any center of the province).
- The competent center is the center at the matter's handling level over the *competence
  division*, which the matter's ``competence`` rule names: the applicant's 户籍 division
  (``household``: the first six digits of the ID number), the applicant's address division
  (``address``) or the division of the matter's object (``matter``: where the property or
  the business is), both picked by the receiving clerk from the registry's centers.
- The receiving center sends the case to that center only; the competent center checks the
  same rules against its own catalog and sends back (退回, with the reason) a case that is not
  通办 there or for which it is not competent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from node.catalog.models import Competence, Matter, TongbanScope
from schemas.divisions import DivisionCodeError, Level, at_level, level_of, province_of
from schemas.errors import ValidationFailed
from schemas.i18n import _

_ID_NUMBER = re.compile(r"[0-9]{17}[0-9Xx]")

RULE_NAMES = {
    Competence.HOUSEHOLD: _("申请人户籍地"),
    Competence.ADDRESS: _("申请人住所地"),
    Competence.MATTER: _("事项所在地"),
}


class NotTongban(ValidationFailed):
    """The matter may not be received at another center (a 422 naming ``to``)."""

    code = "not_tongban"


class NotCompetent(ValidationFailed):
    """The chosen center is not competent, or competence cannot be decided (a 422)."""

    code = "not_competent"


def competent_center(level: Level, division: str) -> str | None:
    """The center at ``level`` over ``division`` (``division`` itself at that level); None when
    ``division`` lies above ``level`` or is not a division code."""
    return at_level(division, level)


def household_division(id_number: str | None) -> str | None:
    """The division an 18-digit ID number was issued in (its first six digits), else None."""
    if not id_number or not _ID_NUMBER.fullmatch(id_number):
        return None
    try:
        level_of(id_number[:6])
    except DivisionCodeError:
        return None
    return id_number[:6]


@dataclass(frozen=True)
class Competent:
    """Where a 通办 case goes: the competence division and the center over it."""

    division: str
    center: str


def is_tongban(matter: Matter) -> bool:
    return TongbanScope(matter.tongban_scope) is not TongbanScope.NONE


def competence_of(matter: Matter, *, here: str, id_number: str | None,
                  division: str | None) -> Competent:
    """The competent center for a case of ``matter`` received at ``here``, from the rule of the
    matter: refused (a 422 naming the field) when the matter is not 通办, the division is
    missing or outside the province, or no center of the handling level is over it."""
    if not is_tongban(matter):
        raise NotTongban({"to": [_(
            "“%(matter)s”不是通办事项，不能代收转办；请到有管辖权的中心办理或上报上级",
            matter=matter.name)]})
    rule = Competence(matter.competence)
    if rule is Competence.HOUSEHOLD:
        found = household_division(id_number)
        if found is None:
            raise NotCompetent({"division": [_(
                "该事项按申请人户籍地确定管辖，申请人须有 18 位身份证号码")]})
        if division and division != found:
            raise NotCompetent({"division": [_(
                "该事项按申请人户籍地确定管辖：户籍地为 %(found)s，不是 %(division)s",
                found=found, division=division)]})
        division = found
    elif not division:
        raise NotCompetent({"division": [_(
            "请选择%(rule)s所属的中心", rule=RULE_NAMES[rule])]})
    if province_of(division) != province_of(here):
        raise NotCompetent({"division": [_(
            "%(division)s 不在本省：全省通办只在省内代收", division=division)]})
    level = Level(matter.handling_level)
    center = competent_center(level, division)
    if center is None:
        raise NotCompetent({"division": [_(
            "%(division)s 之上没有%(level)s中心可以受理", division=division,
            level=str(LEVEL_WORDS[level]))]})
    return Competent(division, center)


LEVEL_WORDS = {Level.PROVINCE: _("省级"), Level.CITY: _("市级"), Level.COUNTY: _("县级"),
               Level.TOWNSHIP: _("乡镇级")}


def arrival_refusal(matter: Matter | None, *, here: str, id_number: str | None,
                    rule: str, division: str, matter_name: str,
                    center: Callable[[str], str]) -> str | None:
    """Why the competent center ``here`` cannot take a 通办 case that arrived sideways (the
    reason it is sent back with), or None when it can; ``center`` names a center by its code
    (北流市政务服务中心（450981）, issue 19)."""
    if matter is None:
        return _("本中心的事项目录中没有“%(matter)s”，无法受理通办件", matter=matter_name)
    if not is_tongban(matter):
        return _("“%(matter)s”在本中心不是通办事项，请申请人到有管辖权的中心办理",
                 matter=matter.name)
    if rule != Competence(matter.competence).value:
        return _("“%(matter)s”的管辖规则是%(rule)s，与代收中心所用的不同",
                 matter=matter.name, rule=str(RULE_NAMES[Competence(matter.competence)]))
    try:
        competent = competence_of(matter, here=here, id_number=id_number, division=division)
    except ValidationFailed as refused:
        return "；".join(str(reason) for reasons in refused.details["fields"].values()
                        for reason in reasons)
    if competent.center != here:
        return _("本中心%(here)s对此件没有管辖权：%(rule)s %(division)s 由 %(center)s 受理",
                 here=center(here), rule=str(RULE_NAMES[Competence(matter.competence)]),
                 division=competent.division, center=center(competent.center))
    return None


__all__ = ["Competent", "NotCompetent", "NotTongban", "arrival_refusal", "competence_of",
           "competent_center", "household_division", "is_tongban"]
