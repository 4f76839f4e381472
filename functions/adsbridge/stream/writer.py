"""S3 adapter: one gzip JSON-lines object per put."""

from __future__ import annotations

import gzip
from typing import Any


class S3Writer:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put_lines(self, key: str, lines: list[bytes]) -> None:
        body = gzip.compress(b"\n".join(lines) + b"\n", compresslevel=6)
        self._client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType="application/gzip")
