"""A record of every import: which file (by content hash), what it did, and what it refused."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dunwell.core.models import Company


class ImportRun(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20)
    file_name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    keep_valid = models.BooleanField(default=False)
    status = models.CharField(max_length=20)  # applied, rejected
    counts = models.JSONField(default=dict)
    options = models.JSONField(default=dict)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["company", "sha256"])]
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.kind} import of {self.file_name}"


class RejectedRow(models.Model):
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="rejected_rows")
    line = models.PositiveIntegerField(null=True)
    field = models.CharField(max_length=60, blank=True)
    reason = models.TextField()
    status = models.CharField(max_length=12, default="rejected")  # rejected or conflict

    class Meta:
        ordering = ["run", "line"]
