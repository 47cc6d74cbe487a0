"""The HTTP backends against real local servers: the Galileo endpoint and an OpenAI-compatible one.

Each test starts an ``http.server`` on 127.0.0.1 in a thread and stops it at the end.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from galileio_desktop.data.assistants import AssistantError, AssistantSettings, Turn, make_assistant
from galileio_desktop.data.assistants.galileo_endpoint import (
    ID_TOKEN_HEADER,
    GalileoEndpointAssistant,
    region_of,
    signing_service,
)
from galileio_desktop.data.assistants.openai_compatible import OpenAICompatibleAssistant, completions_url
from galileio_desktop.data.errors import CredentialsError, EndpointUnreachable

REGION = "eu-west-1"
USER = "user-sub-1"
ACCESS_KEY = "AKIDTESTING"
SECRET_KEY = "secret-testing"
ID_TOKEN = "header.payload.signature"

# -- a local server -----------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[BaseHTTPRequestHandler, Received], None]


@dataclass
class LocalServer:
    url: str
    requests: list[Received] = field(default_factory=list)
    #: Set by the test to let a handler that waits finish.
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], LocalServer]]:
    """Start a server on 127.0.0.1 whose requests go to ``handle``; stopped at the end."""
    started: list[tuple[ThreadingHTTPServer, threading.Thread, LocalServer]] = []

    def start(handle: Handler) -> LocalServer:
        state = LocalServer(url="")

        class RequestHandler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received = Received(
                    self.command, self.path, dict(self.headers.items()), self.rfile.read(length)
                )
                state.requests.append(received)
                handle(self, received)

            do_PUT = do_POST = _any

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        state.url = f"http://127.0.0.1:{server.server_address[1]}"
        started.append((server, thread, state))
        return state

    yield start
    for server, thread, state in started:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def reply_json(handler: BaseHTTPRequestHandler, status: int, document: Any) -> None:
    body = json.dumps(document).encode("utf-8")
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def reply_text(handler: BaseHTTPRequestHandler, status: int, text: str) -> None:
    body = text.encode("utf-8")
    handler.send_response(status)
    handler.send_header("Content-Type", "text/plain")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def collect(assistant: Any, question: str, history: list[Turn] | None = None) -> tuple[Any, list[str]]:
    pieces: list[str] = []
    answer = assistant.answer("chat-1", question, history or [], pieces.append, threading.Event())
    return answer, pieces


# -- the Galileo inference endpoint ---------------------------------------------------


def session() -> boto3.Session:
    return boto3.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION)


def galileo(url: str, **options: Any) -> GalileoEndpointAssistant:
    settings = AssistantSettings(backend="galileo", url=url, region=REGION, options=options)
    made = make_assistant(settings, session(), lambda: ID_TOKEN, user_id=USER)
    assert isinstance(made, GalileoEndpointAssistant)
    return made


def web_app_turn(question: str, answer: str, n_sources: int) -> dict[str, Any]:
    """A response as the web app's inference handler builds it: stored items plus ``text``."""

    def message(message_id: str, kind: str, text: str, created: int) -> dict[str, Any]:
        return {
            "PK": USER,
            "SK": f"MESSAGE#{message_id}",
            "GSI1PK": f"{USER}#CHAT#chat-1",
            "GSI1SK": str(created),
            "chatId": "chat-1",
            "messageId": message_id,
            "createdAt": created,
            "userId": USER,
            "type": kind,
            "data": {"content": text},
            "entity": "MESSAGE",
            "text": text,
        }

    sources = [
        {
            "PK": USER,
            "SK": f"SOURCE#m-ai#{i}",
            "sourceId": str(i),
            "userId": USER,
            "chatId": "chat-1",
            "messageId": "m-ai",
            "createdAt": 1_700_000_000_500,
            "entity": "SOURCE",
            "pageContent": f"passage number {i}",
            "metadata": {"source_location": f"s3://corpus/doc-{i}.pdf", "section_index": i, "score": 0.5},
        }
        for i in range(n_sources)
    ]
    return {
        "question": message("m-human", "human", question, 1_700_000_000_000),
        "answer": message("m-ai", "ai", answer, 1_700_000_000_500),
        "sources": sources,
    }


AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)/"
    r"(?P<service>[a-z-]+)/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


