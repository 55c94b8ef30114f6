"""A company's own template texts, checked before they are stored."""

from __future__ import annotations

from datetime import datetime

from django.template import TemplateSyntaxError

from dunwell.core.errors import DunwellError, ErrorCode
from dunwell.core.models import Company
from dunwell.dunning.models import Template
from dunwell.dunning.rendering import ENGINE


def save_template(
    *, company: Company, code: str, language: str, subject: str, body: str, at: datetime
) -> Template:
    """Store (or replace) the text of `code` in `language`; refused when it is not a template."""
    language = language.strip().lower()
    if not code.strip() or not language or len(language) > 8:
        raise DunwellError(ErrorCode.INVALID, "a template needs a code and a language such as de")
    for name, text in (("subject", subject), ("body", body)):
        if not text.strip():
            raise DunwellError(ErrorCode.INVALID, f"the {name} is empty", field=name)
        try:
            ENGINE.from_string(text)
        except TemplateSyntaxError as error:
            raise DunwellError(
                ErrorCode.INVALID, f"the {name} is not a valid template: {error}", field=name
            ) from None
    stored, _ = Template.objects.update_or_create(
        company=company,
        code=code.strip(),
        language=language,
        defaults={"subject": subject.strip()[:300], "body": body, "updated_at": at},
    )
    return stored
