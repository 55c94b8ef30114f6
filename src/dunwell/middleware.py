"""WhiteNoise, serving STATIC_ROOT only once `dunwell collectstatic` has filled it.

Before that (development, `dunwell demo serve`, the tests) the directory does not exist and
WhiteNoise's finders serve each app's files (WHITENOISE_USE_FINDERS); its "No directory at"
warning would only be noise. WhiteNoise has no setting for this, hence the subclass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from whitenoise.middleware import WhiteNoiseMiddleware  # type: ignore[import-untyped] # no stubs


class StaticFilesMiddleware(WhiteNoiseMiddleware):  # type: ignore[misc] # untyped base
    def add_files(self, root: Any, prefix: Any = None) -> None:
        uncollected = Path(root) == Path(settings.STATIC_ROOT) and not Path(root).is_dir()
        if not uncollected:
            super().add_files(root, prefix)
