"""A center's figures for any period (DOMAIN.md, "Metrics"): definitions, daily roll-ups and
the summary a higher center ranks."""
