"""The city's composite methodology, saved at the hub with its Chinese title (docs/rankings.md),
as a city's supervisor saves one from the methodology page: the composite and methodology pages
then name it 「季度综合评价」第 1 版, and the page crawler reads them with a saved one."""

from __future__ import annotations

import orjson

from deploy.demo.federation import Federation

QUARTERLY = {
    "title": "季度综合评价",
    "description": "办结量、按时办结率与体外循环率（越低越好）",
    "normalisation": "min_max",
    "components": [
        {"metric": "completed", "weight": 2},
        {"metric": "on_time_rate", "weight": 1},
        {"metric": "outside_center_rate", "weight": 1, "direction": "lower_better"},
    ],
}


def save_methodology(fed: Federation) -> str:
    """The city (the layout's second center) saves ``<code>.quarterly`` at the hub, signed as
    the city's node; what was saved, for the demo's phase line."""
    city = fed.members[fed.layout[1].code]
    name = f"{city.code}.quarterly"
    answer = fed.services(city).rankings().ask("PUT", f"methodologies/{name}",
                                               body=orjson.dumps(QUARTERLY))
    if answer.status != 200:
        raise RuntimeError(f"the hub refused the methodology {name}: {answer.status} "
                           f"{answer.body[:300].decode('utf-8', 'replace')}")
    saved = orjson.loads(answer.body)
    return f"{city.code} saved 「{saved['title']}」 version {saved['version']} ({name})"
