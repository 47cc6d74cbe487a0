"""What a source card says: document name, labelled metadata in words, hostile values made
safe, and the AWS console address of an s3 object."""

from __future__ import annotations

import math

import pytest

from galileio_desktop.ui.conversation import source_metadata as sm
from galileio_desktop.ui.conversation.s3_console import S3Object, console_url, parse_s3_uri

pytestmark = pytest.mark.gui


def rows(metadata: dict[str, object]) -> list[tuple[str, str]]:
    return [(row.label, row.value) for row in sm.metadata_rows(metadata)]


def test_known_keys_come_first_in_words_then_the_others_as_they_are() -> None:
    metadata = {
        "zeta": "last",
        "score": 0.5934,
        "feature": "tenure_months",
        "section_index": 8,
        "page": 4,
        "source_location": "s3://galileo-docs-demo/analytics/sql-style-guide.pdf",
        "title": "SQL Style Guide",
    }
    assert sm.document_name(metadata) == "SQL Style Guide"
    assert rows(metadata) == [
        ("Page", "4"),
        ("Section", "8"),
        ("Relevance", "0.59"),
        ("feature", "tenure_months"),
        ("zeta", "last"),
    ]


def test_a_collapsed_card_says_where_in_the_document() -> None:
    assert sm.short_summary({"page": 4, "section_index": 8, "score": 0.5}) == "p. 4 · § 8"
    assert sm.short_summary({"x-amz-bedrock-kb-document-page-number": 12.0, "page": 12}) == "p. 12"
    assert sm.short_summary({"page": "4", "section_index": True}) == ""  # only numbers, briefly


def test_what_the_heading_and_location_show_is_not_listed_again() -> None:
    local = {
        "source_location": "/docs/travel-policy.md",
        "file": "travel-policy.md",
        "section": "page 3",
        "page": 3,
        "score": 5.9348,
    }
    assert sm.document_name(local) == "travel-policy.md"
    assert rows(local) == [("Page", "3"), ("Relevance", "5.93")]
    bedrock = {
        "source_location": "s3://kb/doc.pdf",
        "x-amz-bedrock-kb-source-uri": "s3://kb/doc.pdf",
        "x-amz-bedrock-kb-document-page-number": 12.0,
        "location_type": "S3",
    }
    assert rows(bedrock) == [("Page", "12"), ("Stored in", "S3")]
    other_url = {"source_location": "s3://b/k.pdf", "url": "https://example.com/k"}
    assert rows(other_url) == [("Link", "https://example.com/k")]
    assert sm.document_name({}) == "" and rows({}) == []


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (4, "4"),
        (4.0, "4"),
        (0.5934, "0.59"),
        (5.9348, "5.93"),
        (123.456, "123.5"),
        (0.00123, "0.0012"),
        (1e20, "1e+20"),
        (-2.5e-7, "-2.5e-07"),
        (math.nan, "not a number"),
        (math.inf, "infinite"),
        (-math.inf, "minus infinite"),
        (True, "Yes"),
        (False, "No"),
        (None, "none"),
        (["a", 1, None], "a, 1, none"),
        ({"b": [1, {"c": None}], "a": "x"}, '{"a": "x", "b": [1, {"c": null}]}'),
        ("12345678901234567890123456789012345678901", "12345678901234567890123456789012345678901"),
    ],
)
def test_values_read_as_words(value: object, text: str) -> None:
    assert sm.format_value(value) == text


def test_hostile_values_stay_one_short_safe_line() -> None:
    huge = sm.format_value("x" * 400_000)
    assert len(huge) == sm.MAX_VALUE_CHARS and huge.endswith("…")
    assert sm.format_value("line one\nline two\x1b[31m") == "line one line two␛[31m"
    assert sm.format_value(10**5000) == "a number too long to show"  # str() of it would raise
    deep: list[object] = []
    for _ in range(5000):
        deep = [{"k": deep}]
    assert sm.format_value(deep) == "(a value too deeply nested to show)"
    spoof = {"source_location": "s3://b/report\u202efdp.exe", "\u202ekey": "\u202evalue"}
    assert sm.document_name(spoof) == "report<U+202E>fdp.exe"
    assert rows(spoof) == [("<U+202E>key", "<U+202E>value")]
    assert sm.format_value("שלום عربي") == "שלום عربي"  # right-to-left letters are text, kept


def test_s3_uris_parse_only_when_s3_would_accept_them() -> None:
    assert parse_s3_uri("s3://docs-bucket/a b/é.pdf") == S3Object("docs-bucket", "a b/é.pdf")
    assert parse_s3_uri("S3://docs-bucket/k").uri == "s3://docs-bucket/k"  # type: ignore[union-attr]
    for bad in (
        "s3://docs-bucket",
        "s3://docs-bucket/",
        "s3://Bad_Bucket/k",
        "s3://a..b/k",
        "https://b/k",
        "",
    ):
        assert parse_s3_uri(bad) is None, bad
    assert parse_s3_uri("s3://bucket/" + "é" * 600) is None  # 1,200 bytes: longer than a key can be


def test_console_url_encodes_bucket_and_key_for_the_account_region() -> None:
    obj = S3Object("docs-bucket", "Politique de voyage/été 2024+final&v=2#?.pdf")
    assert console_url(obj, "eu-west-1") == (
        "https://eu-west-1.console.aws.amazon.com/s3/object/docs-bucket?region=eu-west-1&bucketType=general"
        "&prefix=Politique%20de%20voyage/%C3%A9t%C3%A9%202024%2Bfinal%26v%3D2%23%3F.pdf"
    )
    literal = S3Object("b-1", "Travel%20Policy.pdf")  # a key holds "%20" as three characters
    assert console_url(literal, "us-east-1").endswith("prefix=Travel%2520Policy.pdf")
    assert console_url(literal, "").startswith("https://s3.console.aws.amazon.com/s3/object/b-1?prefix=")
    assert console_url(literal, "cn-north-1").startswith(
        "https://cn-north-1.console.amazonaws.cn/s3/object/b-1?"
    )
    assert console_url(literal, "us-gov-west-1").startswith(
        "https://console.amazonaws-us-gov.com/s3/object/b-1?"
    )
    with pytest.raises(ValueError, match="not an AWS region"):
        console_url(literal, "eu-west-1.evil.example/")
