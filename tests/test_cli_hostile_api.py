"""The command line through the deployment's API under a hostile network: an account made
from the website's address, signed in with moto's Cognito, its requests through the
fault proxy in front of the API stand-in (over the same moto table).

As over DynamoDB (see test_cli_hostile.py): a faulted sync ends with exit code 3 and
one line within its deadline, wipes nothing and loses nothing; the next real sync lands
each queued write once, even when the first one's answer was lost.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from api_stand_in import ApiDeployment, api_deployment_on
from fault_proxy import FaultProxy
from keyring.backends import fail
from test_auth_account_file import cli
from test_auth_cognito import PASSWORD, REGION
from website_server import WebsiteServer, runtime_config

from galileio_desktop.data.auth.secrets import SecretStore
from galileio_desktop.data.schema import Chat, Message, now_ms
from galileio_desktop.demo_api import STAGE

pytestmark = pytest.mark.integration


@dataclass
class World:
    api: ApiDeployment
    proxy: FaultProxy
    data_dir: Path
    secrets: SecretStore
    user_id: str

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        return cli(self.data_dir, self.secrets, "--account", "web", *argv)

    def json(self, *argv: str) -> object:
        code, out, err = self("--json", *argv)
        assert code == 0, err
        return json.loads(out)

    def titles_on_server(self) -> list[str]:
        return sorted(c.title for c in self.api.table_gateway(self.user_id).list_chats())


@pytest.fixture
def world(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_dir: Path
) -> Iterator[World]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    with api_deployment_on(moto_endpoint, tmp_path) as api:
        proxy = FaultProxy(api.stand_in.url).start()
        website = WebsiteServer()
        try:
            cognito = api.cognito
            user_id = cognito.add_user("alice")
            website.serve_json(
                runtime_config(
                    REGION,
                    cognito.pool_id,
                    cognito.client_id,
                    cognito.identity_pool_id,
                    apiUrl=proxy.url + STAGE + "/",
                )
            )
            secrets = SecretStore(fail.Keyring())
            code, _, err = cli(
                data_dir, secrets, "account", "add", "web", "--website", website.url, "--username", "alice"
            )
            assert code == 0, err
            world = World(api, proxy, data_dir, secrets, user_id)
            code, _, err = cli(
                data_dir, secrets, "--account", "web", "login", "--password-stdin", stdin=PASSWORD + "\n"
            )
            assert code == 0, err
            yield world
        finally:
            website.stop()
            proxy.stop()


def one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, err
    return lines[0]


@pytest.mark.parametrize("fault", ["html", "empty", "http503", "truncated", "reset"])
def test_a_faulted_sync_wipes_nothing_and_the_next_lands_each_write_once(world: World, fault: str) -> None:
    table = world.api.table_gateway(world.user_id)
    old = now_ms() - 600_000
    table.create_chat(Chat("web-chat", world.user_id, "From the web app", old))
    table.put_message(Message("web-q", "web-chat", world.user_id, "human", "an earlier question", old + 1))
    code, _, err = world("sync")
    assert code == 0, err
    created = world.json("--offline", "chats", "create", "Written on the plane")
    world.json("--offline", "chats", "rename", "web-chat", "Renamed on the plane")
    assert created["pending"]  # type: ignore[index]

    world.proxy.set(fault)
    code, _, err = world("sync")
    assert code == 3, err
    line = one_line(err)
    if fault in ("html", "empty"):
        assert "did not come from the deployment's API" in line and "nothing was concluded" in line
    listed = world.json("--offline", "chats", "list")
    assert {c["title"] for c in listed} == {"Renamed on the plane", "Written on the plane"}  # type: ignore[index, union-attr]
    messages = world.json("--offline", "messages", "list", "web-chat")
    assert [m["text"] for m in messages] == ["an earlier question"]  # type: ignore[index, union-attr]

    world.proxy.set(None)
    synced = world.json("sync")
    assert synced["pending"] == 0  # type: ignore[index]
    assert world.titles_on_server() == ["Renamed on the plane", "Written on the plane"]  # once each
    listed = world.json("--offline", "chats", "list")
    assert sorted(c["title"] for c in listed) == world.titles_on_server()  # type: ignore[union-attr, index]


@pytest.mark.parametrize("fault", ["silent", "drip"])
def test_a_stuck_api_ends_sync_within_the_deadline_and_loses_nothing(world: World, fault: str) -> None:
    world.json("--offline", "chats", "create", "Queued")
    world.proxy.set(fault)
    started = time.monotonic()
    code, _, err = world("--timeout", "2", "sync")
    elapsed = time.monotonic() - started
    assert code == 3, err
    assert "within 2 s" in one_line(err)
    assert elapsed < 2 + 3, elapsed
    listed = world.json("--timeout", "2", "chats", "list")  # the local copy, as offline
    assert [c["title"] for c in listed] == ["Queued"]  # type: ignore[index, union-attr]

    world.proxy.set(None)
    assert world("sync")[0] == 0
    assert world.titles_on_server() == ["Queued"]
