from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "dunwell.reports"
    label = "reports"

    def ready(self) -> None:
        # `dunwell case file`: the case file is a read model of this app, which `cases` (below
        # it) may not import; so this app adds the action to the `case` command.
        from dunwell.cases.cli.base import register_topic  # noqa: PLC0415 - models are ready now
        from dunwell.reports import case_file_cli  # noqa: PLC0415 - models are ready now

        register_topic(case_file_cli)
        # after each company's daily dunning run (`dunwell worker`): the credit policy, scores and
        # reviews, then the worklists (which show the holds), then the overview's KPI trends
        from dunwell.dunning.tasks import after_run  # noqa: PLC0415 - models are ready now
        from dunwell.reports.kpi_snapshot import refresh_kpi_snapshot  # noqa: PLC0415
        from dunwell.reports.worklist import refresh_after_run  # noqa: PLC0415
        from dunwell.workflows.credit import credit_after_run  # noqa: PLC0415

        after_run(credit_after_run)
        after_run(refresh_after_run)
        after_run(refresh_kpi_snapshot)
