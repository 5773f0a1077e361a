"""What applicants say about the service and what supervision does about it (plain Python).

* **Public lookup** (:mod:`node.feedback.lookup`): a case by its number and query code.
* **Evaluation** (:mod:`node.feedback.evaluations`, 好差评): a closed case rated once.
* **Rectification** (:mod:`node.feedback.rectification`, 整改): every bad rating, by the state
  machine of :mod:`node.feedback.states`.
* **Complaints** (:mod:`node.feedback.complaints`, 投诉), resolved by supervision.

Every change is appended to the node's audit chain. Services flush, never commit.
"""

from __future__ import annotations

from node.feedback.complaints import Complaints
from node.feedback.evaluations import Evaluations
from node.feedback.rectification import Rectifications


class FeedbackService(Evaluations, Rectifications, Complaints):
    """Public lookup, evaluations, rectifications and complaints of one node."""
