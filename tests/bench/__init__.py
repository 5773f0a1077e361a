"""Benchmarks run by ``make bench`` (not collected by pytest: no ``test_*.py`` here)."""
