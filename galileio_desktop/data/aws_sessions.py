"""boto3 Sessions whose model files are parsed without stopping the window.

A session's first client loads botocore's data files; the endpoint table alone is a
1.2 MB JSON file, and ``json.loads`` holds the interpreter lock for all of it (see
:mod:`.json_in_pieces`). Every session the client makes comes from
:func:`new_boto3_session`, whose data loader reads those files with
:class:`PiecewiseJSONFileLoader`: same files, same search paths (``AWS_DATA_PATH``
included), same result, parsed in pieces. The loader is botocore's public extension
point (a session's ``data_loader`` component with its ``file_loader``).

No Qt.
"""

from __future__ import annotations

import gzip
import os
import sys
import zlib
from typing import Any

from .errors import DamagedInstallation
from .json_in_pieces import loads_in_pieces

#: The file names botocore's own JSON loader tries, in its order.
_OPENERS = ((".json", open), (".json.gz", gzip.open))


class PiecewiseJSONFileLoader:
    """botocore's file loader interface (``exists``, ``load_file``), parsing in pieces."""

    def exists(self, file_path: str) -> bool:
        """Whether ``file_path`` (without its extension) is a JSON file botocore could load."""
        return any(os.path.isfile(file_path + extension) for extension, _ in _OPENERS)

    def load_file(self, file_path: str) -> Any:
        """The parsed file at ``file_path`` plus its extension; None when there is none.

        A file that cannot be read (a failing disk, no permission) or is not the JSON it
        was (truncated, zeroed, bytes changed: not UTF-8, not JSON, a broken gzip stream)
        raises :class:`DamagedInstallation`, which names it.
        """
        for extension, opener in _OPENERS:
            full_path = file_path + extension
            if os.path.isfile(full_path):
                try:
                    with opener(full_path, "rb") as stream:
                        return loads_in_pieces(stream.read().decode("utf-8"))
                except (ValueError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
                    # Not JSON, not UTF-8, a cut or changed gzip stream.
                    raise DamagedInstallation(shown_path(full_path), "is corrupt") from exc
                except OSError as exc:
                    problem = f"cannot be read ({exc.strerror or exc})"
                    raise DamagedInstallation(shown_path(full_path), problem) from exc
        return None


def shown_path(path: str) -> str:
    """``path`` as a person reads it in a message: relative to the folder of installed
    packages holding it ("botocore/data/endpoints.json"), else with the home folder as ~."""
    path = os.path.abspath(path)
    roots = sorted({os.path.abspath(entry) for entry in sys.path if entry}, key=len, reverse=True)
    for root in roots:
        if os.path.isdir(root) and path.startswith(root.rstrip(os.sep) + os.sep):
            return os.path.relpath(path, root).replace(os.sep, "/")
    home = os.path.expanduser("~")
    if home not in ("", "~", os.sep) and path.startswith(home.rstrip(os.sep) + os.sep):
        return "~" + path[len(home.rstrip(os.sep)) :]
    return path


def new_botocore_session() -> Any:
    """A botocore Session whose data loader parses model files in pieces."""
    import botocore.session
    from botocore.loaders import create_loader

    core = botocore.session.Session()
    loader = create_loader(core.get_config_variable("data_path"))
    loader.file_loader = PiecewiseJSONFileLoader()
    core.register_component("data_loader", loader)
    return core


def new_boto3_session(**kwargs: Any) -> Any:
    """``boto3.Session(**kwargs)`` on a :func:`new_botocore_session`."""
    import boto3

    return boto3.Session(botocore_session=new_botocore_session(), **kwargs)
