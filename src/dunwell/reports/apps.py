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
        # the worklists are rebuilt after each company's daily dunning run (`dunwell worker`)
        from dunwell.dunning.tasks import after_run  # noqa: PLC0415 - models are ready now
        from dunwell.reports.worklist import refresh_after_run  # noqa: PLC0415

        after_run(refresh_after_run)
