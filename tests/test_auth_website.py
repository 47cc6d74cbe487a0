"""Finding a deployment from its website's address: ``runtime-config.json`` over real HTTP.

A real server on 127.0.0.1 plays the website, well and badly: a Wi-Fi sign-in
page answering 200, JSON of the wrong types, a huge body, silence, a byte a
second, a reset in the middle. Each ends in one sentence within the deadline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from website_server import Answer, WebsiteServer, runtime_config

from galileio_desktop.data.auth.runtime_config import (
    MAX_CONFIG_BYTES,
    fetch_runtime_config,
    parse_runtime_config,
)
from galileio_desktop.data.auth.web_address import secure_url, website_root
from galileio_desktop.data.errors import EndpointUnreachable, InvalidInput

POOL = "eu-west-1_AbC123"
IDENTITY_POOL = "eu-west-1:1234abcd-0000-1111-2222-333344445555"
GOOD = runtime_config("eu-west-1", POOL, "4example5client", IDENTITY_POOL)


@pytest.fixture
def website() -> Iterator[WebsiteServer]:
    server = WebsiteServer()
    yield server
    server.stop()


def test_the_web_apps_file_gives_every_setting(website: WebsiteServer) -> None:
    website.serve_json({**GOOD, "flags": {"x": True}, "foundationModels": "a,b"})
    config = fetch_runtime_config(website.url + "/#/chat/123")
    assert website.requests == ["/runtime-config.json"]
    assert config.website == website.url + "/"
    assert (config.region, config.user_pool_id, config.client_id, config.identity_pool_id) == (
        "eu-west-1",
        POOL,
        "4example5client",
        IDENTITY_POOL,
    )
    assert config.api_url == GOOD["apiUrl"]
    assert config.inference_url == GOOD["inferenceBufferedFunctionUrl"]
    assert config.describe() == (
        f"Found Galileo at {website.url}/: region eu-west-1, user pool {POOL}, the chat API, an assistant."
    )
    account = config.account("work", "alice")
    assert account.transport == "api" and account.table == ""  # no table named: the API
    assert account.assistant == {"backend": "galileo", "url": GOOD["inferenceBufferedFunctionUrl"]}
    assert config.account("work", "alice", table="galileo-chats").transport == "dynamodb"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("galileo.example.com", "https://galileo.example.com/"),
        ("https://d111.cloudfront.net/#/chat/1?x=2", "https://d111.cloudfront.net/"),
        ("http://127.0.0.1:8123/", "http://127.0.0.1:8123/"),
        ("http://localhost:9/a", "http://localhost:9/"),
        ("http://[::1]:9/", "http://[::1]:9/"),
    ],
)
def test_addresses_as_typed(typed: str, expected: str) -> None:
    assert website_root(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("http://galileo.example.com", "must start with https://"),
        ("ftp://galileo.example.com", "is not an https:// address"),
        ("https://user:pw@galileo.example.com", "may not carry a user name or password"),
        ("https://gal ileo.example.com", "spaces or control characters"),
        ("https://galileo.example.com:99999", "is not a web address"),
        ("", "Enter the website's address"),
    ],
)
def test_bad_addresses_get_one_clear_line(typed: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        website_root(typed)
    with pytest.raises(InvalidInput):
        secure_url(typed, "the address")


BAD_FILES = [
    (Answer(body=b"<!doctype html><html>Welcome to Hotel Wi-Fi</html>"), EndpointUnreachable, "a web page"),
    (
        Answer(body=b'{"a": 1}', headers={"Content-Type": "text/html"}),
        EndpointUnreachable,
        "a web page",
    ),
    (Answer(body=b"{}"), InvalidInput, "lacks the region, user pool id, app client id, identity pool id"),
    (Answer(body=b"[1, 2]"), InvalidInput, "not a JSON object"),
    (Answer(body=b'{"region": '), InvalidInput, "is not JSON"),
    (
        Answer(body=json.dumps({**GOOD, "userPoolId": 12}).encode()),
        InvalidInput,
        r"userPoolId \(user pool id\) is a number, not text",
    ),
    (
        Answer(body=json.dumps({**GOOD, "region": ["eu-west-1"]}).encode()),
        InvalidInput,
        "region .* is a list, not text",
    ),
    (
        Answer(body=json.dumps({**GOOD, "identityPoolId": "x" * 5000}).encode()),
        InvalidInput,
        "is not a plain value",
    ),
    (
        Answer(body=json.dumps({**GOOD, "userPoolWebClientId": "a\nb"}).encode()),
        InvalidInput,
        "not a plain value",
    ),
    (
        Answer(body=json.dumps({**GOOD, "apiUrl": "http://api.example.com/prod/"}).encode()),
        InvalidInput,
        "The API address must start with https://",
    ),
    (Answer(body=b"{" + b" " * (MAX_CONFIG_BYTES * 4) + b"}"), InvalidInput, "too large"),
    (Answer(status=404, body=b"Not Found"), InvalidInput, "has no runtime-config.json \\(HTTP 404\\)"),
    (Answer(status=403, body=b"<Error/>"), InvalidInput, "HTTP 403"),
    (
        Answer(status=302, headers={"Location": "http://portal.example/"}),
        EndpointUnreachable,
        "sent the app elsewhere \\(HTTP 302\\)",
    ),
    (Answer(status=503, body=b"busy"), EndpointUnreachable, "answered HTTP 503"),
    (Answer(body=json.dumps(GOOD).encode(), behaviour="reset"), EndpointUnreachable, "in the middle"),
]


@pytest.mark.parametrize(("answer", "error", "message"), BAD_FILES)
def test_a_hostile_answer_is_one_sentence(
    website: WebsiteServer, answer: Answer, error: type[Exception], message: str
) -> None:
    website.answer = answer
    with pytest.raises(error, match=message) as raised:
        fetch_runtime_config(website.url)
    assert "\n" not in str(raised.value) and len(str(raised.value)) < 300


@pytest.mark.parametrize("behaviour", ["silent", "drip"])
def test_a_server_that_stalls_is_given_up_at_the_deadline(website: WebsiteServer, behaviour: str) -> None:
    website.answer = Answer(body=json.dumps(GOOD).encode(), behaviour=behaviour)
    started = time.monotonic()
    with pytest.raises(EndpointUnreachable, match="did not answer within 1.5 seconds"):
        fetch_runtime_config(website.url, deadline_s=1.5)
    assert time.monotonic() - started < 4


def test_nobody_listening_is_unreachable() -> None:
    server = WebsiteServer()
    url = server.url
    server.stop()
    with pytest.raises(EndpointUnreachable, match="cannot be reached"):
        fetch_runtime_config(url)


def test_a_byte_order_mark_and_spaces_are_fine() -> None:
    config = parse_runtime_config(b"\xef\xbb\xbf \n" + json.dumps(GOOD).encode(), "https://g.example/")
    assert config.user_pool_id == POOL
