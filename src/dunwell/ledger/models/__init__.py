from dunwell.ledger.models.activity import Activity, ActivityKind
from dunwell.ledger.models.allocation import Allocation, AllocationKind, WriteOff
from dunwell.ledger.models.customer import (
    Contact,
    ContactRole,
    Customer,
    CustomerKind,
    CustomerStatus,
)
from dunwell.ledger.models.document import Instalment, ItemKind, OpenItem, OpenItemLine
from dunwell.ledger.models.payment import Payment, PaymentMethod

__all__ = [
    "Activity",
    "ActivityKind",
    "Allocation",
    "AllocationKind",
    "Contact",
    "ContactRole",
    "Customer",
    "CustomerKind",
    "CustomerStatus",
    "Instalment",
    "ItemKind",
    "OpenItem",
    "OpenItemLine",
    "Payment",
    "PaymentMethod",
    "WriteOff",
]
