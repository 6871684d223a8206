"""The Dear PyGui world editor (not built yet): it will edit an engine World through undoable commands."""
