"""A benchmark run measures the server its report names: on a checkout without
``node_modules`` it installs dynalite with ``npm ci`` or stops with that command, and
falls back to moto only when moto is asked for by name.

Node.js and npm are stand-ins here (small scripts first on PATH), so the test needs
neither the network nor Node.js, and proves which command the run would start.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # bench/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(PROJECT_ROOT))

from bench import endpoint  # noqa: E402
from bench.endpoint import INSTALL_COMMAND, choose_server  # noqa: E402

#: A stand-in ``npm`` (PATH holds nothing else, so it is Python): records its arguments
#: and folder, then installs dynalite's CLI.
FAKE_NPM = f"""#!{sys.executable}
import os, sys
from pathlib import Path
with open(os.environ["NPM_CALLS"], "a") as calls:
    calls.write(os.getcwd() + " " + " ".join(sys.argv[1:]) + "\\n")
cli = Path("node_modules", "dynalite", "cli.js")
cli.parent.mkdir(parents=True)
cli.write_text("// dynalite")
"""
FAILING_NPM = f"""#!{sys.executable}
import os, sys
with open(os.environ["NPM_CALLS"], "a") as calls:
    calls.write(os.getcwd() + " " + " ".join(sys.argv[1:]) + "\\n")
sys.exit("npm ERR! network unreachable")
"""


def _tool(folder: Path, name: str, text: str = f"#!{sys.executable}\n") -> None:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder without ``node_modules``, and a PATH holding only a tool folder."""
    root = tmp_path / "checkout"
    root.mkdir()
    tools = tmp_path / "bin"
    tools.mkdir()
    monkeypatch.setenv("PATH", str(tools))
    monkeypatch.setenv("NPM_CALLS", str(tmp_path / "npm-calls"))
    return root


def _npm_calls() -> list[str]:
    calls = Path(os.environ["NPM_CALLS"])
    return calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []


def test_missing_dynalite_is_installed_with_npm_ci(checkout: Path) -> None:
    tools = Path(os.environ["PATH"])
    _tool(tools, "node")
    _tool(tools, "npm", FAKE_NPM)

    assert choose_server(None, root=checkout) == "dynalite"

    assert (checkout / "node_modules" / "dynalite" / "cli.js").is_file()
    assert _npm_calls() == [f"{checkout} ci --no-audit --no-fund"]
    # Installed once: the next run finds it and runs nothing.
    assert choose_server("dynalite", root=checkout) == "dynalite"
    assert len(_npm_calls()) == 1


def test_without_npm_the_run_stops_with_the_one_command(checkout: Path) -> None:
    _tool(Path(os.environ["PATH"]), "node")

    with pytest.raises(SystemExit) as stopped:
        choose_server(None, root=checkout)

    message = str(stopped.value.code)
    assert f"`{INSTALL_COMMAND}`" in message and "--server moto" in message
    assert not (checkout / "node_modules").exists()


def test_without_node_the_run_stops_and_says_what_to_install(checkout: Path) -> None:
    _tool(Path(os.environ["PATH"]), "npm", FAKE_NPM)

    with pytest.raises(SystemExit) as stopped:
        choose_server(None, root=checkout)

    message = str(stopped.value.code)
    assert "Node.js" in message and f"`{INSTALL_COMMAND}`" in message
    assert _npm_calls() == []  # nothing installed for a Node.js that is not there


def test_a_failed_install_stops_the_run_with_npm_s_words(checkout: Path) -> None:
    tools = Path(os.environ["PATH"])
    _tool(tools, "node")
    _tool(tools, "npm", FAILING_NPM)

    with pytest.raises(SystemExit) as stopped:
        choose_server(None, root=checkout)

    message = str(stopped.value.code)
    assert "network unreachable" in message and "exit 1" in message


def test_moto_only_when_asked_for_by_name(checkout: Path) -> None:
    assert choose_server("moto", root=checkout) == "moto"  # no Node.js, no npm: no question asked
    assert _npm_calls() == []
    with pytest.raises(SystemExit):
        endpoint.Endpoint(delay_ms=1)  # no server named, none installable: never moto quietly


def test_the_installed_checkout_needs_nothing() -> None:
    if not endpoint.dynalite_available():
        pytest.skip("this checkout has no node_modules")
    assert choose_server(None) == "dynalite"
