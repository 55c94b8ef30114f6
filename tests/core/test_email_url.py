import pytest

from dunwell.core.email_url import email_settings

SMTP = "django.core.mail.backends.smtp.EmailBackend"


def test_smtp_with_a_percent_encoded_password_and_starttls():
    assert email_settings("smtp://mail%40acme.example:p%40ss@mail.acme.example:2525?tls=1") == {
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": "mail.acme.example",
        "EMAIL_PORT": 2525,
        "EMAIL_HOST_USER": "mail@acme.example",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 30,
    }


@pytest.mark.parametrize(
    ("url", "port", "tls", "ssl"),
    [("smtp://h", 25, False, False), ("submission://h", 587, True, False),
     ("smtps://h?timeout=5", 465, False, True)],
)  # fmt: skip
def test_default_ports_and_encryption_by_scheme(url, port, tls, ssl):
    found = email_settings(url)
    assert (found["EMAIL_PORT"], found["EMAIL_USE_TLS"], found["EMAIL_USE_SSL"]) == (port, tls, ssl)


def test_console_locmem_and_file():
    assert email_settings("console://")["EMAIL_BACKEND"].endswith("console.EmailBackend")
    assert email_settings("locmem://")["EMAIL_BACKEND"].endswith("locmem.EmailBackend")
    assert email_settings("file:///var/mail/dunwell")["EMAIL_FILE_PATH"] == "/var/mail/dunwell"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("imap://h", "expected smtp://user:password@host:port"),
        ("smtp://", "expected a host"),
        ("smtp://h:port", "the port and timeout must be numbers"),
        ("file://", "expected file:///path/to/folder"),
    ],
)
def test_a_url_that_is_no_mail_server_is_refused_saying_what_was_expected(url, message):
    with pytest.raises(ValueError, match=message):
        email_settings(url)
