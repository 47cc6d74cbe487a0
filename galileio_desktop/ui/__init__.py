"""The Qt face of the app: windows, models, delegates and the background worker.

Threads: the GUI thread only paints and reacts. A library worker
(:mod:`.worker`) reads and writes the local mirror, a sync worker
(:mod:`.sync_worker`) does every DynamoDB call, and an answer thread
(:mod:`.answer_worker`) runs the assistant; :mod:`.worker_client` is the GUI's
handle on all three (requests by signal, results by signal with a request id).

Parts of the window: :mod:`.chat_sidebar` (with :mod:`.chat_list_model` and
:mod:`.chat_delegate`), :mod:`.message_pane` (with :mod:`.message_list_model`,
:mod:`.message_delegate`, :mod:`.message_view`, :mod:`.ask_tracker`),
:mod:`.source_drawer`, :mod:`.composer`, :mod:`.search_dialog`,
:mod:`.status_bar` and :mod:`.parked_dialog`, put together by
:mod:`.main_window`; :func:`.app_window.run_window` opens it.

Message content is untrusted: :mod:`.safe_markdown` renders it with raw HTML off
and nothing loaded, and :mod:`.links` opens only http(s) links, only on click.
"""
