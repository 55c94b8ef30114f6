"""Settings read from the environment: a bad value stops start-up and names the variable."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.pure


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DUNNING_PARALLEL_FROM", "0", "DUNNING_PARALLEL_FROM=0: expected a number of open items"),
        ("DUNNING_QUIET_HOURS", "8pm-7", "DUNNING_QUIET_HOURS='8pm-7': expected START-END hours"),
    ],
)
def test_a_bad_dunning_setting_is_refused_by_name(name, value, message):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dunwell.settings", name: value}
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    assert done.returncode != 0 and message in done.stderr
