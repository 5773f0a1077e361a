"""Staff accounts, roles, permissions and bearer tokens."""
