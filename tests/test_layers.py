"""The layering rules: the data layer works without Qt, and never imports it."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import galileio_desktop.data as data_package

DATA_DIR = Path(data_package.__file__).parent


def data_modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages([str(DATA_DIR)], prefix="galileio_desktop.data.")]


def test_data_layer_imports_without_qt() -> None:
    modules = data_modules()
    assert len(modules) > 20
    code = (
        "import sys, importlib\n"
        "sys.modules['PySide6'] = None  # any import of Qt now fails\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "assert not any(m.startswith('PySide6') for m in sys.modules if sys.modules[m] is not None)\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_no_data_module_mentions_qt_imports() -> None:
    offenders = [
        str(path.relative_to(DATA_DIR))
        for path in DATA_DIR.rglob("*.py")
        if any(
            line.lstrip().startswith(("import PySide6", "from PySide6", "import shiboken6"))
            for line in path.read_text(encoding="utf-8").splitlines()
        )
    ]
    assert offenders == []


def test_cli_commands_do_not_load_qt() -> None:
    code = (
        "import sys\n"
        "from galileio_desktop.cli.main import build_parser\n"
        "build_parser()\n"
        "print('PySide6' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


def test_window_start_up_path_does_not_load_boto3_or_the_keyring() -> None:
    """boto3 costs a quarter of a second to import: the chat list paints from the
    mirror first, and the worker threads load boto3 when they first need it.
    (botocore's exception classes alone are cheap and allowed.)"""
    code = (
        "import sys\n"
        "import galileio_desktop.desktop, galileio_desktop.workspace, galileio_desktop.ui.app_window\n"
        "import galileio_desktop.data.sync.library\n"
        "print(sorted(m for m in ('boto3', 'botocore.session', 'keyring') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "[]", result.stderr
