from django.urls import path

from dunwell.web import dunning_views, reply_views, views, writeoff_views

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
    path(
        "items/<int:item_id>/write-off",
        writeoff_views.request_write_off_view,
        name="request_write_off",
    ),
    path("write-offs/", writeoff_views.write_offs, name="write_offs"),
    path(
        "write-offs/<int:request_id>/decide",
        writeoff_views.decide_write_off,
        name="decide_write_off",
    ),
    path("customers/<int:customer_id>/replies", reply_views.log_reply_view, name="log_reply"),
    path("replies/<int:reply_id>/dispute", reply_views.reply_dispute, name="reply_dispute"),
]
