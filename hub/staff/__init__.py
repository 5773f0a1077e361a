"""Hub staff accounts: people (not nodes) who read consolidated figures, each bound to a scope."""
