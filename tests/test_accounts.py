"""The accounts file: settings only, private, atomic, versioned."""

from __future__ import annotations

import dataclasses
import json
import stat
import threading
from pathlib import Path

import pytest

from galileio_desktop.data.auth.accounts import (
    SCHEMA_VERSION,
    Account,
    AccountStore,
    validate_user_id,
)
from galileio_desktop.data.errors import GalileioError, InvalidInput, NotFound


def cognito_account(name: str = "work", **changes: object) -> Account:
    account = Account(
        name=name,
        auth="cognito",
        region="eu-west-1",
        table="galileo-chats",
        user_pool_id="eu-west-1_AbCdEf123",
        client_id="1example23456789",
        identity_pool_id="eu-west-1:11111111-2222-3333-4444-555555555555",
        username="alice",
        assistant={"kind": "bedrock", "model_id": "anthropic.claude"},
    )
    return dataclasses.replace(account, **changes)  # type: ignore[arg-type]


def keys_account(name: str = "lab") -> Account:
    return Account(
        name=name,
        auth="keys",
        region="us-east-1",
        table="t",
        access_key_id="AKIAEXAMPLE",
        user_id="user-1",
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_add_get_list_and_round_trip(tmp_path: Path) -> None:
    store = AccountStore(tmp_path / "config")
    work = store.add(cognito_account())
    store.add(keys_account())

    assert store.get("work") == work
    assert [a.name for a in store.list()] == ["lab", "work"]
    # A fresh store (another process) reads the same accounts back.
    again = AccountStore(tmp_path / "config")
    assert again.get("work") == work
    assert again.get("work").assistant == {"kind": "bedrock", "model_id": "anthropic.claude"}


def test_file_is_private_versioned_and_atomic(tmp_path: Path) -> None:
    config = tmp_path / "config"
    store = AccountStore(config)
    store.add(cognito_account())
    store.add(keys_account())
    store.use("lab")
    store.remove("work")

    assert mode(config) == 0o700
    assert mode(store.path) == 0o600
    data = json.loads(store.path.read_text())
    assert data["version"] == SCHEMA_VERSION
    assert data["current"] == "lab"
    assert [a["name"] for a in data["accounts"]] == ["lab"]
    # Only the file and its lock: no temp file left behind by the atomic writes.
    assert sorted(p.name for p in config.iterdir()) == ["accounts.json", "accounts.json.lock"]


def test_first_account_becomes_current_and_use_switches(tmp_path: Path) -> None:
    store = AccountStore(tmp_path)
    assert store.current() is None
    store.add(cognito_account("a"))
    store.add(cognito_account("b"))
    assert store.current_name() == "a"
    store.use("b")
    assert store.current_name() == "b"
    assert store.resolve(None).name == "b"
    assert store.resolve("a").name == "a"


def test_remove_current_leaves_only_remaining_account_current(tmp_path: Path) -> None:
    store = AccountStore(tmp_path)
    store.add(cognito_account("a"))
    store.add(cognito_account("b"))
    store.add(cognito_account("c"))
    store.use("b")
    store.remove("b")
    assert store.current() is None
    with pytest.raises(InvalidInput, match="--account"):
        store.resolve(None)
    store.remove("c")
    # One account left: it is the one in use.
    assert store.current_name() == "a"


def test_missing_and_duplicate_accounts(tmp_path: Path) -> None:
    store = AccountStore(tmp_path)
    with pytest.raises(InvalidInput, match="account add"):
        store.resolve(None)
    with pytest.raises(NotFound):
        store.get("nope")
    with pytest.raises(NotFound):
        store.use("nope")
    with pytest.raises(NotFound):
        store.remove("nope")
    store.add(cognito_account())
    with pytest.raises(InvalidInput, match="already exists"):
        store.add(cognito_account())
    store.add(cognito_account(region="us-west-2"), replace_existing=True)
    assert store.get("work").region == "us-west-2"


def test_remember_user_id(tmp_path: Path) -> None:
    store = AccountStore(tmp_path)
    store.add(cognito_account())
    store.remember_user_id("work", "0f7a-sub")
    assert AccountStore(tmp_path).get("work").user_id == "0f7a-sub"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "bad name"}, "not valid"),
        ({"name": "a:b"}, "not valid"),
        ({"auth": "password"}, "Unknown sign-in kind"),
        ({"region": ""}, "region"),
        ({"table": ""}, "table"),
        ({"user_pool_id": None}, "--user-pool-id"),
        ({"identity_pool_id": None, "username": None}, "--identity-pool-id, --username"),
        ({"user_pool_id": "nounderscore"}, "REGION_ID"),
        ({"identity_pool_id": "no-colon"}, "REGION:UUID"),
        ({"user_id": "alice#CHAT"}, "may not contain '#'"),
        ({"history_limit": -1}, "history_limit"),
        ({"assistant": {"api_key": "sk-123"}}, "api_key"),
        ({"assistant": {"endpoint": {"auth_token": "x"}}}, "endpoint.auth_token"),
    ],
)
def test_invalid_accounts_are_refused(tmp_path: Path, changes: dict[str, object], message: str) -> None:
    store = AccountStore(tmp_path)
    with pytest.raises(InvalidInput, match=message):
        store.add(cognito_account(**changes))
    assert not store.path.exists()


def test_profile_and_keys_need_a_user_id() -> None:
    with pytest.raises(InvalidInput, match="--user-id"):
        Account(name="p", auth="profile", region="r", table="t", aws_profile="sso").validate()
    with pytest.raises(InvalidInput, match="--access-key-id"):
        Account(name="k", auth="keys", region="r", table="t", user_id="u").validate()
    demo = Account(name="demo", auth="demo", region="us-east-1", table="t").validate()
    assert demo.effective_user_id == "demo-user"


def test_user_id_rules() -> None:
    assert validate_user_id("0f7a1b2c-sub") == "0f7a1b2c-sub"
    for bad in ("", " x", "x ", "a#b", "x" * 1025):
        with pytest.raises(InvalidInput):
            validate_user_id(bad)


def test_account_has_no_secret_fields() -> None:
    """Nothing secret can even be put on an account: secrets go to the keyring."""
    names = {f.name for f in dataclasses.fields(Account)}
    assert not {n for n in names if any(w in n for w in ("secret", "password", "token"))}
    assert "access_key_id" in names  # an id, not a secret


def test_damaged_and_newer_files_are_reported(tmp_path: Path) -> None:
    store = AccountStore(tmp_path)
    store.path.write_text("{not json")
    with pytest.raises(GalileioError, match="damaged"):
        store.list()
    store.path.write_text(json.dumps({"version": SCHEMA_VERSION + 1, "accounts": []}))
    with pytest.raises(GalileioError, match="newer"):
        store.list()


def test_unknown_settings_from_a_newer_version_are_ignored(tmp_path: Path) -> None:
    store = AccountStore(tmp_path)
    entry = cognito_account().to_json() | {"future_option": True}
    store.path.write_text(json.dumps({"version": SCHEMA_VERSION, "current": "work", "accounts": [entry]}))
    assert store.get("work").username == "alice"


def test_concurrent_writers_do_not_lose_accounts(tmp_path: Path) -> None:
    """The window and a CLI command may add accounts at the same time."""
    errors: list[BaseException] = []

    def add(n: int) -> None:
        try:
            AccountStore(tmp_path).add(cognito_account(f"acct-{n}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(AccountStore(tmp_path).list()) == 8
