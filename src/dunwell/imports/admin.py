"""Import runs and their rejected rows in the admin: the record of what each file did, read-only."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from dunwell.core.admin_site import ReadOnlyAdmin
from dunwell.imports.models import ImportRun, RejectedRow


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "kind", "file_name", "status", "rejected", "company")
    list_filter = ("kind", "status", "company")
    list_select_related = ("company",)
    search_fields = ("file_name", "sha256")
    fields = (
        "company",
        "kind",
        "file_name",
        "sha256",
        "status",
        "keep_valid",
        "counts",
        "options",
        "started_at",
        "finished_at",
        "actor",
        "rejected",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImportRun]:
        runs: QuerySet[ImportRun] = super().get_queryset(request)
        return runs.annotate(rejected_count=Count("rejected_rows"))

    @admin.display(description="rejected rows", ordering="rejected_count")
    def rejected(self, run: ImportRun) -> str:
        count: int = getattr(run, "rejected_count", 0)
        if not count:
            return "0"
        url = reverse("admin:imports_rejectedrow_changelist") + f"?run__id__exact={run.pk}"
        return format_html('<a href="{}">{}</a>', url, count)


@admin.register(RejectedRow)
class RejectedRowAdmin(ReadOnlyAdmin):
    list_display = ("run", "line", "field", "status", "reason")
    list_filter = ("status", "run__kind")
    list_select_related = ("run",)
    search_fields = ("reason", "field", "run__file_name")
    ordering = ("-pk",)
    fields = ("run", "line", "field", "status", "reason")
