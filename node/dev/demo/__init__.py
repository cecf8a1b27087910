"""``docex demo``: three member administrations exchanging certificates of origin on one
chain, end to end, each step printed and checked.

VN, KR and SG run as separate ``docex run`` processes on one managed anvil
(:mod:`node.dev.demo.network`); the demo plays their users over HTTP only
(:mod:`node.dev.demo.steps`): VN's trade ministry issues certificates of origin to KR, KR's
node receives them, KR customs verifies, uses and rejects them, VN sees the feedback,
amends and revokes some, SG (without an agreement) finds them not recognised, and an
auditor re-checks one document's provenance against the chain. Every step records its
expectations (:mod:`node.dev.demo.expectations`); the demo holds when all of them do.
"""

from node.dev.demo.expectations import DemoOutcome, StepOutcome
from node.dev.demo.failures import DemoAborted
from node.dev.demo.plan import DEFAULT_CERTIFICATES, MINIMUM_CERTIFICATES, DemoPlan
from node.dev.demo.tour import DemoOptions, run_demo

__all__ = [
    "DEFAULT_CERTIFICATES",
    "MINIMUM_CERTIFICATES",
    "DemoAborted",
    "DemoOptions",
    "DemoOutcome",
    "DemoPlan",
    "StepOutcome",
    "run_demo",
]
