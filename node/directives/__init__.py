"""Directives (督办): supervision from an ancestor center to a descendant, and the reply."""
