"""Personas encrypted at rest with a user's key: AES-256-GCM (``cryptography``), the key derived
from the user's passphrase with scrypt and a per-file salt. The envelope is JSON so a pack can
carry it like any other file; GCM's tag means a changed file is refused, not misread."""
from __future__ import annotations

import base64
import json
import os
from typing import Any

from engine.core.errors import DataError

FORMAT = "storm_persona_encrypted"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def _key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def encrypt_persona(data: dict[str, Any], passphrase: str) -> dict[str, Any]:
    """The envelope holding ``data`` (a persona's JSON object) encrypted with ``passphrase``."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not passphrase:
        raise ValueError("an encryption key (passphrase) is needed")
    salt, nonce = os.urandom(16), os.urandom(12)
    plain = json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")
    sealed = AESGCM(_key(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)).encrypt(nonce, plain, FORMAT.encode())
    return {FORMAT: 1, "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                               "salt": base64.b64encode(salt).decode()},
            "cipher": "AES-256-GCM", "nonce": base64.b64encode(nonce).decode(),
            "data": base64.b64encode(sealed).decode()}


def is_encrypted(data: Any) -> bool:
    return isinstance(data, dict) and FORMAT in data


def decrypt_persona(envelope: dict[str, Any], passphrase: str | None, source: str) -> Any:
    """The persona data inside an envelope; DataError naming ``source`` when there is no key, the
    key is wrong, or the file was changed."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not passphrase:
        raise DataError(source, "", "a key to decrypt this encrypted persona (settings persona_key or "
                                    "STORM_PERSONA_KEY)")
    try:
        kdf = envelope["kdf"]
        if envelope[FORMAT] != 1 or kdf["name"] != "scrypt" or envelope.get("cipher") != "AES-256-GCM":
            raise ValueError("unknown format")
        n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
        if not (2 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16):
            raise ValueError("scrypt parameters out of range")
        salt = base64.b64decode(kdf["salt"], validate=True)
        nonce = base64.b64decode(envelope["nonce"], validate=True)
        sealed = base64.b64decode(envelope["data"], validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(source, "", f"an encrypted persona envelope ({exc})") from None
    try:
        plain = AESGCM(_key(passphrase, salt, n, r, p)).decrypt(nonce, sealed, FORMAT.encode())
    except (InvalidTag, ValueError):
        raise DataError(source, "data", "data that decrypts with the key given (the key is wrong, or the file "
                                        "was changed)") from None
    try:
        return json.loads(plain.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(source, "data", f"a JSON persona inside ({exc})") from None
