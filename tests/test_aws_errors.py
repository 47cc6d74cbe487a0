"""The one map from AWS failures to the app's errors: types (and so exit codes) and words.

The failures are botocore's own exception classes, built as botocore builds them from
an answer; the requests that raise them against real servers are in the gateway, sign-in
and assistant tests.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOTokenLoadError,
    TokenRetrievalError,
)

from galileio_desktop.data.assistants import AssistantError
from galileio_desktop.data.auth.accounts import Account
from galileio_desktop.data.aws_errors import (
    Service,
    client_error_code,
    credentials_error,
    dynamo_errors,
    is_access_denied,
    is_condition_failure,
    never_sent,
    profile_error,
    translate,
)
from galileio_desktop.data.errors import (
    CredentialsError,
    EndpointUnreachable,
    GalileioError,
    InvalidInput,
    NotFound,
    RemoteRejected,
    Throttled,
)

DYNAMODB, BEDROCK, COGNITO = Service.DYNAMODB, Service.BEDROCK, Service.COGNITO


def answer(code: str, message: str = "", status: int | None = 400, operation: str = "PutItem") -> ClientError:
    response: dict[str, Any] = {"Error": {"Code": code, "Message": message}}
    if status is not None:
        response["ResponseMetadata"] = {"HTTPStatusCode": status}
    return ClientError(response, operation)


def unreachable() -> EndpointConnectionError:
    return EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/")


@pytest.mark.parametrize(
    ("exc", "kind", "words"),
    [
        (answer("ProvisionedThroughputExceededException"), Throttled, "DynamoDB is throttling"),
        (answer("InternalServerError", status=500), Throttled, "temporarily unavailable"),
        (answer("AccessDeniedException", "no"), CredentialsError, "AccessDeniedException: no"),
        (answer("ResourceNotFoundException", "t"), NotFound, "table does not exist here"),
        (answer("ConditionalCheckFailedException"), NotFound, "does not exist (any more)"),
        (answer("ValidationException", "Item size has exceeded"), RemoteRejected, "too large"),
        (answer("ValidationException", "bad key"), RemoteRejected, "refused the request"),
        (answer("Bad Gateway", status=502), EndpointUnreachable, "could not answer right now"),
        (answer("403", status=403), EndpointUnreachable, "could not answer right now"),
        (NoCredentialsError(), CredentialsError, "AWS_ACCESS_KEY_ID"),
        (unreachable(), EndpointUnreachable, "You appear to be offline"),
        (TokenRetrievalError(provider="sso", error_msg="expired"), CredentialsError, "expired"),
        (ConnectionResetError("reset"), EndpointUnreachable, "cannot reach DynamoDB"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_dynamodb_failures(exc: BaseException, kind: type[GalileioError], words: str) -> None:
    error = translate(exc, "Renaming chat", DYNAMODB)
    assert type(error) is kind
    assert error.message.startswith("Renaming chat: ")
    assert words in error.message


@pytest.mark.parametrize(
    ("exc", "kind", "transient"),
    [
        (answer("throttlingException", status=None, operation="ConverseStream"), Throttled, True),
        (answer("SomethingNew", status=429), Throttled, True),
        (answer("SomethingNew", status=403), CredentialsError, False),
        (answer("ModelTimeoutException", status=408), AssistantError, True),
        (answer("ValidationException", "no such model", status=400), AssistantError, False),
        (NoCredentialsError(), CredentialsError, False),
        (unreachable(), EndpointUnreachable, True),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_bedrock_failures(exc: BaseException, kind: type[GalileioError], transient: bool) -> None:
    error = translate(exc, "Amazon Bedrock", BEDROCK)
    assert type(error) is kind
    assert error.transient is transient


def test_a_failed_bedrock_answer_keeps_its_status() -> None:
    error = translate(answer("ValidationException", "no such model", status=400), "Asking", BEDROCK)
    assert isinstance(error, AssistantError)
    assert error.status == 400
    assert error.message == "Asking failed: ValidationException (HTTP 400): no such model"


@pytest.mark.parametrize(
    ("exc", "during", "kind", "words"),
    [
        (
            answer("NotAuthorizedException", "Incorrect username or password."),
            "sign-in",
            CredentialsError,
            "Sign-in failed: incorrect username or password.",
        ),
        (
            answer("NotAuthorizedException", "User is disabled."),
            "sign-in",
            CredentialsError,
            "this user is disabled",
        ),
        (
            answer("NotAuthorizedException", "Refresh Token has expired"),
            "token renewal",
            CredentialsError,
            "has expired or was revoked",
        ),
        (answer("InvalidPasswordException", "too short"), "sign-in", InvalidInput, "too short"),
        (answer("TooManyRequestsException"), "sign-in", Throttled, "limiting sign-in attempts"),
        (answer("InternalErrorException", "oops", status=500), "sign-in", RemoteRejected, "oops"),
        (unreachable(), "sign-in", EndpointUnreachable, "EndpointConnectionError"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_cognito_failures(exc: BaseException, during: str, kind: type[GalileioError], words: str) -> None:
    error = translate(exc, during, COGNITO)
    assert type(error) is kind
    assert words in error.message


def test_cognito_words_never_quote_parameter_values() -> None:
    bad = ParamValidationError(report="Invalid length for parameter PASSWORD, value: hunter2")
    error = translate(bad, "sign-in", COGNITO)
    assert isinstance(error, InvalidInput)
    assert "hunter2" not in error.message
    unreachable_error = translate(unreachable(), "sign-in", COGNITO)
    assert "amazonaws.com" not in unreachable_error.message


@pytest.mark.parametrize("service", list(Service))
def test_a_code_means_the_same_at_every_service(service: Service) -> None:
    assert isinstance(translate(answer("ThrottlingException"), "x", service), Throttled)
    assert isinstance(translate(unreachable(), "x", service), EndpointUnreachable)
    assert translate(answer("ThrottlingException"), "x", service).exit_code == 3


@pytest.mark.parametrize("service", list(Service))
def test_what_is_not_an_aws_failure_is_a_bug(service: Service) -> None:
    with pytest.raises(KeyError):
        translate(KeyError("a bug"), "x", service)
    refused = NotFound("already in words")
    assert translate(refused, "x", service) is refused


def test_a_translated_failure_keeps_what_it_says_about_the_write() -> None:
    def fail(exc: BaseException) -> GalileioError:
        with pytest.raises(GalileioError) as caught, dynamo_errors("Writing"):
            raise exc
        return caught.value

    condition = fail(answer("ConditionalCheckFailedException"))
    assert client_error_code(condition) == "ConditionalCheckFailedException"
    assert is_condition_failure(condition) and not is_access_denied(condition)
    assert is_access_denied(fail(answer("AccessDeniedException")))
    assert never_sent(fail(unreachable()))
    # A read that timed out may have been applied: nothing is concluded from it.
    assert not never_sent(fail(ReadTimeoutError(endpoint_url="https://dynamodb")))


def profile_account(profile: str) -> Account:
    return Account(
        name="corp", auth="profile", region="eu-west-1", table="t", aws_profile=profile, user_id="u"
    )


def test_profile_failures_name_the_fix() -> None:
    account = profile_account("corp-sso")
    expired = credentials_error(SSOTokenLoadError(error_msg="no token"), account)
    assert isinstance(expired, CredentialsError)
    assert "aws sso login --profile corp-sso" in expired.message
    assert credentials_error(ValueError("unrelated"), account) is None
    missing = profile_error(ProfileNotFound(profile="corp-sso"), account)
    assert "no AWS profile named 'corp-sso'" in missing.message
    offline = profile_error(unreachable(), account)
    assert isinstance(offline, EndpointUnreachable)
    assert "Cannot reach AWS to load profile corp-sso" in offline.message
