"""Child process of tests/test_fuzz_worlds.py: thousands of seeded mutated world files loaded one
after another. Prints one JSON line of outcome counts; anything but a World or a DataError is
printed with its traceback and ends the run with exit code 1."""
from __future__ import annotations

import json
import random
import sys
import tempfile
import traceback
from pathlib import Path

from engine.core.errors import DataError
from engine.data.world_check import check_world
from engine.data.world_file import read_world
from engine.host.runtime import create_runtime
from engine.packs.json_text import parse_json
from tests.conftest import DEMO_WORLD
from tests.test_bad_world_files import mutate, small_world


def text_mutation(text: str, rng: random.Random) -> str:
    alphabet = '{}[],:"0123456789.-eE \ntruefalsnul\\\ud800\u202e'
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(chars))
        if rng.random() < 0.5:
            del chars[at]
        else:
            chars.insert(at, rng.choice(alphabet))
    return "".join(chars)


def main(cases: int, seed: int) -> int:
    rng = random.Random(seed)
    runtime = create_runtime()
    bases = [small_world(), parse_json(DEMO_WORLD.read_text(encoding="utf-8"), str(DEMO_WORLD))]
    outcomes = {"ok": 0, "error": 0, "validated": 0}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.world.json"
        for case in range(cases):
            base = bases[0] if case % 10 else bases[1]
            if case % 4 == 3:
                text = text_mutation(json.dumps(base, indent=1), rng)
            else:
                text = json.dumps(mutate(base, rng), indent=1)
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            try:
                if case % 5 == 0:
                    report = check_world(path, runtime)
                    outcomes["validated"] += 1
                    outcomes["ok" if report.ok else "error"] += 1
                    continue
                world = read_world(path, runtime)
            except DataError:
                outcomes["error"] += 1
                continue
            except Exception:  # noqa: BLE001 - the point: report what escaped
                print(f"case {case}: {type(sys.exc_info()[1]).__name__} escaped the loader for:\n{text[:2000]}")
                traceback.print_exc()
                return 1
            world.close()
            outcomes["ok"] += 1
    print(json.dumps(outcomes))
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
