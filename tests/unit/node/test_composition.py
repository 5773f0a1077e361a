"""The node's composition root (node/composition.py): every envelope kind a node can be sent
is applied by exactly one feature, a kind declared twice is refused at start, and the case
service gets forwarding's step hook from the root instead of Forwarding patching it."""

from __future__ import annotations

import pytest
from flask import Flask

from node.bundles.service import BundleProgress
from node.cases.forwarding import Forwarding, TellTheNodeBelow
from node.composition import NodeServices
from node.ports import DuplicateHandler, EnvelopeRegistry
from node.sync.outbox import SigningOutbox
from node.sync.service import HUB_KINDS, dispatch_table, never_for_nodes, no_feature
from schemas.envelope import ADDRESSING, Addressing, Kind


def test_every_kind_sent_to_nodes_has_one_feature(app: Flask) -> None:
    handlers = NodeServices.of_app(app.extensions).envelope_registry().handlers()
    for_nodes = {kind for kind, addressing in ADDRESSING.items()
                 if addressing in (Addressing.NODE, Addressing.SUBTREE)}
    assert set(handlers) == for_nodes
    table = dispatch_table(handlers)
    assert all(table[kind] is never_for_nodes for kind in HUB_KINDS)
    assert no_feature not in table.values()


def test_a_kind_declared_twice_is_refused() -> None:
    registry = EnvelopeRegistry()
    registry.register({Kind.DIRECTIVE: lambda _session, _envelope: None})
    with pytest.raises(DuplicateHandler, match="directive"):
        registry.register({Kind.DIRECTIVE: lambda _session, _envelope: None,
                           Kind.CASE_RESULT: lambda _session, _envelope: None})
    assert set(registry.handlers()) == {Kind.DIRECTIVE}


def test_the_root_composes_cases_with_forwarding(app: Flask) -> None:
    services = NodeServices.of_app(app.extensions)
    assert isinstance(services.outbox, SigningOutbox)
    assert services.outbox.node_code == app.config["TONGBAN"].code
    with app.extensions["tongban_db"].unit_of_work(write=False) as session:
        cases = services.cases(session)
        hook, bundles = cases.after_step
        assert isinstance(hook, TellTheNodeBelow)
        assert isinstance(bundles, BundleProgress)  # a 一件事 ends with its last part
        assert hook.outbox is services.outbox
        forwarding = services.forwarding_of(cases)
        assert isinstance(forwarding, Forwarding)
        assert forwarding.cases is cases
        # building the forwarding side changed nothing
        assert cases.after_step == (hook, bundles)
