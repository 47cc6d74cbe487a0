"""``s3://bucket/key`` locations, and the AWS console page that shows their object.

An S3 URI names its key as written, the way the AWS CLI reads it: ``%20`` in a key is
three characters, not a space. The console URL carries the bucket in its path and
the key in its ``prefix`` query parameter, each percent-encoded (UTF-8), so spaces,
``+``, ``&``, ``#``, ``?`` and any script reach the console as the key's own
characters. The console lives on another host in the China and GovCloud partitions.

Pure Python (no Qt).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

#: S3's rules for (general purpose) bucket names: 3 to 63 lower-case letters, digits,
#: dots and hyphens, starting and ending with a letter or digit.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
#: An AWS region name: "eu-west-1", "us-gov-west-1", "cn-north-1", "ap-southeast-5".
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")
#: The longest key S3 accepts is 1,024 bytes of UTF-8.
MAX_KEY_BYTES = 1024


@dataclass(frozen=True)
class S3Object:
    """The bucket and key of an ``s3://`` location."""

    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_uri(location: str) -> S3Object | None:
    """The object an ``s3://bucket/key`` location names, or None when it names none
    (another scheme, no key, a bucket name S3 would refuse, a key longer than S3 allows)."""
    text = location.strip()
    if text[:5].lower() != "s3://":
        return None
    bucket, _, key = text[5:].partition("/")
    if not valid_bucket(bucket) or not key or len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return None
    return S3Object(bucket, key)


def valid_bucket(name: str) -> bool:
    return _BUCKET.fullmatch(name) is not None and ".." not in name


def valid_region(region: str) -> bool:
    return _REGION.fullmatch(region) is not None


def console_url(obj: S3Object, region: str = "") -> str:
    """The AWS console page of ``obj`` in ``region`` ("" lets the console find the bucket)."""
    prefix = quote(obj.key, safe="/", encoding="utf-8", errors="surrogatepass")
    path = f"/s3/object/{quote(obj.bucket, safe='')}"
    if not region:
        return f"https://s3.console.aws.amazon.com{path}?prefix={prefix}"
    if not valid_region(region):
        raise ValueError(f"{region!r} is not an AWS region name")
    if region.startswith("cn-"):
        host = f"{region}.console.amazonaws.cn"
    elif region.startswith("us-gov-"):
        host = "console.amazonaws-us-gov.com"
    else:
        host = f"{region}.console.aws.amazon.com"
    return f"https://{host}{path}?region={region}&bucketType=general&prefix={prefix}"
