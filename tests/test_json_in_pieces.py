"""botocore's model files parsed in pieces: the same values, from small C calls."""

from __future__ import annotations

import gzip
import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import botocore
import pytest
from botocore.loaders import JSONFileLoader
from hypothesis import given, settings
from hypothesis import strategies as st

from galileio_desktop.data import json_in_pieces
from galileio_desktop.data.aws_sessions import (
    PiecewiseJSONFileLoader,
    new_boto3_session,
    new_botocore_session,
)
from galileio_desktop.data.dynamo.dynamo_client import make_dynamodb_client
from galileio_desktop.data.errors import DamagedInstallation
from galileio_desktop.data.json_in_pieces import loads_in_pieces

BOTOCORE_DATA = Path(botocore.__file__).parent / "data"

#: What a DynamoDB client and a Cognito sign-in make botocore read.
MODEL_FILES = [
    "endpoints",
    "partitions",
    "sdk-default-configuration",
    "_retry",
    "dynamodb/2012-08-10/service-2",
    "dynamodb/2012-08-10/endpoint-rule-set-1",
    "cognito-idp/2016-04-18/service-2",
]


def _same(a: Any, b: Any) -> bool:
    """Equal, and built of the same types all the way down (OrderedDict where botocore has it)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b or (a != a and b != b)  # NaN is itself


def _reference(text: str) -> Any:
    return json.loads(text, object_pairs_hook=OrderedDict)


@pytest.mark.parametrize("name", MODEL_FILES)
def test_botocore_s_files_load_exactly_as_botocore_loads_them(name: str) -> None:
    ours = PiecewiseJSONFileLoader().load_file(str(BOTOCORE_DATA / name))
    theirs = JSONFileLoader().load_file(str(BOTOCORE_DATA / name))
    assert theirs is not None
    assert _same(ours, theirs)


class _RecordingDecoder(json.JSONDecoder):
    def __init__(self) -> None:
        super().__init__(object_pairs_hook=OrderedDict)
        self.spans: list[int] = []

    def raw_decode(self, s: str, idx: int = 0) -> tuple[Any, int]:
        value, end = super().raw_decode(s, idx)
        self.spans.append(end - idx)
        return value, end


def test_no_single_c_call_parses_a_large_part_of_the_endpoint_table(monkeypatch) -> None:
    """What keeps the window painting: each C call parses a small piece, the lock is
    free between them. The table is 1.2 MB; no piece may be more than 3% of it."""
    text = (BOTOCORE_DATA / "endpoints.json").read_text(encoding="utf-8")
    recorder = _RecordingDecoder()
    monkeypatch.setattr(json_in_pieces, "_DECODER", recorder)
    value = loads_in_pieces(text)
    assert _same(value, _reference(text))
    assert len(recorder.spans) > 1000
    assert max(recorder.spans) < len(text) * 0.03


_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
_values = st.recursive(
    _leaves,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(
    value=_values,
    indent=st.sampled_from([None, 0, 1, 2, "\t"]),
    separators=st.sampled_from([None, (",", ":"), (" , ", " : ")]),
    depth=st.integers(min_value=0, max_value=6),
    padding=st.sampled_from(["", " ", "\n\t \r"]),
)
def test_any_json_text_loads_as_json_loads_it(
    value: Any, indent: Any, separators: Any, depth: int, padding: str
) -> None:
    text = padding + json.dumps(value, indent=indent, separators=separators) + padding
    assert _same(loads_in_pieces(text, depth), _reference(text))


@settings(max_examples=400, deadline=None)
@given(value=_values, data=st.data())
def test_damaged_json_fails_as_json_loads_fails(value: Any, data: st.DataObject) -> None:
    """A model file damaged on disk (a byte lost or changed) raises JSONDecodeError
    exactly when json.loads does, and otherwise reads the same."""
    text = json.dumps(value, indent=1)
    at = data.draw(st.integers(min_value=0, max_value=len(text)))
    change = data.draw(st.sampled_from(["drop", "insert"]))
    char = data.draw(st.sampled_from(list('{}[],:" 0an-')))
    damaged = text[:at] + text[at + 1 :] if change == "drop" else text[:at] + char + text[at:]
    try:
        expected = _reference(damaged)
    except json.JSONDecodeError:
        with pytest.raises(json.JSONDecodeError):
            loads_in_pieces(damaged)
    else:
        assert _same(loads_in_pieces(damaged), expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "[",
        '{"a"}',
        '{"a":1,}',
        "[1,]",
        '{"a":1 "b":2}',
        "[1 2]",
        "{1:2}",
        '{"a":1}}',
        "[]]",
        "\ufeff{}",
    ],
)
def test_malformed_text_is_a_decode_error(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    with pytest.raises(json.JSONDecodeError):
        loads_in_pieces(text)


def test_the_file_loader_finds_plain_and_gzipped_files_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "plain.json").write_text('{"a": [1, 2]}', encoding="utf-8")
    with gzip.open(tmp_path / "packed.json.gz", "wb") as stream:
        stream.write(b'{"b": {"c": null}}')
    (tmp_path / "other.txt").write_text("{}", encoding="utf-8")
    loader = PiecewiseJSONFileLoader()
    assert loader.exists(str(tmp_path / "plain")) and loader.exists(str(tmp_path / "packed"))
    assert not loader.exists(str(tmp_path / "other")) and not loader.exists(str(tmp_path / "missing"))
    assert loader.load_file(str(tmp_path / "plain")) == {"a": [1, 2]}
    assert loader.load_file(str(tmp_path / "packed")) == {"b": {"c": None}}
    assert loader.load_file(str(tmp_path / "missing")) is None


def test_a_model_file_damaged_on_disk_is_an_error_not_a_wrong_model(tmp_path: Path) -> None:
    """The JSON error, named as a damaged installation (tests/test_damaged_installation.py)."""
    (tmp_path / "endpoints.json").write_text('{"partitions": [{"services": {"x": 1}', encoding="utf-8")
    with pytest.raises(DamagedInstallation) as raised:
        PiecewiseJSONFileLoader().load_file(str(tmp_path / "endpoints"))
    assert isinstance(raised.value.__cause__, json.JSONDecodeError)


def test_sessions_keep_botocore_s_data_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    loader = new_botocore_session().get_component("data_loader")
    assert isinstance(loader.file_loader, PiecewiseJSONFileLoader)
    assert str(tmp_path) in loader.search_paths


def test_the_client_s_models_come_through_the_piecewise_loader(monkeypatch) -> None:
    loaded: list[str] = []
    original = PiecewiseJSONFileLoader.load_file

    def spy(self: PiecewiseJSONFileLoader, file_path: str) -> Any:
        loaded.append(os.path.basename(file_path))
        return original(self, file_path)

    monkeypatch.setattr(PiecewiseJSONFileLoader, "load_file", spy)
    session = new_boto3_session(aws_access_key_id="a", aws_secret_access_key="b", region_name="eu-west-1")
    client = make_dynamodb_client("eu-west-1", "http://127.0.0.1:9", session)
    assert {"endpoints", "service-2", "endpoint-rule-set-1"} <= set(loaded)
    assert client.meta.service_model.service_name == "dynamodb"
    assert client.meta.endpoint_url == "http://127.0.0.1:9"
