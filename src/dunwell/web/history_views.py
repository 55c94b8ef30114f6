"""The full history of a customer or an invoice: filters, keyset pages, exports, corrections.

`reports.timeline` reads; this module parses the filters, renders a page, streams an export
(CSV or JSON of every entry matching the filters) and takes a collector's correction of an
entry, which is a new entry (`ledger.services.activity.record_correction`): nothing is edited.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django import forms
from django.contrib import messages as flash
from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from dunwell.core import clock
from dunwell.core.errors import DunwellError
from dunwell.core.formatting import format_money
from dunwell.core.models import Role
from dunwell.core.templatetags.formatting import active_locale
from dunwell.ledger.models import Activity, Customer, OpenItem
from dunwell.ledger.services.activity import record_correction
from dunwell.reports import timeline
from dunwell.reports.cells import safe_cell
from dunwell.web.access import CompanyRequest, access_customer, access_item, company_view, has_role


class HistoryFilterForm(forms.Form):
    kind = forms.MultipleChoiceField(
        required=False,
        label=_("What"),
        choices=[(g.key, g.label) for g in timeline.GROUPS.values()],
    )
    on_from = forms.DateField(required=False, label=_("From"), input_formats=["%Y-%m-%d"])
    on_to = forms.DateField(required=False, label=_("To"), input_formats=["%Y-%m-%d"])
    by = forms.CharField(required=False, max_length=60, label=_("By"))
    q = forms.CharField(required=False, max_length=100, label=_("Text contains"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("on_from") and data.get("on_to") and data["on_from"] > data["on_to"]:
            self.add_error("on_to", _("The last date is before the first."))
        return data

    def filters(self) -> timeline.Filters:
        if not self.is_valid():
            return timeline.Filters()
        data = self.cleaned_data
        return timeline.Filters(groups=tuple(data["kind"]), on_from=data["on_from"],
                                on_to=data["on_to"], actor=data["by"], text=data["q"])  # fmt: skip


@company_view()
def customer_history(request: CompanyRequest, customer_id: int) -> HttpResponse:
    found = access_customer(request, customer_id)
    return _history(request, customer=found)


@company_view()
def item_history(request: CompanyRequest, item_id: int) -> HttpResponse:
    found = access_item(request, item_id)
    return _history(request, item=found)


def _history(
    request: CompanyRequest, *, customer: Customer | None = None, item: OpenItem | None = None
) -> HttpResponse:
    form = HistoryFilterForm(request.GET)
    filters = form.filters()
    export = request.GET.get("format", "")
    if export in ("csv", "json"):
        rows = timeline.export_rows(request.company, customer=customer, item=item, filters=filters)
        # streamed: an export of a long history never sits in memory whole
        return _stream(rows, export, _filename(customer, item, export))  # type: ignore[return-value]
    try:
        shown = timeline.page(request.company, customer=customer, item=item, filters=filters,
                              after=request.GET.get("after") or None,
                              before=request.GET.get("before") or None)  # fmt: skip
    except timeline.BadCursorError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain")
    query = request.GET.copy()
    for name in ("after", "before", "format"):
        query.pop(name, None)
    context = {
        "customer": customer or (item.customer if item else None),
        "item": item,
        "form": form,
        "page": shown,
        "rows_html": _lines(shown.rows, show_items=item is None),
        "query": query.urlencode(),
        "can_correct": has_role(request.role, Role.COLLECTOR),
        "here": request.get_full_path(),
    }
    return render(request, "web/history.html", context)


def _lines(rows: list[timeline.Row], *, show_items: bool) -> SafeString:
    """The table's rows as HTML, written here rather than by the template engine: its lookups,
    `date` filters and tags cost 12 ms of a page of 50 entries, which must answer in 20 ms.
    Every value goes through `format_html`, so it is escaped as the template would."""
    locale = active_locale()
    links: dict[int, str] = {}
    html = []
    for row in rows:
        a = row.entry
        summary = format_html("{}", a.summary)
        if show_items and a.item is not None:
            item = a.item
            if item.pk not in links:
                links[item.pk] = reverse("web:item", args=[item.pk])
            summary += format_html(' · <a href="{}">{}</a>', links[item.pk], item.number)
        if row.corrects:
            summary += format_html('<br><a href="#entry-{}">{}</a>', row.corrects,
                                   gettext("corrects entry %(id)s") % {"id": row.corrects})  # fmt: skip
        if row.corrected_by:
            summary += format_html(
                '<br><span class="status-failed">{}</span>', gettext("corrected by")
            )
            summary += format_html_join("", ' <a href="#entry-{0}">{0}</a>',
                                        ((c,) for c in row.corrected_by))  # fmt: skip
        if row.body:
            message = (format_html(' · <a href="{}">{} {}</a>',
                                   reverse("web:dunning_message", args=[row.message_id]),
                                   gettext("message"), row.message_id)
                       if row.message_id else "")  # fmt: skip
            summary += format_html('<details><summary>{}{}</summary><p><strong>{}</strong></p>'
                                   '<pre class="letter">{}</pre></details>', gettext("The text as sent"),
                                   message, row.subject, row.body)  # fmt: skip
        amount = (format_money(a.amount_minor, a.currency, locale)
                  if a.amount_minor is not None and a.currency else "")  # fmt: skip
        html.append(format_html(
            '<tr id="entry-{0}"><td class="mono">{0}</td><td class="date">{1}</td>'
            '<td class="date">{2}</td><td>{3}</td><td>{4}</td><td class="num">{5}</td>'
            "<td>{6}</td></tr>", a.pk, a.on.isoformat(),
            timezone.localtime(a.recorded_at).strftime("%Y-%m-%d %H:%M"), row.kind_label,
            summary, amount, a.actor_label,
        ))  # fmt: skip
    return mark_safe("\n".join(html))


def _filename(customer: Customer | None, item: OpenItem | None, export: str) -> str:
    if item is not None:
        name = f"history-{item.customer.account_number}-{item.number}"
    else:
        name = f"history-{customer.account_number if customer else 'all'}"
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) + f".{export}"


class _Echo:
    def write(self, value: str) -> str:
        return value


def _stream(rows: Iterator[dict[str, Any]], export: str, filename: str) -> StreamingHttpResponse:
    if export == "csv":
        body: Iterable[str] = _csv_lines(rows)
        content_type = "text/csv; charset=utf-8"
    else:
        body = _json_lines(rows)
        content_type = "application/json"
    response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(timeline.COLUMNS)
    for row in rows:
        values = {**row, "data": json.dumps(row["data"], sort_keys=True, default=str)}
        yield writer.writerow([safe_cell(values[c]) for c in timeline.COLUMNS])


def _json_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for n, row in enumerate(rows):
        yield ("," if n else "") + "\n" + json.dumps(row, default=str)
    yield "\n]\n"


@require_POST
@company_view(min_role=Role.COLLECTOR)
def correct(request: CompanyRequest) -> HttpResponse:
    """A collector corrects an entry: a CORRECTION entry linked to it; the entry stays."""
    entry_id = request.POST.get("entry", "").strip().lstrip("#")
    if not entry_id.isdigit():
        flash.error(request, _("Entry: give the number (#) of the entry to correct."))
        return redirect(_back(request, ""))
    found = (
        Activity.objects.filter(company=request.company, pk=entry_id)
        .select_related("customer", "item", "company")
        .first()
    )
    if found is None or (found.customer_id is None and found.item_id is None):
        return HttpResponse(status=404)
    try:
        made = record_correction(entry=found, text=request.POST.get("text", ""),
                                 actor=request.user, at=clock.now())  # type: ignore[arg-type]  # fmt: skip
        flash.success(request, _("Correction of entry %(id)s recorded.") % {"id": found.pk})
    except DunwellError as error:
        flash.error(request, error.message)
        made = None
    fallback = (
        reverse("web:item_history", args=[found.item_id])
        if found.customer_id is None
        else reverse("web:customer_history", args=[found.customer_id])
    )
    return redirect(_back(request, fallback) + (f"#entry-{made.pk}" if made else ""))


def _back(request: CompanyRequest, fallback: str) -> str:
    """The page the form was on (a local path only), else `fallback`, else the customers."""
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//") and "\\" not in back:
        return back
    return fallback or reverse("web:customers")
