"""The Qt face of the app: windows, models, delegates and the worker threads.

Threads (:mod:`.workers`): the GUI thread only paints and reacts. Work for the library
goes as an operation object (:mod:`.workers.operation`) to one of three lanes of
:class:`~.workers.client.WorkerClient`: the library worker (reads and local writes on
the mirror), the sync worker (every DynamoDB call, and the timed sync) and the answer
worker (the assistant). All three share one library, so one connection writes the mirror.

Parts of the window, one package each: :mod:`.sidebar` (the chat list),
:mod:`.conversation` (the message pane, its model and delegate, the composer, the source
drawer, asking), :mod:`.search` (Ctrl+K), :mod:`.accounts` (sign-in, the Account menu,
switching), :mod:`.sync_status` (the status bar, refused changes), :mod:`.settings`
(Ctrl+,) and :mod:`.shortcuts` (the list of keys, Ctrl+/); put together by
:mod:`.main_window`, opened by :mod:`.app_window`.

Message content is untrusted: :mod:`.conversation.safe_markdown` renders it with raw
HTML off and nothing loaded, and :mod:`.links` opens only http(s) links, only on click.
"""
