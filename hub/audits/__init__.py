"""Sampled audits of summaries and the summaries refused for their commitment (issue 21)."""
