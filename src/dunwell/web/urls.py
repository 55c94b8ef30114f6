from django.urls import path

from dunwell.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("customers/", views.customers, name="customers"),
    path("customers/<int:customer_id>/", views.customer, name="customer"),
    path("customers/<int:customer_id>/statement/", views.statement, name="statement"),
    path("customers/<int:customer_id>/statement.pdf", views.statement_pdf, name="statement_pdf"),
    path("items/<int:item_id>/", views.item, name="item"),
    path("items/<int:item_id>/invoice.pdf", views.invoice_pdf, name="invoice_pdf"),
    path("aging/", views.aging_report, name="aging"),
    path("import/", views.import_file, name="import"),
]
