"""API tokens and the answers kept for Idempotency-Key (issue 6).

A token is shown once, as `dw_<prefix>_<secret>`; only the prefix (to find it) and a SHA-256 of
the whole (to check it) are stored. It belongs to one company, has scopes ("read", "write"),
may expire and may be revoked. A POST with an Idempotency-Key keeps its answer for a day: the
same key with the same body gets the same answer again, with another body a conflict.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dunwell.core.models import Company


class ApiToken(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=80, help_text="what uses it: 'ERP sync'")
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"API token {self.prefix} ({self.name})"


class IdempotentAnswer(models.Model):
    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="idempotency_once")]

    def __str__(self) -> str:
        return f"answer to {self.key}"
