"""What a file inside a pack may be called and may contain: the rules every pack source (folder
or zip) and ``pack build`` apply, so that a name means the same file on every system and no
data file smuggles code.

A name is a relative POSIX path of plain parts. Refused: ``..`` and ``.`` parts, empty parts,
absolute paths, drive letters and any ``:`` (Windows streams), backslashes, NUL and other
control or format characters, characters that look like ``/``, ``\\``, ``.`` or ``:`` (fullwidth
solidus, fraction slash, one-dot leader ...), parts ending in a dot or a space, Windows device
names (``con``, ``nul``, ``com1`` ...), overlong parts and paths. Two names that differ only by
case or Unicode normalisation are the same file on macOS and Windows, so a pack may hold only one.
"""
from __future__ import annotations

import io
import pickletools
import re
import unicodedata

MAX_PATH_CHARS = 400
MAX_PART_BYTES = 255
MAX_DEPTH = 32

# Characters that render like a path separator, a dot or a colon (NFKC folds some, not all).
LOOKALIKES = {
    "\u2215": "division slash", "\u2044": "fraction slash", "\u29f8": "big solidus", "\uff0f": "fullwidth solidus",
    "\u2571": "box drawings diagonal", "\u29f5": "reverse solidus operator", "\u29f9": "big reverse solidus",
    "\uff3c": "fullwidth reverse solidus", "\ufe68": "small reverse solidus", "\u2216": "set minus",
    "\u2024": "one dot leader", "\u2025": "two dot leader", "\u2026": "horizontal ellipsis",
    "\uff0e": "fullwidth full stop", "\ufe52": "small full stop", "\u3002": "ideographic full stop",
    "\u00b7": "middle dot", "\u2027": "hyphenation point", "\uff1a": "fullwidth colon", "\ufe55": "small colon",
    "\ua789": "modifier letter colon", "\u2236": "ratio", "\u02d0": "modifier letter triangular colon",
}
WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_PLAIN = re.compile(r"^[A-Za-z0-9_\-. /()+,@~=#&!'\[\]{}$%^]+$")
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}

# Files that are programs or bytecode: refused in content-only packs.
CODE_SUFFIXES = (".py", ".pyc", ".pyo", ".pyd", ".pyw", ".pyz", ".pyx", ".so", ".dll", ".dylib", ".exe", ".sh",
                 ".bash", ".zsh", ".bat", ".cmd", ".ps1", ".vbs", ".com", ".msi", ".scr", ".jar", ".class",
                 ".wasm", ".elf", ".app", ".command")
# Files that are pickles by name: refused in every pack (unpickling runs code).
PICKLE_SUFFIXES = (".pkl", ".pickle", ".pck", ".pcl", ".joblib", ".dill")
_SHARED_OBJECT = re.compile(r"\.so(\.\d+)+$")


def name_problem(name: str) -> str | None:
    """Why ``name`` may not name a file in a pack (what was expected), or None when it may."""
    if not name:
        return "a file name (this one is empty)"
    if len(name) > MAX_PATH_CHARS:
        return f"a path of at most {MAX_PATH_CHARS} characters (this one has {len(name)})"
    if not (name.isascii() and _PLAIN.match(name)):
        problem = _character_problem(name)
        if problem:
            return problem
    if name.startswith("/"):
        return "a relative path inside the pack (this one is absolute)"
    parts = name.split("/")
    if len(parts) > MAX_DEPTH:
        return f"a path at most {MAX_DEPTH} folders deep"
    for part in parts:
        if part in ("", ".", ".."):
            return "a path inside the pack without '..', '.' or empty parts"
        if part[-1] in ". ":
            return f"no part ending in a dot or a space ({part!r})"
        if len(part.encode("utf-8", "surrogatepass")) > MAX_PART_BYTES:
            return f"file and folder names of at most {MAX_PART_BYTES} bytes"
        if part.split(".", 1)[0].lower() in WINDOWS_DEVICES:
            return f"no Windows device name ({part!r})"
    return None


def _character_problem(name: str) -> str | None:
    if "\x00" in name:
        return "a name without NUL characters"
    if "\\" in name:
        return "a path with / between folders (not a backslash)"
    if ":" in name:
        return "a path without ':' (no drive letters like C: and no Windows streams)"
    for char in name:
        if char in LOOKALIKES:
            return f"a path without look-alike characters (U+{ord(char):04X} {LOOKALIKES[char]})"
        category = unicodedata.category(char)
        if category in _BAD_CATEGORIES:
            what = "control, format or unassigned" if category != "Cs" else "undecodable (not UTF-8)"
            return f"a path without {what} characters (U+{ord(char):04X})"
    folded = unicodedata.normalize("NFKC", name)
    if folded != name:
        for mark in ("/", "\\", ":", "\x00"):
            if folded.count(mark) != name.count(mark):
                return f"a path without characters that fold into {mark!r}"
        if ".." in folded.split("/") or any(part in (".", "") for part in folded.split("/")):
            return "a path without characters that fold into '.' or '..'"
    return None


def same_file_key(name: str) -> str:
    """The key two names share when a case-insensitive or normalising file system sees one file."""
    if name.isascii():
        return name.lower()
    return unicodedata.normalize("NFC", name).casefold()


def is_code_name(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(CODE_SUFFIXES) or bool(_SHARED_OBJECT.search(lower))


def is_pickle_name(name: str) -> bool:
    return name.lower().endswith(PICKLE_SUFFIXES)


def is_hidden(name: str) -> bool:
    """Dot files and ``__pycache__`` folders: tool clutter that no pack indexes or ships."""
    return any((part.startswith(".") and part not in (".", "..")) or part == "__pycache__" for part in name.split("/"))


def looks_like_pickle(data: bytes) -> bool:
    """A binary pickle (protocol 2 to 5) by its header, confirmed by disassembling it (without
    running it: pickletools only reads opcodes) to a STOP at the very end."""
    if len(data) < 3 or data[0] != 0x80 or data[1] not in (2, 3, 4, 5) or data[-1:] != b".":
        return False
    if data[1] >= 4 and data[2] != 0x95:  # protocol 4+ starts with a FRAME
        return False
    stream = io.BytesIO(data)
    try:
        for opcode, _arg, _pos in pickletools.genops(stream):
            if opcode.name == "STOP":
                return stream.tell() == len(data)
    except Exception:  # noqa: BLE001 - anything that is not a pickle stream
        return False
    return False


def looks_like_program(data: bytes) -> str | None:
    """The kind of program ``data`` starts like (ELF, PE, Mach-O, a script), or None."""
    if data[:4] == b"\x7fELF" and len(data) > 6 and data[4] in (1, 2) and data[5] in (1, 2) and data[6] == 1:
        return "an ELF program or library"
    if data[:2] == b"MZ" and len(data) >= 64:
        offset = int.from_bytes(data[60:64], "little")
        if data[offset:offset + 4] == b"PE\x00\x00":
            return "a Windows program or DLL"
    if data[:4] in (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",
                    b"\xca\xfe\xba\xbe"):
        return "a Mach-O program or Java class"
    if data[:2] == b"#!":
        return "a script (it starts with #!)"
    if data[:4] == b"\x00asm":
        return "a WebAssembly module"
    return None
