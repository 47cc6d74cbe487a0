"""Smoke-test an installed ``galileio-desktop`` the way a user gets it: a bundle or a wheel.

    python3 packaging/smoke_test.py --bundle dist/galileio-desktop-VERSION-linux-ARCH.tar.gz \\
        [--keyring] [--compare-with .venv/bin/galileio-desktop]
    python3 packaging/smoke_test.py --exe /some/venv/bin/galileio-desktop

``--bundle`` unpacks the archive, runs its ``install.sh`` into a throwaway home and
checks the menu entry, icon and metainfo it placed (``desktop-file-validate``,
``appstreamcli validate``), then tests the installed command and runs ``uninstall.sh``.
Every run of the program gets a clean environment: a throwaway home, the system's
PATH, no virtual environment and no PYTHONPATH, so it works only with what it carries.

Checks: ``--version``; ``--demo --chat ID --screenshot FILE`` (a real PNG of the demo
window on that chat); a CLI round trip against ``demo-server`` (create a chat, add a
message, list, export); with ``--keyring``, an account whose secret key goes to the
Secret Service and is read back by another process (run inside
``.ci/with-secret-service``). ``--compare-with`` times the window's start (to a
screenshot) and ``--version`` for this program and another, in the same run, and
prints the ratios. Needs only Python's standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

#: A demo chat with a cited answer (demo_data/chats.json).
DEMO_CHAT = "65369d20-8904-5bd8-aa85-9ea1bb0b2c38"
TIMEOUT = 120
TIMING_RUNS = 3


class SmokeFailure(Exception):
    pass


def clean_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """What a freshly logged-in user has, minus any Python set-up."""
    if sys.platform in ("win32", "darwin"):  # the system's own variables are needed there
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
        env.update({"HOME": str(home), "QT_QPA_PLATFORM": "offscreen", **(extra or {})})
        return env
    env = {
        "HOME": str(home),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
    }
    for name in ("DBUS_SESSION_BUS_ADDRESS", "TMPDIR"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    env.update(extra or {})
    return env


def run(command: list[str], env: dict[str, str], stdin: str | None = None, ok: int = 0) -> str:
    shown = " ".join(command)
    result = subprocess.run(
        command,
        env=env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=env["HOME"],
    )
    if result.returncode != ok:
        raise SmokeFailure(f"{shown}\nexit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result.stdout + result.stderr if stdin == "stderr" else result.stdout


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise SmokeFailure(f"{path} is not a PNG file")
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def check_version(exe: str, env: dict[str, str], version: str | None) -> str:
    out = run([exe, "--version"], env).strip()
    if not out.startswith("galileio-desktop ") or (version and out != f"galileio-desktop {version}"):
        raise SmokeFailure(f"--version said {out!r}")
    print(f"ok  --version: {out}")
    return out.split()[1]


def check_demo_screenshot(exe: str, env: dict[str, str], work: Path) -> None:
    shot = work / "demo.png"
    run([exe, "--demo", "--chat", DEMO_CHAT, "--screenshot", str(shot)], env)
    size = png_size(shot)
    if size != (1280, 800) or shot.stat().st_size < 20_000:
        raise SmokeFailure(f"the demo screenshot is {size}, {shot.stat().st_size} bytes")
    print(f"ok  --demo --chat ID --screenshot: {size[0]}x{size[1]}, {shot.stat().st_size} bytes")


class DemoServer:
    def __init__(self, exe: str, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [exe, "--json", "demo-server", "--port", "0"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=env["HOME"],
        )
        assert self.process.stdout is not None
        text = ""
        while True:  # one JSON document, maybe over several lines
            line = self.process.stdout.readline()
            if not line:
                self.stop()
                raise SmokeFailure(f"demo-server stopped after printing {text!r}")
            text += line
            try:
                self.info = json.loads(text)
                break
            except ValueError:
                continue

    def options(self) -> list[str]:
        info = self.info
        return ["--endpoint-url", info["endpointUrl"], "--region", "us-east-1", "--table", info["table"]]

    def stop(self) -> None:
        self.process.terminate()
        self.process.communicate(timeout=30)


def check_cli_round_trip(exe: str, env: dict[str, str], server: DemoServer, work: Path) -> None:
    cli_env = {**env, "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo"}
    base = [exe, "--json", "--data-dir", str(work / "cli"), *server.options(), "--user-id", "smoke-user"]
    chat = json.loads(run([*base, "chats", "create", "Smoke test"], cli_env))
    if chat.get("pending") is not False:
        raise SmokeFailure(f"the new chat was not sent to the demo endpoint: {chat}")
    run([*base, "messages", "add", chat["chatId"], "Does the bundle carry its data?"], cli_env)
    listed = json.loads(run([*base, "--data-dir", str(work / "cli-2"), "chats", "list"], cli_env))
    if [c["title"] for c in listed] != ["Smoke test"]:
        raise SmokeFailure(f"a second, fresh copy lists {listed}")
    exported = run([exe, "--data-dir", str(work / "cli"), *server.options(), "--user-id", "smoke-user",
                    "export", chat["chatId"], "--format", "md"], cli_env)  # fmt: skip
    if "Does the bundle carry its data?" not in exported:
        raise SmokeFailure(f"the export lacks the message:\n{exported}")
    print("ok  CLI round trip: chats create, messages add, chats list from a fresh copy, export")


def check_keyring(exe: str, env: dict[str, str], server: DemoServer, work: Path) -> None:
    data = ["--data-dir", str(work / "keyring")]
    info = server.info
    added = subprocess.run(
        [exe, *data, "account", "add", "smoke", "--auth", "keys", "--access-key-id", "AKIASMOKETEST",
         "--secret-stdin", "--user-id", info["userId"], "--region", "us-east-1",
         "--table", info["table"], "--endpoint-url", info["endpointUrl"]],
        env=env, input="smoke-secret-key\n", capture_output=True, text=True, timeout=TIMEOUT, cwd=env["HOME"],
    )  # fmt: skip
    if added.returncode != 0 or "keyring" in added.stderr.lower():
        raise SmokeFailure(f"account add: exit {added.returncode}\n{added.stdout}\n{added.stderr}")
    # Another process signs its requests with the key: it can only have it from the keyring.
    chats = json.loads(run([exe, *data, "--json", "--account", "smoke", "chats", "list"], env))
    if not chats:
        raise SmokeFailure("the account read from the keyring lists no demo chats")
    run([exe, *data, "account", "remove", "smoke"], env)
    print(f"ok  keyring: the secret key went to the Secret Service and back ({len(chats)} chats listed)")


def median_seconds(command: list[str], env: dict[str, str]) -> float:
    times = []
    for _ in range(TIMING_RUNS):
        started = time.perf_counter()
        run(command, env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def compare_start_up(exe: str, other: str, env: dict[str, str], work: Path) -> None:
    """The window's start to a screenshot (an empty offline account) and ``--version``."""

    def window(program: str, tag: str) -> list[str]:
        return [program, "--offline", "--data-dir", str(work / f"start-{tag}"), "--endpoint-url",
                "http://127.0.0.1:9", "--region", "us-east-1", "--table", "t", "--user-id", "u",
                "--screenshot", str(work / f"start-{tag}.png")]  # fmt: skip

    other_env = {**env, "PATH": f"{Path(other).parent}:{env['PATH']}"}
    run(window(exe, "a"), env)  # first runs fill the disk cache for both
    run(window(other, "b"), other_env)
    ours = median_seconds(window(exe, "a"), env)
    theirs = median_seconds(window(other, "b"), other_env)
    our_version = median_seconds([exe, "--version"], env)
    their_version = median_seconds([other, "--version"], other_env)
    print(
        f"start-up, window to screenshot (median of {TIMING_RUNS}): this {ours:.2f} s, "
        f"{other} {theirs:.2f} s: ratio {ours / theirs:.2f}"
    )
    print(
        f"start-up, --version: this {our_version:.2f} s, the other {their_version:.2f} s: "
        f"ratio {our_version / their_version:.2f}"
    )


