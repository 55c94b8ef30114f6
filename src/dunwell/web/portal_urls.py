"""The customer portal's addresses: everything under /portal/<token>/ (web.portal_views)."""

from django.urls import path

from dunwell.web import portal_views

app_name = "portal"
urlpatterns = [
    path("<str:token>/", portal_views.home, name="home"),
    path("<str:token>/do/<slug:action>", portal_views.act, name="act"),
    path("<str:token>/invoices/<int:item_id>.pdf", portal_views.invoice_pdf, name="invoice_pdf"),
    path("<str:token>/renew", portal_views.renew, name="renew"),
]
