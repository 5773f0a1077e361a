"""The JSON documents the rankings answer with (English field names; plain data)."""

from __future__ import annotations

from typing import Any

from hub.rankings.service import Table
from hub.rankings.tables import Row
from schemas.i18n import _
from schemas.metrics import ALL_METRICS


def row_document(row: Row) -> dict[str, Any]:
    figure = row.figure
    return {
        "node": row.node.code,
        "name": row.name or row.node.name,
        "kind": row.node.kind.value if row.node.kind else None,
        "parent": row.node.parent,
        "status": row.status.value,
        "rank": row.rank,
        "value": row.value,
        "numerator": figure.numerator if figure else None,
        "denominator": figure.denominator if figure else None,
        "previous_rank": row.previous_rank,
        "previous_value": row.previous_value,
        "rank_change": row.rank_change,
        "value_change": row.value_change,
        **({"components": row.components} if row.components else {}),
    }


def table_document(table: Table) -> dict[str, Any]:
    metric = ALL_METRICS[table.metric] if table.metric else None
    return {
        "scope": table.scope.code,
        "period": table.period.label,
        "previous_period": table.previous.label,
        "as_of": table.as_of,
        "level": table.level.value,
        "peers": table.peers.value,
        "order": table.order.value,
        "metric": table.metric,
        "metric_name": metric.name if metric else _("综合得分"),
        "unit": metric.unit.value if metric else "score",
        "methodology": table.methodology.to_json() if table.methodology else None,
        "groups": [
            {"level": group.level.value, "group": group.key.value if group.key else None,
             "kind": group.kind.value if group.kind else None,
             "of": group.ranked, "rows": [row_document(row) for row in group.rows]}
            for group in table.groups
        ],
    }
