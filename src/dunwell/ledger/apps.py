from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "dunwell.ledger"
    label = "ledger"
    verbose_name = "Receivables ledger"
