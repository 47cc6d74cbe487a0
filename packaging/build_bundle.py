"""Build the self-contained app with PyInstaller, with one command:

    python packaging/build_bundle.py

Linux: ``dist/galileio-desktop-<version>-linux-<arch>.tar.gz``, one folder holding the
program, ``install.sh`` and ``uninstall.sh``. Windows: a ``.zip`` of the program's folder.
macOS: a ``.zip`` of ``Galileio Desktop.app``. Signing, where the platform wants it,
is a separate step (docs/packaging.md).

Needs PyInstaller (``pip install -e '.[bundle]'``) in the Python that runs this script,
with the app and its demo installed there: the bundle holds what that Python has.
The unpacked size is reported and checked against :data:`SIZE_TARGET_MB`.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NAME = "galileio-desktop"
#: Unpacked size the bundle must stay under. What it holds, roughly: Qt's Core, Gui,
#: Widgets and Network libraries with ICU's data (about 75 MB on Linux: ICU alone is
#: 31 MB, and Qt will not start without it), Python with its standard library (about
#: 25 MB), and boto3, botocore's service models, moto and cryptography for the demo and
#: the keyring (about 45 MB). 200 MB leaves room for a Qt update and fails the build
#: when a change drags in a whole unused Qt module (QtQml alone is 40 MB with its
#: plugins) or a data-science stack.
SIZE_TARGET_MB = 200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="where the archive goes")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "bundle", help="PyInstaller's folders")
    parser.add_argument(
        "--sign",
        action="store_true",
        help="sign before archiving (Windows: signtool with SIGNTOOL_CERT, SIGNTOOL_PASSWORD, "
        "TIMESTAMP_URL; macOS: codesign with CODESIGN_IDENTITY); see docs/packaging.md",
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from galileio_desktop import __version__

    system = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    label = f"{NAME}-{__version__}-{system}-{machine()}"
    built = run_pyinstaller(args.work)
    args.dist.mkdir(parents=True, exist_ok=True)
    if system == "linux":
        folder = args.work / label
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(built, folder, symlinks=True)
        for script in ("install.sh", "uninstall.sh"):
            shutil.copy2(HERE / "linux" / script, folder / script)
            (folder / script).chmod(0o755)
        archive = args.dist / f"{label}.tar.gz"
        with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
            tar.add(folder, arcname=label, filter=_normalise)
    elif system == "macos":
        folder = built.parent / "Galileio Desktop.app"
        if args.sign:
            sign_macos(folder)
        archive = args.dist / f"{label}.zip"
        subprocess.run(["ditto", "-c", "-k", "--keepParent", str(folder), str(archive)], check=True)
    else:
        folder = built
        if args.sign:
            sign_windows(folder)
        archive = args.dist / f"{label}.zip"
        _zip(folder, archive, label)
    size = folder_bytes(folder)
    print(f"bundle: {archive}")
    print(
        f"size: {size / 1e6:.1f} MB unpacked (target under {SIZE_TARGET_MB} MB), "
        f"{archive.stat().st_size / 1e6:.1f} MB to download"
    )
    for part, part_size in largest_parts(folder, 8):
        print(f"  {part_size / 1e6:6.1f} MB  {part}")
    if size > SIZE_TARGET_MB * 1e6:
        print(
            f"the bundle is over its size target of {SIZE_TARGET_MB} MB: see what grew above", file=sys.stderr
        )
        return 1
    return 0


def machine() -> str:
    arch = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "arm64" if sys.platform == "darwin" else "aarch64"}.get(arch, arch)


def run_pyinstaller(work: Path) -> Path:
    """PyInstaller on the spec; the folder it made."""
    distpath = work / "dist"
    command = [
        sys.executable, "-m", "PyInstaller", str(HERE / f"{NAME}.spec"),
        "--noconfirm", "--log-level", "WARN",
        "--distpath", str(distpath), "--workpath", str(work / "work"),
    ]  # fmt: skip
    subprocess.run(command, check=True, cwd=ROOT)
    return distpath / NAME


def sign_windows(folder: Path) -> None:
    """Authenticode-sign the programs, SHA-256 with a timestamp, and check the signatures."""
    env = os.environ
    programs = [str(p) for p in sorted(folder.glob("*.exe"))]
    subprocess.run(
        ["signtool", "sign", "/fd", "SHA256", "/td", "SHA256", "/tr", env["TIMESTAMP_URL"],
         "/f", env["SIGNTOOL_CERT"], "/p", env["SIGNTOOL_PASSWORD"], *programs],
        check=True,
    )  # fmt: skip
    subprocess.run(["signtool", "verify", "/pa", *programs], check=True)


def sign_macos(app: Path) -> None:
    """Sign every library, then the app, with the hardened runtime notarisation asks for."""
    identity = os.environ["CODESIGN_IDENTITY"]
    entitlements = HERE / "macos" / "entitlements.plist"
    inner = [p for p in app.rglob("*") if p.is_file() and p.suffix in (".so", ".dylib")]
    inner += [p for p in (app / "Contents" / "MacOS").iterdir() if p.is_file()]
    for path in inner:  # inside out: codesign --deep is not meant for distribution
        subprocess.run(
            ["codesign", "--force", "--timestamp", "--options", "runtime",
             "--entitlements", str(entitlements), "--sign", identity, str(path)],
            check=True,
        )  # fmt: skip
    subprocess.run(
        ["codesign", "--force", "--timestamp", "--options", "runtime",
         "--entitlements", str(entitlements), "--sign", identity, str(app)],
        check=True,
    )  # fmt: skip
    subprocess.run(["codesign", "--verify", "--strict", "--verbose=2", str(app)], check=True)


def _normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _zip(folder: Path, archive: Path, label: str) -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.rglob("*")):
            out.write(path, Path(label) / path.relative_to(folder))


def folder_bytes(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def largest_parts(folder: Path, count: int) -> list[tuple[str, int]]:
    """The biggest files and top-level packages, for the size report."""
    inner = folder / "_internal" if (folder / "_internal").is_dir() else folder
    sizes: dict[str, int] = {}
    for path in inner.rglob("*"):
        if path.is_file() and not path.is_symlink():
            relative = path.relative_to(inner)
            key = relative.parts[0] if len(relative.parts) > 1 else relative.name
            if relative.parts[0] == "PySide6" and len(relative.parts) > 2:
                key = "/".join(relative.parts[:3])
            sizes[key] = sizes.get(key, 0) + path.lstat().st_size
    return sorted(sizes.items(), key=lambda item: -item[1])[:count]


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