def expected_signature(received: Received, service: str) -> str:
    """Sign the request the server received again, independently, with the same key."""
    match = AUTH.match(received.headers["Authorization"])
    assert match
    lower = {k.lower(): v for k, v in received.headers.items()}
    signed = match["signed"].split(";")
    request = AWSRequest(
        method=received.method,
        url=f"http://{lower['host']}{received.path}",
        data=received.body,
        headers={name: lower[name] for name in signed},
    )
    request.context["timestamp"] = lower["x-amz-date"]
    auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), service, REGION)
    return auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)


@pytest.mark.parametrize("service", ["lambda", "execute-api"])
def test_galileo_request_is_sigv4_signed_with_the_id_token(
    serve: Callable[[Handler], LocalServer], service: str
) -> None:
    server = serve(lambda h, r: reply_json(h, 200, web_app_turn("What is RAG?", "Retrieval first.", 2)))
    bot = galileo(server.url, signing_service=service, modelId="some-model")

    answer, pieces = collect(bot, "What is RAG?", [Turn("human", "earlier"), Turn("ai", "reply")])

    (received,) = server.requests
    assert received.method == "PUT"
    if service == "lambda":
        assert received.path == "/chat/chat-1/message?chatId=chat-1"
    else:
        assert received.path == "/chat/chat-1/message"
    assert received.json() == {"question": "What is RAG?", "options": {"modelId": "some-model"}}
    assert received.headers[ID_TOKEN_HEADER] == ID_TOKEN
    match = AUTH.match(received.headers["Authorization"])
    assert match, received.headers["Authorization"]
    assert match["key"] == ACCESS_KEY
    assert match["region"] == REGION and match["service"] == service
    signed = match["signed"].split(";")
    assert "host" in signed and "x-amz-date" in signed and ID_TOKEN_HEADER.lower() in signed
    assert received.headers["X-Amz-Date"].startswith(match["date"])
    assert match["signature"] == expected_signature(received, service)

    assert answer.text == "Retrieval first." and pieces == ["Retrieval first."]
    assert answer.stored_remotely and not answer.stopped
    assert [s["pageContent"] for s in answer.sources] == ["passage number 0", "passage number 1"]


def test_galileo_answer_with_forty_sources_brings_the_stored_items(
    serve: Callable[[Handler], LocalServer],
) -> None:
    server = serve(lambda h, r: reply_json(h, 200, web_app_turn("q?", "forty sources", 40)))

    answer, _ = collect(galileo(server.url), "q?")

    assert len(answer.sources) == 40
    assert answer.sources[39]["metadata"] == {
        "source_location": "s3://corpus/doc-39.pdf",
        "section_index": 39,
        "score": 0.5,
    }
    assert len(answer.remote_items) == 42
    human, ai = answer.remote_messages()
    assert (human.type, human.content, human.message_id) == ("human", "q?", "m-human")
    assert (ai.type, ai.content, ai.created_at) == ("ai", "forty sources", 1_700_000_000_500)
    assert [s.source_id for s in ai.sources] == [str(i) for i in range(40)]
    assert ai.sources[7].page_content == "passage number 7"
    assert human.sources == ()
    # The rebuilt items are the items the web app stored (no API-only "text" attribute).
    item = ai.to_item()
    assert "text" not in item and item["data"] == {"M": {"content": {"S": "forty sources"}}}
    assert item["GSI1SK"] == {"S": "1700000000500"}


def test_galileo_answer_as_a_plain_string_has_no_items(serve: Callable[[Handler], LocalServer]) -> None:
    server = serve(
        lambda h, r: reply_json(
            h,
            200,
            {"question": "q", "answer": "plain", "sources": [{"pageContent": "p", "metadata": {"a": 1}}]},
        )
    )

    answer, _ = collect(galileo(server.url), "q")

    assert answer.text == "plain" and answer.stored_remotely
    assert answer.sources == [{"pageContent": "p", "metadata": {"a": 1}}]
    assert answer.remote_items == []


def test_galileo_answer_object_without_owner_uses_the_given_user(
    serve: Callable[[Handler], LocalServer],
) -> None:
    document = {
        "question": {"messageId": "h1", "chatId": "chat-1", "type": "human", "text": "q", "createdAt": 10},
        "answer": {"messageId": "a1", "chatId": "chat-1", "type": "ai", "text": "a", "createdAt": 11},
        "sources": [{"pageContent": "p", "metadata": {}}],
    }
    server = serve(lambda h, r: reply_json(h, 200, document))

    answer, _ = collect(galileo(server.url), "q")

    human, ai = answer.remote_messages()
    assert human.user_id == USER and ai.user_id == USER
    assert ai.sources[0].source_id == "0" and ai.sources[0].message_id == "a1"


