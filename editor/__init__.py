"""The Dear PyGui world editor: it edits an engine World through undoable commands.

Start it with ``./storm edit [world] [--size WxH]`` (``editor.launch``); scripts and tests drive
it through ``editor.driver.EditorDriver``. Nothing imports this package except ``main.py``.
See docs/editor.md.
"""