def install_bundle(archive: Path, home: Path, env: dict[str, str]) -> tuple[str, Path]:
    """Unpack and install; check the desktop files; the installed command and app folder."""
    unpacked = home / "Downloads"
    unpacked.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tops = {name.split("/")[0] for name in tar.getnames()}
        if len(tops) != 1:
            raise SmokeFailure(f"the archive should hold one folder, not {sorted(tops)}")
        tar.extractall(unpacked, filter="tar")
    folder = unpacked / tops.pop()
    print(run(["sh", str(folder / "install.sh")], env).rstrip())
    local = home / ".local"
    exe = local / "bin" / "galileio-desktop"
    desktop = local / "share" / "applications" / "galileio-desktop.desktop"
    metainfo = local / "share" / "metainfo" / "org.galileio.Desktop.metainfo.xml"
    icon = local / "share" / "icons" / "hicolor" / "scalable" / "apps" / "galileio-desktop.svg"
    for path in (exe, desktop, metainfo, icon):
        if not path.exists():
            raise SmokeFailure(f"install.sh did not place {path}")
    entry = desktop.read_text(encoding="utf-8")
    app = local / "lib" / "galileio-desktop" / "galileio-desktop"
    if f"Exec={app} --chat %u" not in entry or f"TryExec={app}" not in entry:
        raise SmokeFailure(f"the installed menu entry does not run {app}:\n{entry}")
    for tool, args in (("desktop-file-validate", []), ("appstreamcli", ["validate", "--no-net"])):
        target = desktop if tool == "desktop-file-validate" else metainfo
        if shutil.which(tool):
            run([tool, *args, str(target)], {**env, "PATH": os.environ["PATH"]})
            print(f"ok  {tool}: {target.name}")
    shutil.rmtree(folder)  # the installed copy must not need the unpacked one
    return str(exe), local


