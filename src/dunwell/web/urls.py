from django.urls import path

from dunwell.web import call_views, dispute_views, dunning_views, placement_views, plan_views, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("customers/", views.customers, name="customers"),
    path("customers/<int:customer_id>/", views.customer, name="customer"),
    path("customers/<int:customer_id>/credit-hold", views.credit_hold, name="credit_hold"),
    path("customers/<int:customer_id>/statement/", views.statement, name="statement"),
    path("customers/<int:customer_id>/statement.pdf", views.statement_pdf, name="statement_pdf"),
    path(
        "customers/<int:customer_id>/disputes/new",
        dispute_views.open_dispute,
        name="dispute_open",
    ),
    path("disputes/<int:dispute_id>/", dispute_views.dispute, name="dispute"),
    path(
        "disputes/<int:dispute_id>/<str:action>",
        dispute_views.act,
        name="dispute_act",
    ),
    path(
        "disputes/<int:dispute_id>/attachments/<int:attachment_id>",
        dispute_views.attachment,
        name="dispute_attachment",
    ),
    path("customers/<int:customer_id>/case-file.zip", placement_views.case_file, name="case_file"),
    path("customers/<int:customer_id>/place", placement_views.place, name="placement_place"),
    path("placements/<int:placement_id>/", placement_views.act, name="placement_act"),
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
    path("customers/<int:customer_id>/calls", call_views.call, name="log_call"),
    path("customers/<int:customer_id>/notes", call_views.note, name="add_note"),
    path("customers/<int:customer_id>/tasks", call_views.new_task, name="new_task"),
    path("tasks/<int:task_id>/close", call_views.close_task, name="close_task"),
    path("dunning/approvals/", dunning_views.approvals, name="dunning_approvals"),
    path("dunning/decisions/<int:decision_id>/decide", dunning_views.decide, name="dunning_decide"),
    path("dunning/runs/", dunning_views.runs, name="dunning_runs"),
    path("dunning/runs/<int:run_id>/", dunning_views.run, name="dunning_run"),
    path("dunning/policies/", dunning_views.policies, name="dunning_policies"),
    path("plans/<int:plan_id>/", plan_views.plan, name="plan"),
    path("plans/<int:plan_id>/agreement.pdf", plan_views.agreement_pdf, name="plan_agreement"),
    path("customers/<int:customer_id>/plans/agree", plan_views.agree, name="plan_agree"),
]
