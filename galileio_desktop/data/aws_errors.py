"""AWS failures as the app's errors: the one map for DynamoDB, Cognito and Bedrock.

botocore fails in three ways: the service answered with an error code (``ClientError``),
no usable answer came (a ``BotoCoreError``: no network, no credentials, bad parameters),
or the socket failed underneath it. Each becomes a :class:`GalileioError`, whose type
sets the CLI's exit code and whether trying again may help, with a message a person can
act on. A code means the same everywhere; what differs per :class:`Service` is the words
and a few codes of its own: Cognito's ``NotAuthorizedException`` is a wrong password,
not an IAM refusal, and a Bedrock answer that failed is an :class:`AssistantError`.

Whatever is not an AWS or network failure is raised again unchanged: it is a bug.

Also here: the error code of a failure, and what a failure proves about a write (sent
or not, refused by a condition, refused by IAM), for the outbox to decide what to do.
Only botocore's exception classes are imported (they are cheap); never boto3.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator
from typing import TYPE_CHECKING

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    InvalidConfigError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
)

from .assistants.base import AssistantError
from .errors import (
    CredentialsError,
    EndpointUnreachable,
    GalileioError,
    InvalidInput,
    NotFound,
    RemoteRejected,
    Throttled,
)

if TYPE_CHECKING:
    from .auth.accounts import Account


class Service(enum.Enum):
    """The service a request went to: whose words and codes its failure is told in."""

    DYNAMODB = "DynamoDB"
    BEDROCK = "Amazon Bedrock"
    COGNITO = "Cognito"


#: No answer came: the network, the endpoint or a timeout failed (nothing to retry at once).
UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)

_THROTTLED = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "TooManyRequestsException",
        "ServiceQuotaExceededException",
        "TooManyFailedAttemptsException",
    }
)
_UNAVAILABLE = frozenset(
    {
        "InternalServerError",
        "InternalServerException",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)
#: IAM and request signing: the credentials are missing, expired or not allowed this.
_CREDENTIALS = frozenset(
    {
        "AccessDeniedException",
        "UnrecognizedClientException",
        "ExpiredTokenException",
        "ExpiredToken",
        "InvalidSignatureException",
        "MissingAuthenticationTokenException",
        "IncompleteSignature",
        "InvalidClientTokenId",
        "NotAuthorizedException",
        "UnauthorizedException",
    }
)
_ACCESS_DENIED = frozenset({"AccessDeniedException", "AccessDenied"})
#: A model that is loading or slow: the same question may well succeed shortly.
_BEDROCK_TRANSIENT = _UNAVAILABLE | {"ModelNotReadyException", "ModelTimeoutException"}
_BAD_SIGN_IN = frozenset({"NotAuthorizedException", "UserNotFoundException"})
_SSO_ERRORS = (SSOError, TokenRetrievalError)


# -- the map -----------------------------------------------------------------------------


def translate(exc: BaseException, what: str, service: Service = Service.DYNAMODB) -> GalileioError:
    """``exc`` as the expected error a person can act on.

    ``what`` names the request ("Renaming chat"); for Cognito, the step ("sign-in",
    "token renewal"), whose messages never quote a request's parameters (they may be
    secrets). Anything that is not an AWS or network failure is raised again.
    """
    if isinstance(exc, GalileioError):
        return exc
    if service is Service.COGNITO:
        return _cognito(exc, what)
    if service is Service.BEDROCK:
        return _bedrock(exc, what)
    return _dynamodb(exc, what)


@contextlib.contextmanager
def translated(what: str, service: Service) -> Iterator[None]:
    """Turn AWS and network failures inside the block into :class:`GalileioError` types."""
    try:
        yield
    except (ClientError, BotoCoreError, ConnectionError, TimeoutError) as exc:
        raise translate(exc, what, service) from exc


def dynamo_errors(what: str) -> contextlib.AbstractContextManager[None]:
    """:func:`translated` for a DynamoDB request."""
    return translated(what, Service.DYNAMODB)


def bedrock_errors(what: str) -> contextlib.AbstractContextManager[None]:
    """:func:`translated` for an Amazon Bedrock request."""
    return translated(what, Service.BEDROCK)


def _parts(exc: ClientError) -> tuple[str, str, int]:
    """A service's answer: its error code, its message (or the code) and its HTTP status."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", "")) or code
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code, message, status if isinstance(status, int) else 0


