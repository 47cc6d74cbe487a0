"""What the sign-in dialog asks for: its fields, which kind of sign-in needs which, and
messages about them in the window's words.

Field names are :class:`~..data.auth.accounts.Account`'s, plus the secrets, which
never become part of an account.
"""

from __future__ import annotations

from ...data.auth.accounts import Account
from ...data.errors import InvalidInput

#: Signing in as a Galileo user found through the website's address: the first choice.
WEBSITE = "website"
#: The ways to sign in the dialog offers, as (kind, label); kinds are Account's auth kinds,
#: plus the website, which is a Cognito sign-in whose settings come from the website.
KINDS = (
    (WEBSITE, "Galileo website"),
    ("cognito", "Galileo user, with the ids (advanced)"),
    ("profile", "AWS profile"),
    ("keys", "Access key"),
)
#: (field, label, placeholder); the field names are Account's, plus the secrets.
FIELDS = (
    ("website", "Website", "https://galileo.example.com"),
    ("name", "Account name", "work"),
    ("region", "Region", "eu-west-1"),
    ("table", "Table", "the chat history table"),
    ("endpoint_url", "Endpoint URL (optional)", "leave empty for AWS"),
    ("user_pool_id", "User pool id", "eu-west-1_AbC123"),
    ("client_id", "App client id", ""),
    ("identity_pool_id", "Identity pool id", "eu-west-1:1234abcd-…"),
    ("username", "User name", ""),
    ("password", "Password", ""),
    ("aws_profile", "AWS profile", "default"),
    ("access_key_id", "Access key id", "AKIA…"),
    ("secret_key", "Secret access key", ""),
    ("user_id", "User id", "your user id (the partition key of your chats)"),
    ("new_password", "New password", ""),
    ("new_password_again", "New password again", ""),
)
SECRET_FIELDS = ("password", "secret_key", "new_password", "new_password_again")
DEPLOYMENT_FIELDS = ("name", "region", "table", "endpoint_url")
#: What a website or an account file leaves to type: the deployment's settings come with them.
USER_FIELDS = ("username", "password")
KIND_FIELDS = {
    WEBSITE: ("website", *USER_FIELDS),
    "cognito": ("user_pool_id", "client_id", "identity_pool_id", "username", "password"),
    "profile": ("aws_profile", "user_id"),
    "keys": ("access_key_id", "secret_key", "user_id"),
}
#: What an account that exists already still needs typed.
EXISTING_FIELDS = {"cognito": ("password",), "profile": (), "keys": ("secret_key",)}


def field_label(field: str) -> str:
    return next(text for name, text, _ in FIELDS if name == field).removesuffix(" (optional)")


def invalid_field(message: str, field: str | None) -> InvalidInput:
    error = InvalidInput(message)
    error.field = field  # type: ignore[attr-defined]
    return error


def field_named_in(message: str) -> str | None:
    """Which field a validation message of the accounts layer is about."""
    lowered = message.lower()
    for needle, field in (
        ("account name", "name"),
        ("user pool id", "user_pool_id"),
        ("identity pool id", "identity_pool_id"),
        ("user id", "user_id"),
        ("website", "website"),
        ("region", "region"),
        ("table", "table"),
    ):
        if needle in lowered:
            return field
    return None


def in_window_words(message: str) -> str:
    """Messages of the accounts layer name CLI options; in the window, fields are named."""
    for option in (
        "--user-pool-id",
        "--client-id",
        "--identity-pool-id",
        "--username",
        "--aws-profile",
        "--access-key-id",
        "--user-id",
    ):
        message = message.replace(option, field_label(option[2:].replace("-", "_")).lower())
    return message


def describe_account(account: Account) -> str:
    """One line saying which account this is, with nothing secret in it."""
    who = {
        "cognito": f"User {account.username}",
        "profile": f"AWS profile {account.aws_profile}",
        "keys": f"Access key {account.access_key_id}",
    }.get(account.auth, f"User {account.user_id}")
    where = f"table {account.table} in {account.region}"
    if account.endpoint_url:
        where += f" at {account.endpoint_url}"
    return f"{who}, {where}."