@pytest.mark.parametrize("status", [401, 403])
def test_galileo_refused_credentials(serve: Callable[[Handler], LocalServer], status: int) -> None:
    server = serve(lambda h, r: reply_json(h, status, {"message": "Forbidden"}))

    with pytest.raises(CredentialsError, match=f"HTTP {status}"):
        collect(galileo(server.url), "q")


def test_galileo_server_error_names_the_status_and_the_body(serve: Callable[[Handler], LocalServer]) -> None:
    server = serve(lambda h, r: reply_json(h, 503, {"errorMessage": "the chain failed: model timeout"}))

    with pytest.raises(AssistantError) as caught:
        collect(galileo(server.url), "q")

    assert caught.value.status == 503 and caught.value.transient
    assert "HTTP 503" in str(caught.value) and "model timeout" in str(caught.value)


def test_galileo_unreachable_endpoint() -> None:
    with pytest.raises(EndpointUnreachable, match="cannot be reached"):
        collect(galileo(closed_port_url()), "q")


def test_galileo_stop_while_waiting_returns_at_once(serve: Callable[[Handler], LocalServer]) -> None:
    cancel = threading.Event()

    def slow(handler: BaseHTTPRequestHandler, received: Received) -> None:
        cancel.set()  # the user presses Stop while the server thinks
        server.release.wait(10)

    server = serve(slow)
    answer = galileo(server.url).answer("chat-1", "q", [], lambda t: None, cancel)

    assert answer.stopped and answer.text == "" and answer.stored_remotely


def test_galileo_without_credentials_says_so(serve: Callable[[Handler], LocalServer]) -> None:
    class NoCredentials:
        region_name = REGION

        def get_credentials(self) -> None:
            return None

    server = serve(lambda h, r: reply_json(h, 200, {}))
    bot = GalileoEndpointAssistant(AssistantSettings(backend="galileo", url=server.url), NoCredentials())

    with pytest.raises(CredentialsError, match="sign in"):
        collect(bot, "q")
    assert server.requests == []


def test_signing_service_and_region_follow_the_host() -> None:
    assert signing_service("https://abc123.lambda-url.us-west-2.on.aws/") == "lambda"
    assert signing_service("https://x1.execute-api.eu-central-1.amazonaws.com/prod") == "execute-api"
    assert signing_service("https://chat.example.com/api") == "execute-api"
    assert region_of("https://abc123.lambda-url.us-west-2.on.aws") == "us-west-2"
    assert region_of("https://x1.execute-api.eu-central-1.amazonaws.com/prod") == "eu-central-1"
    assert region_of("https://chat.example.com") is None


# -- an OpenAI-compatible server --------------------------------------------------------


def sse_chunks(
    handler: BaseHTTPRequestHandler, chunks: list[str], wait: threading.Event | None = None
) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.end_headers()
    handler.wfile.write(b": keep-alive comment\n\n")
    role = {"choices": [{"index": 0, "delta": {"role": "assistant"}}]}
    handler.wfile.write(f"data: {json.dumps(role)}\n\n".encode())
    for index, chunk in enumerate(chunks):
        if index == 1 and wait is not None:
            handler.wfile.flush()
            if not wait.wait(10):
                return
        event = {"choices": [{"index": 0, "delta": {"content": chunk}, "finish_reason": None}]}
        handler.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
        handler.wfile.flush()
    done = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    handler.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())


def openai(url: str, api_key: str | None = None, **options: Any) -> OpenAICompatibleAssistant:
    settings = AssistantSettings(
        backend="openai", url=url, model="llama3", api_key=api_key, history_limit=2, options=options
    )
    made = make_assistant(settings)
    assert isinstance(made, OpenAICompatibleAssistant)
    return made


