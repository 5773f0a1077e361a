"""Consolidation and rankings at the hub: league tables, composite indices, reporting
completeness, roll-ups and trends over the summaries nodes send (DESIGN.md, "Summaries and
rankings").  Plain Python over a session; hub.api.rankings is the HTTP layer."""
