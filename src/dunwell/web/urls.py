from django.urls import path

from dunwell.web import dunning_views, views, worklist_views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("customers/", views.customers, name="customers"),
    path("customers/<int:customer_id>/", views.customer, name="customer"),
    path("customers/<int:customer_id>/credit-hold", views.credit_hold, name="credit_hold"),
    path("customers/<int:customer_id>/statement/", views.statement, name="statement"),
    path("customers/<int:customer_id>/statement.pdf", views.statement_pdf, name="statement_pdf"),
    path("items/<int:item_id>/", views.item, name="item"),
    path("items/<int:item_id>/invoice.pdf", views.invoice_pdf, name="invoice_pdf"),
    path("aging/", views.aging_report, name="aging"),
    path("import/", views.import_file, name="import"),
    path("worklist/", worklist_views.worklist, name="worklist"),
    path("worklist/actions", worklist_views.bulk, name="worklist_bulk"),
    path("worklist/refresh", worklist_views.refresh, name="worklist_refresh"),
    path("dunning/", dunning_views.outbox, name="dunning_outbox"),
    path("dunning/messages/<int:message_id>/", dunning_views.message, name="dunning_message"),
    path(
        "dunning/messages/<int:message_id>/statement.pdf",
        dunning_views.statement,
        name="dunning_statement",
    ),
    path("dunning/tasks/", dunning_views.tasks, name="dunning_tasks"),
    path("dunning/tasks/<int:message_id>/done", dunning_views.task_done, name="dunning_task_done"),
    path("dunning/approvals/", dunning_views.approvals, name="dunning_approvals"),
    path("dunning/decisions/<int:decision_id>/decide", dunning_views.decide, name="dunning_decide"),
    path("dunning/runs/", dunning_views.runs, name="dunning_runs"),
    path("dunning/runs/<int:run_id>/", dunning_views.run, name="dunning_run"),
    path("dunning/policies/", dunning_views.policies, name="dunning_policies"),
]