def _expired_token(text: str) -> bool:
    """botocore's words for an expired session token or SSO sign-in."""
    lowered = text.lower()
    return "token" in lowered and ("expired" in lowered or "sso" in lowered)


def _dynamodb(exc: BaseException, what: str) -> GalileioError:
    if isinstance(exc, ClientError):
        code, message, status = _parts(exc)
        if code in _THROTTLED:
            return Throttled(f"{what}: DynamoDB is throttling requests; try again shortly.")
        if code in _UNAVAILABLE:
            return Throttled(f"{what}: DynamoDB is temporarily unavailable ({code}).")
        if code in _CREDENTIALS:
            return CredentialsError(f"{what}: access denied or credentials expired ({code}: {message}).")
        if code == "ResourceNotFoundException":
            return NotFound(
                f"{what}: the table does not exist here ({message}). "
                "Create it with 'galileio-desktop table create' or check --table and --region."
            )
        if code == "ConditionalCheckFailedException":
            return NotFound(f"{what}: the item does not exist (any more).")
        if code == "ValidationException" and "size" in message.lower():
            return RemoteRejected(f"{what}: DynamoDB refused the item as too large ({message}).")
        if status >= 500 or code.isdigit():
            # Not an answer about this request: a server or something in between failed.
            return EndpointUnreachable(f"{what}: DynamoDB could not answer right now ({code}: {message}).")
        return RemoteRejected(f"{what}: DynamoDB refused the request ({code}: {message}).")
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return CredentialsError(
            f"{what}: no AWS credentials found. Sign in, or set AWS_PROFILE or AWS_ACCESS_KEY_ID."
        )
    if isinstance(exc, UNREACHABLE):
        return EndpointUnreachable(f"{what}: cannot reach DynamoDB ({exc}). You appear to be offline.")
    if isinstance(exc, BotoCoreError):
        if _expired_token(str(exc)):
            return CredentialsError(f"{what}: {exc}")
        return EndpointUnreachable(f"{what}: {exc}")
    if isinstance(exc, OSError):
        return EndpointUnreachable(f"{what}: cannot reach DynamoDB ({exc}).")
    raise exc


def _bedrock(exc: BaseException, what: str) -> GalileioError:
    if isinstance(exc, ClientError):
        code, message, status = _parts(exc)
        code = code[:1].upper() + code[1:]  # exception events inside a stream spell it throttlingException
        if code in _CREDENTIALS or status in (401, 403):
            return CredentialsError(f"{what}: access denied or credentials expired ({code}: {message}).")
        if code in _THROTTLED or status == 429:
            return Throttled(f"{what}: Amazon Bedrock is throttling requests ({message}); try again shortly.")
        status_text = f" (HTTP {status})" if status else ""
        return AssistantError(
            f"{what} failed: {code}{status_text}: {message}",
            status=status or None,
            transient=code in _BEDROCK_TRANSIENT,
        )
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return CredentialsError(f"{what}: no AWS credentials found. Sign in, or set AWS_PROFILE.")
    if isinstance(exc, UNREACHABLE):
        return EndpointUnreachable(f"{what}: cannot reach Amazon Bedrock ({exc}).")
    if isinstance(exc, BotoCoreError):
        text = str(exc)
        if _expired_token(text) or "credential" in text.lower():
            return CredentialsError(f"{what}: {text}")
        return AssistantError(f"{what} failed: {text}")
    if isinstance(exc, OSError):
        return EndpointUnreachable(f"{what}: cannot reach Amazon Bedrock ({exc}).")
    raise exc