def test_openai_streams_chunks_as_they_arrive(serve: Callable[[Handler], LocalServer]) -> None:
    server = serve(lambda h, r: sse_chunks(h, ["Hel", "lo, ", "world", "!"]))
    history = [Turn("human", "one"), Turn("ai", "two"), Turn("human", "three"), Turn("ai", "four")]

    answer, pieces = collect(
        openai(server.url + "/v1", api_key="sk-local", system="Be brief.", temperature=0.2), "Hi?", history
    )

    assert pieces == ["Hel", "lo, ", "world", "!"]
    assert answer.text == "Hello, world!" and answer.sources == [] and not answer.stopped
    (received,) = server.requests
    assert received.method == "POST" and received.path == "/v1/chat/completions"
    assert received.headers["Authorization"] == "Bearer sk-local"
    body = received.json()
    assert body["model"] == "llama3" and body["stream"] is True and body["temperature"] == 0.2
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "three"},
        {"role": "assistant", "content": "four"},
        {"role": "user", "content": "Hi?"},
    ]


def test_openai_stop_after_the_first_chunk_keeps_the_partial_text(
    serve: Callable[[Handler], LocalServer],
) -> None:
    server = serve(lambda h, r: sse_chunks(h, ["Partial ", "never sent"], wait=server.release))
    cancel = threading.Event()
    pieces: list[str] = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        cancel.set()

    answer = openai(server.url).answer("chat-1", "q", [], on_text, cancel)

    assert answer.stopped
    assert answer.text == "Partial " and pieces == ["Partial "]


def test_openai_stop_while_the_server_is_silent(serve: Callable[[Handler], LocalServer]) -> None:
    cancel = threading.Event()

    def silent(handler: BaseHTTPRequestHandler, received: Received) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        handler.wfile.flush()
        cancel.set()  # the user presses Stop before any token arrives
        server.release.wait(10)

    server = serve(silent)
    answer = openai(server.url).answer("chat-1", "q", [], lambda t: None, cancel)

    assert answer.stopped and answer.text == ""


def test_openai_url_ending_in_chat_completions_is_used_as_given(
    serve: Callable[[Handler], LocalServer],
) -> None:
    server = serve(lambda h, r: sse_chunks(h, ["ok"]))

    answer, _ = collect(openai(server.url + "/custom/chat/completions"), "q")

    assert answer.text == "ok"
    assert server.requests[0].path == "/custom/chat/completions"
    assert "Authorization" not in server.requests[0].headers
    assert completions_url("http://h/v1/") == "http://h/v1/chat/completions"


def test_openai_server_that_does_not_stream(serve: Callable[[Handler], LocalServer]) -> None:
    document = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "whole answer"}}]}
    server = serve(lambda h, r: reply_json(h, 200, document))

    answer, pieces = collect(openai(server.url), "q")

    assert answer.text == "whole answer" and pieces == ["whole answer"]


def test_openai_server_error_500(serve: Callable[[Handler], LocalServer]) -> None:
    server = serve(lambda h, r: reply_text(h, 500, "model exploded\nwhile loading weights"))

    with pytest.raises(AssistantError) as caught:
        collect(openai(server.url), "q")

    assert caught.value.status == 500
    assert "HTTP 500" in str(caught.value) and "model exploded while loading weights" in str(caught.value)


def test_openai_error_event_in_the_stream(serve: Callable[[Handler], LocalServer]) -> None:
    def failing(handler: BaseHTTPRequestHandler, received: Received) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        handler.wfile.write(b'data: {"error": {"message": "context length exceeded"}}\n\n')

    server = serve(failing)

    with pytest.raises(AssistantError, match="context length exceeded"):
        collect(openai(server.url), "q")


def test_openai_bad_key(serve: Callable[[Handler], LocalServer]) -> None:
    server = serve(lambda h, r: reply_json(h, 401, {"error": {"message": "invalid api key"}}))

    with pytest.raises(CredentialsError, match="invalid api key"):
        collect(openai(server.url, api_key="wrong"), "q")


def test_openai_unreachable_endpoint() -> None:
    with pytest.raises(EndpointUnreachable, match="connection refused"):
        collect(openai(closed_port_url()), "q")


def test_openai_goes_through_the_system_proxy_but_never_for_loopback(
    serve: Callable[[Handler], LocalServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = serve(lambda h, r: sse_chunks(h, ["proxied"]))
    for name in ("no_proxy", "NO_PROXY", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", proxy.url)

    answer, _ = collect(openai("http://models.example.invalid/v1"), "q")

    assert answer.text == "proxied"
    assert proxy.requests[0].path == "http://models.example.invalid/v1/chat/completions"

    direct = serve(lambda h, r: sse_chunks(h, ["direct"]))
    answer, _ = collect(openai(direct.url), "q")
    assert answer.text == "direct" and len(proxy.requests) == 1
