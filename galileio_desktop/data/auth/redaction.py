"""Keep secrets out of log output, even with botocore's debug logging switched on.

Our own log lines never name a secret. botocore's do at DEBUG level: it logs whole
request and response bodies (a refresh token in ``InitiateAuth``, a new password in
``RespondToAuthChallenge``, identity credentials in ``GetCredentialsForIdentity``)
and request headers (the session token). A filter on botocore's talkative loggers
blanks, before any handler sees the record:

- the values of the secret fields of the Cognito and STS APIs and the session-token
  header, and anything shaped like a JWT (a secret can be logged in a response
  before our code has even seen it);
- every secret this package handles, registered here, in each encoding it can take.
"""

from __future__ import annotations

import json
import logging
import re
import threading

REDACTED = "***"
#: Loggers that may print request or response contents.
NOISY_LOGGERS: tuple[str, ...] = tuple(
    f"botocore.{name}"
    for name in (
        "auth",
        "awsrequest",
        "client",
        "credentials",
        "discovery",
        "endpoint",
        "handlers",
        "hooks",
        "httpchecksum",
        "httpsession",
        "parsers",
        "retries.standard",
        "retryhandler",
        "tokens",
        "utils",
    )
) + ("botocore", "urllib3.connectionpool")
_MAX_SECRETS = 256
_MIN_LENGTH = 6  # shorter values would redact ordinary words

_SECRET_FIELDS = (
    "RefreshToken|IdToken|AccessToken|SecretKey|SecretAccessKey|SessionToken|Token|"
    "REFRESH_TOKEN|PASSWORD|NEW_PASSWORD|SECRET_HASH|PASSWORD_CLAIM_SIGNATURE"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # "Field": "value" in JSON bodies (also inside a bytes repr), and 'Field': 'value' in reprs.
    (re.compile(r'("(?:' + _SECRET_FIELDS + r')"\s*:\s*")((?:[^"\\]|\\.)*)(")'), r"\1***\3"),
    (re.compile(r"('(?:" + _SECRET_FIELDS + r")'\s*:\s*b?')((?:[^'\\]|\\.)*)(')"), r"\1***\3"),
    # The session token header, as a dict entry and in a canonical request.
    (re.compile(r"(X-Amz-Security-Token'\s*:\s*b?')([^']*)(')", re.IGNORECASE), r"\1***\3"),
    (re.compile(r"(x-amz-security-token:)([^\s'\\]+)()", re.IGNORECASE), r"\1***\3"),
    # Anything shaped like a JWT or JWE (ID, access and refresh tokens).
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){1,4}"), "***"),
)

_lock = threading.Lock()
_secrets: dict[str, None] = {}  # insertion-ordered set of every encoding of each secret
_installed = False


def _encodings(value: str) -> set[str]:
    """The forms a value takes in a log line: raw, JSON-escaped, inside a bytes repr."""
    forms = {value}
    for ascii_only in (True, False):
        escaped = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        forms.add(escaped)
        # As inside the repr of a JSON body: the body holds '"', so repr quotes with "'".
        forms.add(repr(b'"' + escaped.encode("utf-8"))[3:-1])
    return {form for form in forms if len(form) >= _MIN_LENGTH}


def register_secret(value: str | None) -> None:
    """Never let ``value`` appear in a log line from now on (for this process)."""
    if not value or len(value) < _MIN_LENGTH:
        return
    with _lock:
        for form in _encodings(value):
            _secrets.pop(form, None)
            _secrets[form] = None
        while len(_secrets) > _MAX_SECRETS * 6:
            del _secrets[next(iter(_secrets))]


def redact(text: str) -> str:
    """``text`` with secret fields, tokens and every registered secret replaced by ``***``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with the registered secrets blanked out."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logger's bug, not ours to hide
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


def install_log_redaction() -> None:
    """Attach the filter to botocore's and urllib3's loggers (once per process).

    A filter on a logger only sees that logger's own records, so each logger that
    can print contents gets one.
    """
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    redactor = RedactingFilter()
    for name in NOISY_LOGGERS:
        logging.getLogger(name).addFilter(redactor)