def _cognito(exc: BaseException, during: str) -> GalileioError:
    """Cognito's sign-in APIs are unsigned: their codes are about the user, not IAM."""
    if isinstance(exc, ClientError):
        code, message, _ = _parts(exc)
        if code in _BAD_SIGN_IN:
            if during == "sign-in":
                return CredentialsError(f"Sign-in failed: {_not_authorized_reason(message)}")
            return CredentialsError(
                f"Your sign-in has expired or was revoked ({message}); please sign in again."
            )
        if code == "UserNotConfirmedException":
            return CredentialsError("This user is not confirmed yet; ask your administrator to confirm it.")
        if code == "PasswordResetRequiredException":
            return CredentialsError(
                "Your password must be reset first; ask your administrator or use the web app."
            )
        if code == "InvalidPasswordException":
            return InvalidInput(f"The new password was refused: {message}")
        if code in _THROTTLED:
            return Throttled(f"Cognito is limiting sign-in attempts ({code}); wait a moment and try again.")
        if code == "ResourceNotFoundException":
            return CredentialsError(
                f"Cognito does not know this user pool, app client or identity pool ({message}); "
                "check the account's settings."
            )
        if code == "InvalidParameterException":
            return CredentialsError(
                f"Cognito refused the {during} request ({message}); check the app client settings."
            )
        return RemoteRejected(f"Cognito refused the {during} request ({code}: {message}).")
    if isinstance(exc, UNREACHABLE):
        # The exception's own text names the URL only, but say no more than needed.
        return EndpointUnreachable(
            f"Cannot reach Cognito for {during} ({type(exc).__name__}). You appear to be offline."
        )
    if isinstance(exc, ParamValidationError):
        # Its text can quote parameter values: keep them out of messages and logs.
        return InvalidInput(f"The {during} request was not valid; check the account's settings.")
    if isinstance(exc, BotoCoreError):
        return EndpointUnreachable(f"Cognito {during} failed: {exc}")
    raise exc


def _not_authorized_reason(message: str) -> str:
    lowered = message.lower()
    if "disabled" in lowered:
        return "this user is disabled."
    if "attempts exceeded" in lowered:
        return "too many attempts; wait a while before trying again."
    return "incorrect username or password."


# -- credentials from profiles, SSO and the environment ------------------------------------


def credentials_error(exc: BaseException, account: Account) -> GalileioError | None:
    """A credential failure raised mid-session (e.g. an SSO session that ran out during a
    sync) as the message that says how to fix it; None when ``exc`` is something else."""
    if isinstance(exc, GalileioError):
        return exc
    if isinstance(exc, _SSO_ERRORS):
        profile = account.aws_profile or "default"
        return CredentialsError(
            f"The AWS SSO sign-in of profile {profile} has expired or is missing: "
            f"run 'aws sso login --profile {profile}' and try again."
        )
    if isinstance(exc, ProfileNotFound):
        return CredentialsError(
            f"There is no AWS profile named {account.aws_profile!r} in your AWS configuration."
        )
    if isinstance(
        exc, (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError, InvalidConfigError)
    ):
        return CredentialsError(f"Account {account.name}: no usable AWS credentials ({exc}).")
    return None


def profile_error(exc: BaseException, account: Account) -> GalileioError:
    """A failure to load an AWS profile's credentials, in words."""
    profile = str(account.aws_profile)
    if isinstance(exc, UNREACHABLE):
        return EndpointUnreachable(f"Cannot reach AWS to load profile {profile} ({type(exc).__name__}).")
    return credentials_error(exc, account) or CredentialsError(f"AWS profile {profile}: {exc}")


# -- what a failure says about a request ---------------------------------------------------


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError, or ''."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it was raised from or while handling, each once."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def client_error_code(exc: BaseException) -> str:
    """The code of the ClientError behind ``exc`` (a translated error keeps it as its cause)."""
    for e in causes(exc):
        if isinstance(e, ClientError):
            return error_code(e)
    return ""


def never_sent(exc: BaseException) -> bool:
    """True only when the failure proves the request never left (no connection was made)."""
    return any(isinstance(e, EndpointConnectionError) for e in causes(exc))


def is_access_denied(exc: BaseException) -> bool:
    """IAM refused this request: that request is parked, not the whole session."""
    return client_error_code(exc) in _ACCESS_DENIED


def is_condition_failure(exc: BaseException) -> bool:
    """A condition of the write did not hold (the item exists, or no longer does)."""
    return client_error_code(exc) == "ConditionalCheckFailedException"
