"""Loads behaviour classes from packs that may carry code, and reloads them when their files change.

A name ``base:doors.Door`` means the class ``Door`` in ``content/base/scripts/doors.py``;
``base:ai.guard.Guard`` means ``scripts/ai/guard.py``. Only packs allowed to carry code (kind
plugin or both) may provide scripts, and only from their own files (another pack cannot override
a script). The source is read through the content registry, from a folder or a zip alike, by an
importlib ``SourceLoader`` whose ``get_data`` asks the registry; importlib compiles and runs it.

One loader serves every world of a runtime, so reloads go into a numbered log of swaps
(``swaps_since``): each world's ScriptSystem applies the entries it has not seen yet, in order,
whichever world happened to notice the changed file first.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import logging
import re
import sys
import traceback
from types import ModuleType
from typing import Any

from engine.packs.content import ContentRegistry, Pack
from engine.scripting.behaviour import Behaviour

log = logging.getLogger("storm.scripts")
Swap = tuple[type[Behaviour], type[Behaviour]]  # (old class, new class)
SCRIPT_NAME = re.compile(r"^([a-z][a-z0-9_]*):([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\.([A-Za-z_][A-Za-z0-9_]*)$")


class PackScriptSource(importlib.abc.SourceLoader):
    """An importlib loader for one script file of a pack: ``get_data`` reads it through the
    content registry (budget, checks, folder or zip). No bytecode is cached or read."""

    def __init__(self, content: ContentRegistry, pack: Pack, name: str) -> None:
        assert pack.source is not None
        self.content, self.pack, self.name = content, pack, name
        self.display = pack.source.display(name)

    def get_filename(self, fullname: str) -> str:
        return self.display

    def get_data(self, path: str) -> bytes:
        if path != self.display:
            raise OSError(f"{path}: a pack script reads only its own file")
        return self.content.files.read_in_pack(self.pack, self.name)

    def stamp(self) -> Any:
        assert self.pack.source is not None
        return self.pack.source.stamp(self.name)


class ScriptLoader:
    """Resolves ``pack:module.Class`` names to behaviour classes and hot-reloads changed modules."""

    def __init__(self, content: ContentRegistry) -> None:
        self.content = content
        self._modules: dict[str, tuple[ModuleType, PackScriptSource, Any]] = {}
        self._classes: dict[str, type[Behaviour]] = {}
        self._swap_log: list[Swap] = []
        self.errors: list[str] = []

    def resolve(self, name: str) -> type[Behaviour] | None:
        """The behaviour class for a script name; None if the name is not a script name.

        Raises LookupError naming what is wrong (pack, file, class) otherwise.
        """
        if ":" not in name:
            return None
        match = SCRIPT_NAME.match(name)
        if match is None:
            raise LookupError("a script name like 'pack:module.Class'")
        pack_name, module_path, class_name = match.groups()
        pack = self.content.pack(pack_name)
        if pack is None:
            raise LookupError(f"an enabled pack named {pack_name!r}")
        if not pack.allows_code:
            raise LookupError(f"a pack allowed to carry code (pack {pack_name!r} has kind = \"content\")")
        if not pack.trusted:
            raise LookupError(f"a pack trusted to run code in the engine: behaviour scripts run inside it, so the "
                              f"player trusts a pack first (storm pack enable {pack_name} --trust)")
        key = f"{pack_name}:{module_path}"
        if key not in self._modules:
            source = PackScriptSource(self.content, pack, "scripts/" + module_path.replace(".", "/") + ".py")
            if not self.content.files.has_in_pack(pack, source.name):
                raise LookupError(f"a script file {source.display}")
            try:
                module = self._exec(key, source)
            except Exception as exc:  # noqa: BLE001 - report a broken script as a data error
                raise LookupError(f"a script that imports cleanly ({source.display}: {exc})") from None
            self._modules[key] = (module, source, source.stamp())
        module = self._modules[key][0]
        cls = getattr(module, class_name, None)
        if not (isinstance(cls, type) and issubclass(cls, Behaviour) and cls is not Behaviour
                and cls.__module__ == module.__name__):
            raise LookupError(f"a Behaviour class named {class_name!r} in {self._modules[key][1].display}")
        cls.type_name = name
        self._classes[name] = cls
        return cls

    @staticmethod
    def _exec(key: str, source: PackScriptSource) -> ModuleType:
        module_name = "storm_scripts." + key.replace(":", ".")
        spec = importlib.util.spec_from_file_location(module_name, source.display, loader=source)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        return module

    @property
    def generation(self) -> int:
        """How many swaps the log holds: a world that starts now has seen them all."""
        return len(self._swap_log)

    def swaps_since(self, seen: int) -> tuple[int, list[Swap]]:
        """The swaps logged after the first ``seen`` ones, oldest first (old -> new chains in the
        order they happened), and the count to pass next time."""
        return len(self._swap_log), self._swap_log[seen:]

    def reload_changed(self) -> list[Swap]:
        """Reload modules whose files changed; logs and returns the (old class, new class) pairs
        to swap in. Worlds should read ``swaps_since`` instead: this returns each swap once."""
        swaps: list[Swap] = []
        for key, (_module, source, stamp) in list(self._modules.items()):
            current = source.stamp()
            if current == stamp or current[1] < 0:  # unchanged, or gone (keep what runs)
                continue
            swaps += self.reload(key, current)
        return swaps

    def reload(self, key: str, stamp: Any = None) -> list[Swap]:
        """Re-run one module; on error the old code keeps running and the error is logged."""
        module, source, _old_stamp = self._modules[key]
        stamp = stamp if stamp is not None else source.stamp()
        try:
            fresh = self._exec(key, source)
        except Exception:  # noqa: BLE001
            message = (f"hot reload of {source.display} failed; keeping the previous version:\n"
                       f"{traceback.format_exc(limit=-1)}")
            log.error(message)
            self.errors.append(message)
            self._modules[key] = (module, source, stamp)
            return []
        self._modules[key] = (fresh, source, stamp)
        swaps: list[Swap] = []
        for name, old in list(self._classes.items()):
            if not name.startswith(key + "."):
                continue
            new = getattr(fresh, name.rsplit(".", 1)[1], None)
            if isinstance(new, type) and issubclass(new, Behaviour):
                new.type_name = name
                self._classes[name] = new
                swaps.append((old, new))
        self._swap_log += swaps
        return swaps

    def loaded(self) -> dict[str, type[Behaviour]]:
        return dict(self._classes)
