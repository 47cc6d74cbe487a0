"""Opening the window: on the account in use, or on the embedded demo (``--demo``).

The demo runs moto's DynamoDB server in this process on 127.0.0.1 and keeps its
files in a throwaway folder unless ``--data-dir`` is given. Until the window exists
it says on stderr how to point the CLI at the same endpoint. Accounts added from
the window go to the usual config folder, also from the demo, so they are there
at the next start.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .data.errors import InvalidInput
from .data.paths import AppPaths, private_dir

log = logging.getLogger(__name__)


def demo_account(info: Any) -> Any:
    from .data.auth.accounts import Account
    from .demo import demo_documents_dir

    return Account(
        name="demo",
        auth="demo",
        region=info.region,
        table=info.table,
        endpoint_url=info.endpoint_url,
        user_id=info.user_id,
        assistant={"backend": "local-docs", "docs_dir": str(demo_documents_dir())},
    )


def launch(ctx: Any) -> int:
    """Show the window until it is closed (or save a screenshot and exit)."""
    args = ctx.args
    screenshot = Path(args.screenshot).absolute() if args.screenshot else None
    if args.demo:
        return _launch_demo(ctx, screenshot)
    try:
        workspace = ctx.workspace()
    except InvalidInput as exc:
        return _first_start(ctx, str(exc), screenshot)
    return _run(workspace, workspace.paths, screenshot, ctx)


def _launch_demo(ctx: Any, screenshot: Path | None) -> int:
    from .demo import DemoServer
    from .workspace import Workspace

    throwaway = None if ctx.args.data_dir else tempfile.mkdtemp(prefix="galileio-demo-")
    paths = AppPaths.resolve(ctx.args.data_dir or throwaway)
    server = DemoServer()
    try:
        info = server.start()
        ctx.info(
            f"Demo endpoint {info.endpoint_url} (table {info.table}, user {info.user_id}).\n"
            f"Use the CLI against it while the window is open, for example:\n  {info.cli_hint()}"
        )
        workspace = Workspace(demo_account(info), paths, offline=ctx.offline)
        return _run(workspace, paths, screenshot, ctx)
    finally:
        server.stop()
        if throwaway:
            shutil.rmtree(throwaway, ignore_errors=True)


def _run(workspace: Any, paths: AppPaths, screenshot: Path | None, ctx: Any) -> int:
    if screenshot is not None:
        from .ui.app_window import run_window, window_library_factory

        settings_dir = private_dir(paths.config_dir / "window")
        return run_window(
            window_library_factory(workspace),
            workspace.make_assistant,
            workspace.label,
            settings_dir,
            screenshot=screenshot,
            history_limit=workspace.history_limit,
        )
    code, _ = _run_accounts(ctx, workspace)
    return code


def _run_accounts(ctx: Any, workspace: Any) -> tuple[int, bool]:
    """The window with its Account menu, until the user is done; (exit code, a window was shown)."""
    from .ui.accounts.account_switcher import run_accounts

    return run_accounts(
        ctx.paths,
        workspace,
        secrets=getattr(ctx, "secrets", None),
        offline=bool(getattr(ctx, "offline", False)),
    )


def _first_start(ctx: Any, reason: str, screenshot: Path | None) -> int:
    """No account yet: sign in (adding the account), open the demo, or quit."""
    from .ui.accounts.welcome_dialog import DEMO, SIGN_IN, ask_first_start

    while True:
        choice = ask_first_start(reason)
        if choice == DEMO:
            return _launch_demo(ctx, screenshot)
        if choice != SIGN_IN:
            return 0
        code, shown = _run_accounts(ctx, None)
        if shown:
            return code
