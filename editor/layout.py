"""The docked layout: where each panel sits the first time, and remembering where the user put them.

Dear PyGui 2.3 has no call to dock a window from code; it does read Dear ImGui's ``.ini`` layout
at start-up. So the first layout is written as an ``.ini``: a dock space over the viewport split
into nodes, each panel window naming its node. Dear ImGui names a window by the hash of its label
(Dear PyGui labels windows ``###<uuid>``) and, since 1.91, hashes with CRC-32C (Castagnoli,
checked against Dear PyGui 2.3.1's own output). After that, Dear PyGui saves the user's layout
(``save_init_file``) and it is loaded back the next time, as long as the panels are created in the
same order (same uuids): ``layout_key`` records that order, and a different one starts over from
the default.
"""
from __future__ import annotations

from typing import Sequence

MENU_HEIGHT = 19
TOOLBAR_HEIGHT = 36


def _table() -> list[int]:
    out = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        out.append(c)
    return out


_CRC32C = _table()


def imgui_hash(text: str, seed: int = 0) -> int:
    """Dear ImGui's ``ImHashStr``: CRC-32C, restarting at ``###``."""
    data = text.encode("utf-8")
    seed = ~seed & 0xFFFFFFFF
    crc = seed
    for i, c in enumerate(data):
        if c == 0x23 and data[i + 1:i + 3] == b"##":
            crc = seed
        crc = (crc >> 8) ^ _CRC32C[(crc ^ c) & 0xFF]
    return ~crc & 0xFFFFFFFF


HOST_WINDOW = "WindowOverViewport_11111111"  # Dear PyGui's dock space host over the main viewport

# panel -> dock node in the default layout
DEFAULT_NODES = {
    "toolbar": 0x11, "scene": 0x21, "assets": 0x22, "view": 0x31, "console": 0x32, "history": 0x32,
    "help": 0x32, "inspector": 0x41, "plugins": 0x32, "npcs": 0x41,
}


def layout_key(window_labels: dict[str, str]) -> str:
    return ",".join(f"{name}={label}" for name, label in sorted(window_labels.items()))


def default_layout(window_labels: dict[str, str], size: tuple[int, int], selected: Sequence[str] = ("console",)) -> str:
    """The ``.ini`` text of the first layout for a viewport of ``size``: toolbar on top; scene tree
    above the asset browser on the left; the 3D view in the middle above console, history and
    help (tabs); inspector on the right, with the NPCs panel as a tab beside it. ``window_labels``
    maps panel names to window labels (``###<uuid>``)."""
    width, height = size
    h = height - MENU_HEIGHT
    host = imgui_hash(HOST_WINDOW)
    space = imgui_hash("DockSpace", host)
    left = max(200, int(width * 0.18))
    right = max(260, int(width * 0.23))
    centre = max(200, width - left - right)
    body = h - TOOLBAR_HEIGHT
    bottom = max(120, int(body * 0.26))
    ids = {name: imgui_hash(label) for name, label in window_labels.items()}

    def sel(*names: str) -> str:
        for name in names:
            if name in ids:
                return f" Selected=0x{ids[name]:08X}"
        return ""

    lines = [f"[Window][{HOST_WINDOW}]", f"Pos=0,{MENU_HEIGHT}", f"Size={width},{h}", "Collapsed=0", ""]
    for name, label in window_labels.items():
        node = DEFAULT_NODES.get(name)
        if node is None:
            continue
        lines += [f"[Window][{label}]", "Pos=0,0", "Size=200,200", "Collapsed=0", f"DockId=0x{node:08X},0", ""]
    bottom_tab = next((n for n in selected if n in ids), "console")
    lines += [
        "[Docking][Data]",
        f"DockSpace         ID=0x{space:08X} Window=0x{host:08X} Pos=0,{MENU_HEIGHT} Size={width},{h} Split=Y",
        f"  DockNode        ID=0x00000011 Parent=0x{space:08X} SizeRef={width},{TOOLBAR_HEIGHT} "
        f"HiddenTabBar=1 NoResize=1{sel('toolbar')}",
        f"  DockNode        ID=0x00000002 Parent=0x{space:08X} SizeRef={width},{body} Split=X",
        f"    DockNode      ID=0x00000020 Parent=0x00000002 SizeRef={left},{body} Split=Y",
        f"      DockNode    ID=0x00000021 Parent=0x00000020 SizeRef={left},{int(body * 0.6)}{sel('scene')}",
        f"      DockNode    ID=0x00000022 Parent=0x00000020 SizeRef={left},{body - int(body * 0.6)}{sel('assets')}",
        f"    DockNode      ID=0x00000003 Parent=0x00000002 SizeRef={width - left},{body} Split=X",
        f"      DockNode    ID=0x00000030 Parent=0x00000003 SizeRef={centre},{body} Split=Y",
        f"        DockNode  ID=0x00000031 Parent=0x00000030 SizeRef={centre},{body - bottom} CentralNode=1 "
        f"HiddenTabBar=1{sel('view')}",
        f"        DockNode  ID=0x00000032 Parent=0x00000030 SizeRef={centre},{bottom}{sel(bottom_tab)}",
        f"      DockNode    ID=0x00000041 Parent=0x00000003 SizeRef={right},{body}{sel('inspector')}",
        "",
    ]
    return "\n".join(lines)


def view_size_guess(size: tuple[int, int]) -> tuple[int, int]:
    """About how big the 3D view is in the default layout (the renderer starts at this size)."""
    width, height = size
    left = max(200, int(width * 0.18))
    right = max(260, int(width * 0.23))
    body = height - MENU_HEIGHT - TOOLBAR_HEIGHT
    return max(64, width - left - right - 16), max(64, body - max(120, int(body * 0.26)) - 40)
