"""Figures a higher center can verify (issue 21): each summary's commitment to its case
records, and the sampled audits the worker answers (docs/verification.md)."""
