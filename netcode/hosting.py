"""Opening worlds for the network: the server's (the ``server`` profile: simulation only) and the
secret its tokens are signed with."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.packs.json_text import atomic_write

if TYPE_CHECKING:
    from engine.core.world import World
    from engine.host.runtime import Runtime

SECRET_ENV = "STORM_SERVER_SECRET"


class ProfileMaker:
    """A runtime that makes worlds of one profile (what the world loader is handed)."""

    def __init__(self, runtime: "Runtime", profile: str) -> None:
        self._runtime = runtime
        self._profile = profile
        self.prefabs, self.assets = runtime.prefabs, runtime.assets

    def registry(self) -> Any:
        return self._runtime.registry()

    def new_world(self, **kwargs: Any) -> "World":
        return self._runtime.new_world(profile=self._profile, **kwargs)


def open_world(name: str, runtime: "Runtime", profile: str = "server", seed: int | None = None) -> "World":
    """A world file (or a world in an enabled pack by asset id) as a world of ``profile``."""
    from engine.core.asset_ids import parse_asset_id
    from engine.data.world_file import load_world_data, read_world

    maker = ProfileMaker(runtime, profile)
    if not Path(name).exists() and ":" in name:
        try:
            parse_asset_id(name)
        except ValueError:
            pass
        else:
            return load_world_data(runtime.content.read_json(name), runtime.content.display(name), maker,  # type: ignore[arg-type]
                                   seed=seed)
    return read_world(name, maker, seed=seed)  # type: ignore[arg-type]


def server_secret(path: Path | None = None) -> bytes:
    """The token secret: ``$STORM_SERVER_SECRET`` (hex), else a file kept beside the profile
    (``server.secret`` in the Storm folder, made with a random secret on first use)."""
    text = os.environ.get(SECRET_ENV, "")
    if text:
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise ValueError(f"{SECRET_ENV}: hex digits (64 of them for 32 bytes)") from None
    if path is None:
        from engine.packs.locations import storm_home

        path = Path(storm_home()) / "server.secret"
    if path.exists():
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    secret = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, secret.hex() + "\n")
    os.chmod(path, 0o600)
    return secret
