import sys
sys.path.insert(0, "/work/main/tests")
from test_ui_chat_sidebar import *
def test_dbg(qtbot, sidebar, client):
    seen=[]
    sidebar.sig_chat_selected.connect(lambda c: seen.append(("sel", c)))
    client.sig_chat_updated.connect(lambda r, v: seen.append(("upd", r, v.chat.chat_id)))
    with qtbot.waitSignal(sidebar.sig_new_chat_created, timeout=5000) as blocker:
        rid = sidebar.new_chat()
    seen.append(("created", blocker.args[0]))
    qtbot.wait(300)
    print(seen, sidebar.current_chat_id, sidebar._create_requests)
    assert 0
