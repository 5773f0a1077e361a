"""The registry: certificates and revocations along the administrative tree, and the nodes
they enroll.  The hub verifies each one on the way in and publishes them all; it relays
trust, it never vouches (DESIGN.md, "Identity and trust")."""
