"""``validate``: everything a load would find, and more, as a list of problems.

A world is read like any load, but every problem is kept instead of the first one raised: each
entity block with its own problems is reported and the rest of the file checked on. Then every
asset the world's components name is loaded the way the game will load it (models converted,
sounds decoded, images read within the pixel budget), entity references are checked, and the
world is saved and read back to see that what validate accepts survives a save unchanged
(32-bit float precision included).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from engine.core.errors import DataError, StormError
from engine.core.fields import AssetRef
from engine.data.entity_blocks import LoadContext
from engine.data.migrations import migrate
from engine.data.world_file import WorldMaker, build_world, load_world_data
from engine.data.world_parse import parse_world
from engine.data.world_save import world_to_data
from engine.packs.json_text import dumps_canonical, parse_json, read_json

if TYPE_CHECKING:
    from engine.core.world import World

ModelCheck = Callable[[Any, str], list[str]]  # (content registry, asset id) -> problems in words


@dataclass
class Report:
    """What validate found: the problems (each names file, place and expectation) and, when the
    world could be built, how many entities it has."""

    source: str
    problems: list[DataError] = field(default_factory=list)
    entities: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"world": self.source, "ok": self.ok, "entities": self.entities,
                "problems": [{"file": p.source, "path": p.path, "expected": p.expected,
                              "message": str(p)} for p in self.problems]}


def check_world(path: Path | str, maker: WorldMaker, model_check: ModelCheck | None = None) -> Report:
    """Validate a world file completely; never raises for what the file holds."""
    source = str(path)
    report = Report(source)
    registry = maker.registry()
    ctx = LoadContext(source, registry, maker.assets, maker.prefabs.content.budgets, problems=report.problems)
    try:
        spec = parse_world(migrate(read_json(path), "world", source), ctx, maker.prefabs, consume=True)
    except DataError as error:
        report.problems.append(error)
        return report
    broken = bool(report.problems)
    world = build_world(spec, maker, registry)  # what parsed well: its assets are checked too
    try:
        report.entities = len(world.entities())
        _check_assets(world, maker, report, model_check)
        if not broken:
            _check_round_trip(world, maker, report)
    finally:
        world.close()
    return report


def _check_assets(world: "World", maker: WorldMaker, report: Report, model_check: ModelCheck | None) -> None:
    """Load every asset the components name, once each, the way playing will."""
    content = maker.prefabs.content
    seen: dict[tuple[str, str], list[str]] = {}
    for eid in sorted(world.entities()):
        for component in world.components(eid):
            for name, declared in component.fields.items():
                kind = declared.type
                value = getattr(component, name)
                if not isinstance(kind, AssetRef) or not value or value.startswith("primitive:"):
                    continue
                key = (kind.kind, value)
                if key not in seen:
                    seen[key] = _asset_problems(maker, content, kind.kind, value, model_check)
                for problem in seen[key]:
                    where = f"entity {eid}({world.name_of(eid)}).{component.type_name}.{name}"
                    report.problems.append(DataError(report.source, where, f"an asset that loads ({problem})", value))


def _asset_problems(maker: WorldMaker, content: Any, kind: str, asset_id: str, model_check: ModelCheck | None) -> list[str]:
    problem = maker.assets.problem(asset_id, kind)
    if problem:
        return [problem]
    try:
        if kind == "model":
            if model_check is not None:
                return model_check(content, asset_id)
            maker.assets.model(asset_id).removeNode()
            if maker.assets.failed(asset_id):
                return ["it did not load: " + str(maker.assets.error_for(asset_id))]
            return ["it loads without part of itself: " + note for note in maker.assets.warnings_for(asset_id)]
        if kind == "image":
            from engine.packs.images import read_image

            read_image(content, asset_id)
    except StormError as exc:
        return [str(exc)]
    except Exception as exc:  # noqa: BLE001 - a decoder's own error, said in words
        return [f"{type(exc).__name__}: {exc}"]
    return []


class _DataOnly:
    """The maker, making worlds without the systems that draw and play (a read-back needs none)."""

    def __init__(self, maker: WorldMaker) -> None:
        self._maker = maker
        self.prefabs, self.assets = maker.prefabs, maker.assets

    def registry(self) -> Any:
        return self._maker.registry()

    def new_world(self, **kwargs: Any) -> "World":
        try:
            return self._maker.new_world(profile="server", **kwargs)  # type: ignore[call-arg]
        except TypeError:
            return self._maker.new_world(**kwargs)


def _check_round_trip(world: "World", maker: WorldMaker, report: Report) -> None:
    """Saving and reading back must give the same file (what validate accepts, Storm can keep)."""
    data = world_to_data(world)
    first = dumps_canonical(data)
    try:
        again = load_world_data(parse_json(first, report.source), report.source, _DataOnly(maker))
    except DataError as error:
        report.problems.append(DataError(report.source, "", f"a world whose saved file Storm reads back (saved, it "
                                                            f"gives: {error})"))
        return
    try:
        same = world_to_data(again) == data
        second = first if same else dumps_canonical(world_to_data(again))
    finally:
        again.close()
    if first != second:
        diff = next((line for line in difflib.unified_diff(first.splitlines(), second.splitlines(), lineterm="", n=0)
                     if line[:1] in "+-" and not line.startswith(("+++", "---"))), "?")
        report.problems.append(DataError(report.source, "", "a world that saving and reading back leaves unchanged "
                                                            f"(it changes at: {diff.strip()[:120]})"))
