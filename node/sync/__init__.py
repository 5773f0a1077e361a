"""Signed sync with the hub: node keys and enrolment, the outbox, push and pull, the worker.

The service layer (:mod:`node.sync.service`) imports neither Flask nor ``requests``; the real
HTTP transport lives in :mod:`node.sync.client` and is passed in.
"""
