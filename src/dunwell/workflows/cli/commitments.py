"""`dunwell case promise` and `dunwell case plan` through their workflows: from the command line
too, a promise withdraws the reminders it makes pointless and a plan holds back the pending ones
for its invoices, in the same transaction (the cases app's own actions, which may not import
this layer, are replaced by these when the workflows app is ready)."""

from __future__ import annotations

from typing import Any

from dunwell.cases.cli import plans, promises
from dunwell.cases.cli.base import Action
from dunwell.cases.models import PaymentPlan
from dunwell.workflows import plans as plan_workflow
from dunwell.workflows.promises import open_promise


def _agree(**arguments: Any) -> PaymentPlan:
    return plan_workflow.agree_plan(**arguments).plan


ACTIONS = {
    "promise": Action(promises.ACTIONS["promise"].help, promises.ACTIONS["promise"].arguments,
                      promises.make_with(open_promise)),
    "plan": Action(plans.ACTIONS["plan"].help, plans.ACTIONS["plan"].arguments,
                   plans.agree_with(_agree)),
}  # fmt: skip
