"""The Bedrock backends: botocore's Stubber for whole responses and errors, and a local
server speaking the real event-stream encoding for the streamed operations.

botocore's Stubber validates a stubbed response against the output shape and cannot
hold an event stream, so ConverseStream and RetrieveAndGenerateStream are served
over HTTP on 127.0.0.1 as ``application/vnd.amazon.eventstream`` and parsed by
botocore exactly as it parses Amazon Bedrock's own.
"""

from __future__ import annotations

import binascii
import json
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from galileio_desktop.data.assistants import AssistantError, AssistantSettings, Turn, make_assistant
from galileio_desktop.data.assistants.bedrock_kb import BedrockKnowledgeBaseAssistant
from galileio_desktop.data.assistants.bedrock_model import BedrockModelAssistant
from galileio_desktop.data.errors import CredentialsError, EndpointUnreachable, Throttled
from galileio_desktop.data.schema import make_sources, now_ms

REGION = "us-east-1"
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
KB = "KBTEST1234"
ARN = f"arn:aws:bedrock:{REGION}::foundation-model/{MODEL}"


def session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


# -- the event-stream encoding ------------------------------------------------------------


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude, CRCs, string headers, payload."""
    encoded = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        encoded += (
            bytes([len(raw_name)]) + raw_name + bytes([7]) + struct.pack(">H", len(raw_value)) + raw_value
        )
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    message = prelude + struct.pack(">I", binascii.crc32(prelude)) + encoded + payload
    return message + struct.pack(">I", binascii.crc32(message))


def event(kind: str, body: dict[str, Any]) -> bytes:
    headers = {":event-type": kind, ":content-type": "application/json", ":message-type": "event"}
    return encode_message(headers, json.dumps(body).encode())


def exception(kind: str, message: str) -> bytes:
    headers = {":exception-type": kind, ":content-type": "application/json", ":message-type": "exception"}
    return encode_message(headers, json.dumps({"message": message}).encode())


def converse_events(texts: list[str]) -> list[bytes]:
    return [
        event("messageStart", {"role": "assistant"}),
        *[event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": t}}) for t in texts],
        event("contentBlockStop", {"contentBlockIndex": 0}),
        event("messageStop", {"stopReason": "end_turn"}),
        event(
            "metadata",
            {"usage": {"inputTokens": 9, "outputTokens": 5, "totalTokens": 14}, "metrics": {"latencyMs": 80}},
        ),
    ]


def reference(text: str, uri: str, **metadata: Any) -> dict[str, Any]:
    return {
        "content": {"text": text, "type": "TEXT"},
        "location": {"type": "S3", "s3Location": {"uri": uri}},
        "metadata": {"x-amz-bedrock-kb-source-uri": uri, **metadata},
    }


# -- a local Bedrock endpoint ---------------------------------------------------------------


@dataclass
class StreamServer:
    url: str
    #: What each request gets: a list of encoded messages, or None for "wait for release here".
    events: list[bytes | None] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def bedrock_server() -> Iterator[StreamServer]:
    """An HTTP server on 127.0.0.1 answering every POST with ``state.events`` as an event stream."""
    state = StreamServer(url="")

    class Handler(BaseHTTPRequestHandler):
        # Chunked transfer, one event a chunk, as the service streams: botocore hands
        # each chunk to the parser as it arrives.
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.paths.append(self.path)
            state.bodies.append(json.loads(self.rfile.read(length) or b"{}"))
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.amazon.eventstream")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            for name, value in state.headers.items():
                self.send_header(name, value)
            self.end_headers()
            try:
                for message in state.events:
                    if message is None:
                        if not state.release.wait(10):
                            return
                        continue
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(message), message))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading: what a Stop does

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def ask(
    bot: Any, question: str = "What is in the corpus?", history: list[Turn] | None = None
) -> tuple[Any, list[str]]:
    pieces: list[str] = []
    answer = bot.answer("chat-1", question, history or [], pieces.append, threading.Event())
    return answer, pieces


# -- Bedrock model: ConverseStream ------------------------------------------------------------


def model_bot(url: str | None = None, **options: Any) -> BedrockModelAssistant:
    settings = AssistantSettings(
        backend="bedrock", model=MODEL, region=REGION, url=url, history_limit=3, options=options
    )
    made = make_assistant(settings, session())
    assert isinstance(made, BedrockModelAssistant)
    return made


def test_converse_stream_streams_text_deltas(bedrock_server: StreamServer) -> None:
    bedrock_server.events = converse_events(["Bedrock ", "says ", "hello."])
    history = [
        Turn("ai", "welcome"),
        Turn("human", "first"),
        Turn("ai", "answer one"),
        Turn("human", "second"),
    ]

    answer, pieces = ask(
        model_bot(bedrock_server.url, system="Be exact.", max_tokens=200, temperature=0.1), "third", history
    )

    assert pieces == ["Bedrock ", "says ", "hello."]
    assert answer.text == "Bedrock says hello." and answer.sources == [] and not answer.stopped
    assert bedrock_server.paths == [f"/model/{MODEL.replace(':', '%3A')}/converse-stream"]
    body = bedrock_server.bodies[0]
    # The last three turns, the unanswered "second" dropped, opening with the user.
    assert body["messages"] == [
        {"role": "user", "content": [{"text": "first"}]},
        {"role": "assistant", "content": [{"text": "answer one"}]},
        {"role": "user", "content": [{"text": "third"}]},
    ]
    assert body["system"] == [{"text": "Be exact."}]
    assert body["inferenceConfig"] == {"maxTokens": 200, "temperature": 0.1}


def test_converse_stream_honours_the_endpoint_environment(
    bedrock_server: StreamServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", bedrock_server.url)
    bedrock_server.events = converse_events(["via the environment"])

    answer, _ = ask(model_bot())

    assert answer.text == "via the environment"


def test_converse_stream_stop_mid_stream_keeps_the_partial_text(bedrock_server: StreamServer) -> None:
    start = converse_events(["First words "])[:2]
    bedrock_server.events = [*start, None, *converse_events(["never seen"])[1:]]
    cancel = threading.Event()
    pieces: list[str] = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        cancel.set()

    answer = model_bot(bedrock_server.url).answer("chat-1", "q", [], on_text, cancel)

    assert answer.stopped and answer.text == "First words " and pieces == ["First words "]


def test_converse_stream_exception_event_after_some_text(bedrock_server: StreamServer) -> None:
    bedrock_server.events = [
        *converse_events(["Partial"])[:2],
        exception("throttlingException", "Too many tokens"),
    ]

    with pytest.raises(Throttled, match="Too many tokens"):
        ask(model_bot(bedrock_server.url))


def test_converse_stream_access_denied_via_stubber() -> None:
    client = session().client("bedrock-runtime")
    bot = BedrockModelAssistant(AssistantSettings(backend="bedrock", model=MODEL), session(), client=client)
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "converse_stream",
            service_error_code="AccessDeniedException",
            service_message="You don't have access to the model with the specified model ID.",
            http_status_code=403,
            expected_params={"modelId": MODEL, "messages": [{"role": "user", "content": [{"text": "q"}]}]},
        )
        with pytest.raises(CredentialsError, match="don't have access to the model"):
            ask(bot, "q")
        stubber.assert_no_pending_responses()


def test_converse_stream_validation_error_names_the_code_and_status() -> None:
    client = session().client("bedrock-runtime")
    bot = BedrockModelAssistant(AssistantSettings(backend="bedrock", model=MODEL), session(), client=client)
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "converse_stream",
            service_error_code="ValidationException",
            service_message="The provided model identifier is invalid.",
            http_status_code=400,
        )
        with pytest.raises(AssistantError) as caught:
            ask(bot, "q")

    assert caught.value.status == 400
    assert "ValidationException" in str(caught.value) and "HTTP 400" in str(caught.value)


def test_unreachable_bedrock_endpoint() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bot = model_bot(f"http://127.0.0.1:{port}")

    with pytest.raises(EndpointUnreachable, match="cannot reach Amazon Bedrock"):
        ask(bot)


# -- Bedrock knowledge base: RetrieveAndGenerate(Stream) --------------------------------------


def kb_bot(url: str | None = None, client: Any = None, **options: Any) -> BedrockKnowledgeBaseAssistant:
    settings = AssistantSettings(
        backend="bedrock-kb", knowledge_base_id=KB, model=MODEL, region=REGION, url=url, options=options
    )
    if client is not None:
        return BedrockKnowledgeBaseAssistant(settings, session(), client=client)
    made = make_assistant(settings, session())
    assert isinstance(made, BedrockKnowledgeBaseAssistant)
    return made


def test_retrieve_and_generate_stream_turns_citations_into_sources(bedrock_server: StreamServer) -> None:
    first = reference("Panels need cleaning twice a year.", "s3://corpus/care.pdf", page=3)
    second = reference("Inverters reset with a ten second press.", "s3://corpus/inverter.md")
    bedrock_server.headers = {"x-amzn-bedrock-knowledge-base-session-id": "session-42"}
    bedrock_server.events = [
        event("output", {"text": "Clean panels twice a year"}),
        event(
            "citation",
            {
                "generatedResponsePart": {
                    "textResponsePart": {"text": "Clean panels twice a year", "span": {"start": 0, "end": 24}}
                },
                "retrievedReferences": [first],
            },
        ),
        event("output", {"text": " and reset inverters by pressing."}),
        event("citation", {"citation": {"retrievedReferences": [second, first]}}),
    ]
    bot = kb_bot(bedrock_server.url, number_of_results=5)

    answer, pieces = ask(bot, "How do I look after the station?")

    assert pieces == ["Clean panels twice a year", " and reset inverters by pressing."]
    assert answer.text == "Clean panels twice a year and reset inverters by pressing."
    assert [s["pageContent"] for s in answer.sources] == [
        "Panels need cleaning twice a year.",
        "Inverters reset with a ten second press.",
    ], "in citation order, a passage cited twice listed once"
    assert answer.sources[0]["metadata"] == {
        "source_location": "s3://corpus/care.pdf",
        "location_type": "S3",
        "x-amz-bedrock-kb-source-uri": "s3://corpus/care.pdf",
        "page": 3,
    }
    assert bedrock_server.paths == ["/retrieveAndGenerateStream"]
    request = bedrock_server.bodies[0]
    assert request["input"] == {"text": "How do I look after the station?"}
    config = request["retrieveAndGenerateConfiguration"]
    assert config["type"] == "KNOWLEDGE_BASE"
    assert config["knowledgeBaseConfiguration"]["knowledgeBaseId"] == KB
    assert config["knowledgeBaseConfiguration"]["modelArn"] == ARN
    assert config["knowledgeBaseConfiguration"]["retrievalConfiguration"] == {
        "vectorSearchConfiguration": {"numberOfResults": 5}
    }
    assert "sessionId" not in request
    # The sources are stored as the web app's SOURCE items as they are.
    assert len(make_sources("u", "chat-1", "m", answer.sources, now_ms())) == 2

    # A follow-up question in the same chat continues the knowledge base session.
    ask(bot, "And the batteries?")
    assert bedrock_server.bodies[1]["sessionId"] == "session-42"


def test_retrieve_and_generate_stream_stop_mid_stream(bedrock_server: StreamServer) -> None:
    bedrock_server.events = [
        event("output", {"text": "The first part"}),
        None,
        event("output", {"text": " never arrives"}),
        event("citation", {"retrievedReferences": [reference("p", "s3://b/k")]}),
    ]
    cancel = threading.Event()
    pieces: list[str] = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        cancel.set()

    answer = kb_bot(bedrock_server.url).answer("chat-1", "q", [], on_text, cancel)

    assert answer.stopped and answer.text == "The first part" and answer.sources == []


def test_retrieve_and_generate_whole_response_via_stubber() -> None:
    client = session().client("bedrock-agent-runtime")
    response = {
        "sessionId": "session-7",
        "output": {"text": "Backups run nightly."},
        "citations": [
            {
                "generatedResponsePart": {
                    "textResponsePart": {"text": "Backups run nightly.", "span": {"start": 0, "end": 19}}
                },
                "retrievedReferences": [
                    {
                        "content": {"text": "Backups run every night at two."},
                        "location": {
                            "type": "WEB",
                            "webLocation": {"url": "https://wiki.example.com/backups"},
                        },
                        "metadata": {"title": "Backups", "score": 0.87},
                    }
                ],
            }
        ],
    }
    bot = kb_bot(client=client, stream=False)
    with Stubber(client) as stubber:
        stubber.add_response(
            "retrieve_and_generate",
            response,
            {
                "input": {"text": "When do backups run?"},
                "retrieveAndGenerateConfiguration": {
                    "type": "KNOWLEDGE_BASE",
                    "knowledgeBaseConfiguration": {"knowledgeBaseId": KB, "modelArn": ARN},
                },
            },
        )
        stubber.add_response(
            "retrieve_and_generate",
            response,
            {"input": ANY, "retrieveAndGenerateConfiguration": ANY, "sessionId": "session-7"},
        )
        answer, pieces = ask(bot, "When do backups run?")
        ask(bot, "And restores?")
        stubber.assert_no_pending_responses()

    assert answer.text == "Backups run nightly." and pieces == ["Backups run nightly."]
    assert answer.sources == [
        {
            "pageContent": "Backups run every night at two.",
            "metadata": {
                "source_location": "https://wiki.example.com/backups",
                "location_type": "WEB",
                "title": "Backups",
                "score": 0.87,
            },
        }
    ]


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("ResourceNotFoundException", 404, AssistantError),
        ("ThrottlingException", 429, Throttled),
        ("AccessDeniedException", 403, CredentialsError),
    ],
)
def test_retrieve_and_generate_stream_errors(code: str, status: int, error: type[Exception]) -> None:
    client = session().client("bedrock-agent-runtime")
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "retrieve_and_generate_stream",
            service_error_code=code,
            service_message=f"{code} from the knowledge base",
            http_status_code=status,
        )
        with pytest.raises(error, match=f"{code} from the knowledge base"):
            ask(kb_bot(client=client))


def test_model_arn_is_used_as_given() -> None:
    settings = AssistantSettings(
        backend="bedrock-kb",
        knowledge_base_id=KB,
        model_arn="arn:aws:bedrock:eu-west-1:123:inference-profile/x",
    )
    bot = BedrockKnowledgeBaseAssistant(settings, session())

    config = bot.request("chat-1", "q")["retrieveAndGenerateConfiguration"]["knowledgeBaseConfiguration"]

    assert config["modelArn"] == "arn:aws:bedrock:eu-west-1:123:inference-profile/x"
