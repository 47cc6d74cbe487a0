"""Opening the window: on the account in use, or on the embedded demo (``--demo``).

The demo runs moto's DynamoDB server in this process on 127.0.0.1 and keeps its
files in a throwaway folder unless ``--data-dir`` is given. Until the window exists
it says on stderr how to point the CLI at the same endpoint. Accounts added from
the window go to the usual config folder, also from the demo, so they are there
at the next start.

One window per data folder (and one demo): a second launch hands its ``--chat`` to
the window already open, which comes to the front (:mod:`.ui.single_instance`).
``--screenshot`` runs are not counted: they show their own window and exit.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .data.errors import InvalidInput, NotFound
from .data.paths import AppPaths, private_dir

log = logging.getLogger(__name__)


def demo_account(info: Any, api_url: str | None = None) -> Any:
    """The demo's account; with ``api_url``, reaching the chats through the API stand-in
    and asking its assistant (the answers are stored by the stand-in)."""
    from .data.auth.accounts import Account
    from .demo import demo_documents_dir

    if api_url:
        return Account(
            name="demo",
            auth="demo",
            region=info.region,
            table=info.table,
            user_id=info.user_id,
            transport="api",
            api_url=api_url,
            assistant={"backend": "galileo", "url": api_url, "options": {"signing_service": "execute-api"}},
        )
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
    from .ui.qt_free_first import import_library

    import_library()  # before Qt: see the module
    from .ui.app_window import ensure_application
    from .ui.open_requests import OpenRequests
    from .ui.single_instance import claim

    args = ctx.args
    screenshot = Path(args.screenshot).absolute() if args.screenshot else None
    app = ensure_application(icon=False)
    if getattr(args, "theme", None):
        from .ui.appearance import apply_theme

        apply_theme(app, args.theme)
    requests = OpenRequests(args.chat or "")
    instance = None
    if screenshot is None:
        instance = claim(instance_key(ctx), args.chat or "")
        if instance is None:
            ctx.info("Galileio Desktop is already open: its window was brought to the front.")
            return 0
        instance.sig_request.connect(requests.request)
    code = 1
    try:
        code = _launch(ctx, screenshot, requests)
        return code
    finally:
        if instance is not None:
            instance.close()
        from .ui.workers.thread_stop import end_process_if_stuck

        end_process_if_stuck(code)  # a thread let go at Quit is waited for, never torn down


def instance_key(ctx: Any) -> str:
    """What one running window stands for: the data folder, with or without the demo."""
    return f"{'demo' if ctx.args.demo else 'accounts'}:{ctx.paths.config_dir}"


def _launch(ctx: Any, screenshot: Path | None, requests: Any) -> int:
    if ctx.args.demo:
        return _launch_demo(ctx, screenshot, requests)
    try:
        workspace = ctx.workspace()
    except InvalidInput as exc:
        return _first_start(ctx, str(exc), screenshot, requests)
    return _run(workspace, workspace.paths, screenshot, ctx, requests)


def _launch_demo(ctx: Any, screenshot: Path | None, requests: Any) -> int:
    from .demo import DemoServer
    from .workspace import Workspace

    throwaway = None if ctx.args.data_dir else tempfile.mkdtemp(prefix="galileio-demo-")
    paths = AppPaths.resolve(ctx.args.data_dir or throwaway)
    server = DemoServer()
    api = None
    try:
        info = server.start()
        ctx.info(
            f"Demo endpoint {info.endpoint_url} (table {info.table}, user {info.user_id}).\n"
            f"Use the CLI against it while the window is open, for example:\n  {info.cli_hint()}"
        )
        if getattr(ctx.args, "demo_transport", None) == "api":
            from .demo import start_demo_api

            api = start_demo_api(info)
            ctx.info(f"The demo's chats are reached through its API stand-in at {api.url}")
        workspace = Workspace(demo_account(info, api.url if api else None), paths, offline=ctx.offline)
        return _run(workspace, paths, screenshot, ctx, requests)
    finally:
        if api is not None:
            api.stop()
        server.stop()
        if throwaway:
            shutil.rmtree(throwaway, ignore_errors=True)


def _run(workspace: Any, paths: AppPaths, screenshot: Path | None, ctx: Any, requests: Any) -> int:
    if screenshot is not None:
        from .ui.app_window import run_window, window_library_factory

        settings_dir = private_dir(paths.config_dir / "window")
        code = run_window(
            window_library_factory(workspace),
            workspace.make_assistant,
            workspace.label,
            settings_dir,
            screenshot=screenshot,
            size=getattr(ctx.args, "window_size", None) or (1280, 800),
            history_limit=workspace.history_limit,
            on_window=lambda window: (
                window.set_region(workspace.account.region),
                requests.adopt(window),
                _keep_theme(ctx),
            ),
        )
        missing = requests.opener.missing if requests.opener is not None else ""
        if missing:  # the screenshot shows the window without it; say so
            raise NotFound(f"There is no chat {missing} in this account.")
        return code
    code, _ = _run_accounts(ctx, workspace, requests)
    return code


def _keep_theme(ctx: Any) -> None:
    """``--theme`` wins over the theme the window's settings put in force as it was made."""
    theme = getattr(ctx.args, "theme", None)
    if theme:
        from PySide6.QtWidgets import QApplication

        from .ui.appearance import apply_theme

        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)


def _run_accounts(ctx: Any, workspace: Any, requests: Any) -> tuple[int, bool]:
    """The window with its Account menu, until the user is done; (exit code, a window was shown)."""
    from .ui.accounts.account_switcher import run_accounts

    return run_accounts(
        ctx.paths,
        workspace,
        secrets=getattr(ctx, "secrets", None),
        offline=bool(getattr(ctx, "offline", False)),
        on_window=requests.adopt,
    )


def _first_start(ctx: Any, reason: str, screenshot: Path | None, requests: Any) -> int:
    """No account yet: the welcome page offers to sign in, to import an account file, or the demo."""
    from .ui.accounts.account_switcher import run_first_start

    log.info("first start: %s", reason)
    code = run_first_start(
        ctx.paths,
        secrets=getattr(ctx, "secrets", None),
        offline=bool(getattr(ctx, "offline", False)),
        on_window=requests.adopt,
    )
    if code is None:  # "Try the demo"
        return _launch_demo(ctx, screenshot, requests)
    return code
