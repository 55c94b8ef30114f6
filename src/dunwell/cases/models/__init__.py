"""What a collector works with beyond the ledger (issue 4): disputes, promises to pay, payment
plans, calls and tasks, escalations, insolvencies, write-off approvals and placements.

One module per part; this package re-exports them so that `dunwell.cases.models` is the one place
to import a case model from.
"""

from dunwell.cases.models.calls import CallDirection, CallLog, CallOutcome
from dunwell.cases.models.disputes import (
    Dispute,
    DisputeAttachment,
    DisputedItem,
    DisputeReason,
    DisputeState,
    Resolution,
)
from dunwell.cases.models.escalations import Escalation, EscalationSource
from dunwell.cases.models.insolvency import (
    ClaimLine,
    Insolvency,
    InsolvencyKind,
    InsolvencyState,
)
from dunwell.cases.models.placements import (
    OPEN_STATES,
    Agency,
    AgencyKind,
    Placement,
    PlacementItem,
    PlacementOutcome,
    PlacementRecovery,
    PlacementState,
)
from dunwell.cases.models.plans import (
    InstalmentState,
    PaymentPlan,
    PlanInstalment,
    PlanItem,
    PlanState,
)
from dunwell.cases.models.portal import PortalLink
from dunwell.cases.models.promises import PromiseChannel, PromisedItem, PromiseState, PromiseToPay
from dunwell.cases.models.replies import CustomerReply
from dunwell.cases.models.tasks import Task, TaskKind, TaskState
from dunwell.cases.models.writeoffs import WriteOffRequest, WriteOffState

__all__ = [
    "OPEN_STATES",
    "Agency",
    "AgencyKind",
    "CallDirection",
    "CallLog",
    "CallOutcome",
    "ClaimLine",
    "CustomerReply",
    "Dispute",
    "DisputeAttachment",
    "DisputeReason",
    "DisputeState",
    "DisputedItem",
    "Escalation",
    "EscalationSource",
    "Insolvency",
    "InsolvencyKind",
    "InsolvencyState",
    "InstalmentState",
    "PaymentPlan",
    "Placement",
    "PlacementItem",
    "PlacementOutcome",
    "PlacementRecovery",
    "PlacementState",
    "PlanInstalment",
    "PlanItem",
    "PlanState",
    "PortalLink",
    "PromiseChannel",
    "PromiseState",
    "PromiseToPay",
    "PromisedItem",
    "Resolution",
    "Task",
    "TaskKind",
    "TaskState",
    "WriteOffRequest",
    "WriteOffState",
]
