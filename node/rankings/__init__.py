"""Asking the hub for consolidated figures and rankings, as this node (signed requests)."""