def uninstall(local: Path, env: dict[str, str]) -> None:
    run(["sh", str(local / "lib" / "galileio-desktop" / "uninstall.sh")], env)
    placed = [local / "bin", local / "lib", local / "share"]  # state/ keeps the user's logs
    left = [p for folder in placed for p in folder.rglob("*") if "galileio" in p.name.lower()]
    if left:
        raise SmokeFailure(f"uninstall.sh left {left}")
    print("ok  uninstall.sh removed the program, the menu entry, the icons and the metainfo")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--bundle", type=Path, help="a galileio-desktop-*-linux-*.tar.gz to install and test")
    what.add_argument("--exe", help="an installed galileio-desktop command to test")
    parser.add_argument("--version", dest="expect_version", help="the version it must report")
    parser.add_argument("--keyring", action="store_true", help="also test the Secret Service keyring")
    parser.add_argument("--compare-with", metavar="EXE", help="time start-up against this program too")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="galileio-smoke-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = clean_env(home)
        local = None
        try:
            if args.bundle:
                exe, local = install_bundle(args.bundle.resolve(), home, env)
            else:
                exe = str(Path(args.exe).absolute())
            check_version(exe, env, args.expect_version)
            check_demo_screenshot(exe, env, Path(tmp))
            server = DemoServer(exe, env)
            try:
                check_cli_round_trip(exe, env, server, Path(tmp))
                if args.keyring:
                    check_keyring(exe, env, server, Path(tmp))
            finally:
                server.stop()
            if args.compare_with:
                compare_start_up(exe, str(Path(args.compare_with).absolute()), env, Path(tmp))
            if local is not None:
                uninstall(local, env)
        except SmokeFailure as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
