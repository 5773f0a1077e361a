"""A saved composite methodology's Chinese title (issue 19's leftover): carried with the
methodology on the wire, stored with it, returned in every answer and read on the export's
方法说明 sheet in place of the code name (docs/rankings.md, "Saved methodologies")."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

from schemas.methodologies import methodology_label
from tests.page_scan import xlsx_problems
from tests.unit.hub.rank_federation import YULIN, RankFederation
from tests.unit.hub.test_rankings import composite, fed, report_composite_data  # noqa: F401

NAME = f"{YULIN}.quarterly"
DOCUMENT = {"normalisation": "min_max", "description": "办结量与按时率",
            "components": [{"metric": "completed", "weight": 2},
                           {"metric": "on_time_rate", "weight": 1}]}


def save(fed: RankFederation, document: dict[str, Any], name: str = NAME) -> Any:  # noqa: F811
    return fed.nodes[YULIN].call("PUT", f"/api/v1/rankings/methodologies/{name}", document,
                                 now=fed.now)


def test_a_title_is_saved_returned_everywhere_and_kept_per_version(
        fed: RankFederation) -> None:  # noqa: F811
    report_composite_data(fed)
    first = save(fed, {**DOCUMENT, "title": "  季度综合评价 "})
    assert first.status_code == 200, first.json
    assert (first.json["name"], first.json["version"], first.json["title"]) == (
        NAME, 1, "季度综合评价")  # stripped

    second = save(fed, {**DOCUMENT, "title": "季度综合评价（通报口径）"})
    assert (second.json["version"], second.json["title"]) == (2, "季度综合评价（通报口径）")
    one = fed.get(f"/api/v1/rankings/methodologies/{NAME}", YULIN)
    assert (one.json["version"], one.json["title"]) == (2, "季度综合评价（通报口径）")
    listed = fed.get("/api/v1/rankings/methodologies", YULIN).json
    assert [(m["name"], m["version"], m["title"]) for m in listed] == [
        (NAME, 2, "季度综合评价（通报口径）")]
    table = composite(fed, NAME, caller=YULIN)
    assert table.status_code == 200, table.json
    assert (table.json["methodology"]["title"], table.json["methodology"]["version"]) == (
        "季度综合评价（通报口径）", 2)
    # a methodology given with the question may carry a title too; none: null
    given = composite(fed, {**DOCUMENT, "title": "临时比较"}, caller=YULIN)
    assert given.json["methodology"]["title"] == "临时比较"
    assert composite(fed, DOCUMENT, caller=YULIN).json["methodology"]["title"] is None

    # a save replaces the whole methodology: one without a title is untitled from then on
    third = save(fed, DOCUMENT)
    assert (third.json["version"], third.json["title"]) == (3, None)
    assert fed.get(f"/api/v1/rankings/methodologies/{NAME}", YULIN).json["title"] is None


def test_a_bad_title_is_refused_by_its_field_and_nothing_is_saved(
        fed: RankFederation) -> None:  # noqa: F811
    assert save(fed, {**DOCUMENT, "title": "季度综合评价"}).json["version"] == 1
    for title in ("", "   ", "评" * 41, "bulletin", "季度\n综合评价", 7, ["季度"]):
        refused = save(fed, {**DOCUMENT, "title": title})
        assert refused.status_code == 422, title
        assert refused.json["error"]["code"] == "validation_failed"
        assert list(refused.json["error"]["details"]["fields"]) == ["title"], title
    latin = save(fed, {**DOCUMENT, "title": "bulletin"}).json["error"]["details"]["fields"]
    assert latin == {"title": ["须为中文名称，至少含一个汉字"]}  # said in Chinese
    long = save(fed, {**DOCUMENT, "title": "评" * 41}).json["error"]["details"]["fields"]
    assert long == {"title": ["须为 1 至 40 个字"]}
    assert save(fed, {**DOCUMENT, "title": "评" * 40}).json["version"] == 2  # 40 is allowed
    listed = fed.get("/api/v1/rankings/methodologies", YULIN).json
    assert [(m["version"], m["title"]) for m in listed] == [(2, "评" * 40)]
    refused = composite(fed, {**DOCUMENT, "title": "x"}, caller=YULIN)
    assert refused.status_code == 422
    assert list(refused.json["error"]["details"]["fields"]) == ["methodology.title"]


def _method_sheet(data: bytes) -> list[list[Any]]:
    workbook = load_workbook(io.BytesIO(data))
    return [[v for v in row if v is not None]
            for row in workbook["方法说明"].iter_rows(values_only=True)]


def test_the_exports_name_row_shows_the_title_with_its_version(
        fed: RankFederation) -> None:  # noqa: F811
    report_composite_data(fed)
    save(fed, {**DOCUMENT, "title": "季度综合评价"})
    save(fed, {**DOCUMENT, "title": "季度综合评价"})
    xlsx = composite(fed, NAME, caller=YULIN, format="xlsx")
    assert xlsx.status_code == 200, xlsx.data[:300]
    method = _method_sheet(xlsx.data)
    assert ["名称", "「季度综合评价」第 2 版"] in method
    assert ["方法代码", NAME] in method  # the code name on its own row only
    assert not any(NAME in str(cell) for row in method if row and row[0] != "方法代码"
                   for cell in row)
    assert xlsx_problems(xlsx.data) == []

    # saved before titles existed (or without one): a Chinese fallback, never the code name
    save(fed, DOCUMENT)
    untitled = _method_sheet(composite(fed, NAME, caller=YULIN, format="xlsx").data)
    assert ["名称", "未命名方法（第 3 版）"] in untitled
    given = _method_sheet(composite(fed, {**DOCUMENT, "title": "临时比较"}, caller=YULIN,
                                    format="xlsx").data)
    assert ["名称", "「临时比较」（未保存）"] in given
    assert not any(row and row[0] == "方法代码" for row in given)


def test_a_methodology_saved_before_titles_reads_chinese(fed: RankFederation) -> None:  # noqa: F811
    """A row saved before this change holds no title in its document: it reads as untitled."""
    from hub.rankings.models import SavedMethodology

    with fed.app.extensions["tongban_db"].unit_of_work() as session:
        session.add(SavedMethodology(
            name="bulletin", version=4, updated_by="admin",
            document='{"normalisation": "min_max", "description": "", '
                     '"components": [{"metric": "completed", "weight": 1.0, '
                     '"direction": "higher_better"}]}'))
    one = fed.get("/api/v1/rankings/methodologies/bulletin", YULIN).json
    assert (one["title"], one["version"]) == (None, 4)
    assert methodology_label(one) == "未命名方法（第 4 版）"
    assert methodology_label({"name": None, "version": None, "title": None}) == (
        "本次查询给出的方法（未保存）")


def test_the_openapi_document_describes_the_title(fed: RankFederation) -> None:  # noqa: F811
    spec = fed.app.test_client().get("/api/v1/openapi.json").json
    schemas = spec["components"]["schemas"]
    body = next(s for n, s in schemas.items() if n.startswith("MethodologyBody"))
    answer = next(s for n, s in schemas.items() if n == "Methodology")
    for schema in (body, answer):
        assert "季度综合评价" in schema["properties"]["title"]["description"]
        assert "40" in schema["properties"]["title"]["description"]
