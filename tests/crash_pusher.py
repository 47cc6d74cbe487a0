"""Push a mirror's queue to DynamoDB until nothing more can go: the process the crash
test kills with SIGKILL at random moments.

    python crash_pusher.py MIRROR ENDPOINT TABLE USER

Prints ``ready`` once the library is open, ``op N`` as each operation is settled, and
one JSON line a push pass. Exits 3 when passes keep failing without settling anything
(the server is gone), instead of trying again forever.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from galileio_desktop.data.dynamo.dynamo_client import make_dynamodb_client
from galileio_desktop.data.dynamo.gateway import ChatGateway
from galileio_desktop.data.sync import ChatLibrary

#: Passes in a row that fail without settling anything before giving up (~5 s).
MAX_FAILED_PASSES = 50


def main(argv: list[str]) -> int:
    mirror, endpoint, table, user = argv[1:5]
    client = make_dynamodb_client("us-east-1", endpoint)
    library = ChatLibrary(Path(mirror), user, lambda: ChatGateway(client, table, user, max_workers=4))
    print("ready", flush=True)
    failed_passes = 0
    try:
        while True:
            result = library.push(lambda _what, done, _total: print(f"op {done}", flush=True), retry_now=True)
            print(json.dumps(result.as_json()), flush=True)
            if result.error is None and result.pushed == 0 and result.dropped == 0:
                return 0
            settled = result.pushed or result.dropped or result.parked
            failed_passes = 0 if settled or result.error is None else failed_passes + 1
            if failed_passes >= MAX_FAILED_PASSES:
                print(f"giving up: {result.error}", file=sys.stderr, flush=True)
                return 3
            if failed_passes:
                time.sleep(0.1)  # a pause between passes that failed: the 50 of them span ~5 s
    finally:
        library.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
