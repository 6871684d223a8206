"""The sandbox: a plugin without a permission cannot read files outside its pack (a fake key the
test plants in a temporary home), reach the network (a 127.0.0.1 server the test runs) or start
processes, whether it asks through Python (the guard reports the line) or goes around it with
ctypes (the kernel refuses: Landlock and seccomp). Granted permissions work."""
from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import Callable, Iterator

import pytest

from plugins.host import PluginHost
from tests.plugin_helpers import PluginPack

PackFactory = Callable[..., PluginPack]
HostFactory = Callable[..., PluginHost]


def cli_plugin(body: str) -> str:
    """A plugin with one CLI command ``run`` whose body is ``body`` (indented, may use args)."""
    indented = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return (f"import ctypes, os, socket, struct, subprocess\n\n"
            f"def storm_cli_commands():\n    return [{{\"name\": \"run\"}}]\n\n"
            f"def storm_cli_run(command, args, plugin):\n{indented}\n")


@pytest.fixture
def fake_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private key in a temporary home folder (HOME points there for the test)."""
    home = tmp_path / "home"
    key = home / ".ssh" / "id_ed25519"
    key.parent.mkdir(parents=True)
    key.write_text("-----BEGIN FAKE PRIVATE KEY-----\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    return key


@pytest.fixture
def server() -> Iterator[socket.socket]:
    """A listening TCP socket on 127.0.0.1 that never blocks on accept."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    sock.setblocking(False)
    yield sock
    sock.close()


def no_connection(server: socket.socket) -> bool:
    try:
        conn, _ = server.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


def test_reading_a_file_outside_the_pack_stops_the_plugin_and_names_the_line(
        plugin_pack: PackFactory, make_host: HostFactory, fake_key: Path) -> None:
    spy = plugin_pack("spy", cli_plugin(f"""
with open({str(fake_key)!r}) as f:  # STEAL
    return f.read()
"""))
    host = make_host(spy)
    code, text = host.engine.run_cli("spy:run", [])
    failure = host.failures[0]
    assert code == 1 and "FAKE PRIVATE KEY" not in text
    assert (failure.kind, failure.line, failure.file) == ("file", spy.line_of("# STEAL"), str(spy.entry.resolve()))
    assert f"tried to read '{fake_key}', outside its pack and its files folder" in text


def test_the_kernel_refuses_the_file_even_when_the_plugin_goes_around_python(
        plugin_pack: PackFactory, make_host: HostFactory, fake_key: Path) -> None:
    sneaky = plugin_pack("sneaky", cli_plugin(f"""
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.open({str(fake_key).encode()!r}, os.O_RDONLY)
error = ctypes.get_errno()
mine = libc.open(os.path.join(os.path.dirname(__file__), "..", "pack.toml").encode(), os.O_RDONLY)
return f"key: {{fd}} {{error}}, own pack: {{mine >= 0}}"
"""))
    host = make_host(sneaky)
    assert host.engine.run_cli("sneaky:run", []) == (0, f"key: -1 {errno.EACCES}, own pack: True")
    assert host.failures == []


def test_a_plugin_reads_its_own_pack_and_writes_only_its_files_folder(
        plugin_pack: PackFactory, make_host: HostFactory, fake_key: Path, tmp_path: Path) -> None:
    keeper = plugin_pack("keeper", cli_plugin("""
here = os.path.dirname(__file__)
with open(os.path.join(here, "..", "pack.toml")) as f:
    manifest = f.read()
with open(os.path.join(plugin.data_folder, "score.txt"), "w") as f:
    f.write("42")
return manifest.splitlines()[0]
"""), permissions={"files": {"folder": "saves", "reason": "keeps the high score"}})
    host = make_host(keeper)
    assert host.engine.run_cli("keeper:run", []) == (0, 'id = "keeper"')
    assert (tmp_path / "pack-data" / "keeper" / "saves" / "score.txt").read_text() == "42"
    keeper.write_code(cli_plugin(f"""
open({str(fake_key)!r}).read()  # STILL
"""))
    host.reload_changed()
    assert host.engine.run_cli("keeper:run", [])[0] == 1
    assert host.failures[-1].kind == "file" and host.failures[-1].line == keeper.line_of("# STILL")


CONNECT = """
s = socket.create_connection(("127.0.0.1", int(args[0])), timeout=10)  # CONNECT
s.sendall(b"hello from the plugin")
s.close()
return "sent"
"""


def test_a_socket_without_the_network_permission_stops_the_plugin(
        plugin_pack: PackFactory, make_host: HostFactory, server: socket.socket) -> None:
    offline = plugin_pack("offline", cli_plugin(CONNECT))
    host = make_host(offline)
    code, text = host.engine.run_cli("offline:run", [str(server.getsockname()[1])])
    assert code == 1 and "without the network permission" in text
    assert (host.failures[0].kind, host.failures[0].line) == ("network", offline.line_of("# CONNECT"))
    assert no_connection(server)


def test_the_kernel_refuses_tcp_without_the_permission_even_around_python(
        plugin_pack: PackFactory, make_host: HostFactory, server: socket.socket) -> None:
    raw = plugin_pack("raw", cli_plugin("""
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
address = struct.pack("<H", socket.AF_INET) + struct.pack(">H", int(args[0])) + bytes([127, 0, 0, 1]) + bytes(8)
result = libc.connect(fd, address, len(address))
return f"{result} {errno_name(ctypes.get_errno())}"
""").replace("import ctypes", "from errno import errorcode\nerrno_name = errorcode.get\nimport ctypes"))
    host = make_host(raw)
    code, text = host.engine.run_cli("raw:run", [str(server.getsockname()[1])])
    assert code == 0 and text in ("-1 EACCES", "-1 ENETUNREACH")
    assert no_connection(server)


def test_with_the_network_permission_the_connection_goes_through(
        plugin_pack: PackFactory, make_host: HostFactory, server: socket.socket) -> None:
    online = plugin_pack("online", cli_plugin(CONNECT), permissions={"network": "talks to the match server"})
    host = make_host(online)
    assert host.engine.run_cli("online:run", [str(server.getsockname()[1])]) == (0, "sent")
    server.settimeout(10)  # the connection is complete already; this only keeps a broken test from hanging
    conn, _ = server.accept()
    with conn:
        assert conn.recv(100) == b"hello from the plugin"


def test_a_plugin_cannot_start_a_process(plugin_pack: PackFactory, make_host: HostFactory, tmp_path: Path) -> None:
    marker = tmp_path / "spawned"
    spawner = plugin_pack("spawner", cli_plugin(f"""
subprocess.run(["/bin/sh", "-c", "touch {marker}"])  # SPAWN
"""))
    forker = plugin_pack("forker", cli_plugin("""
libc = ctypes.CDLL(None, use_errno=True)
pid = libc.fork()
if pid == 0:
    libc._exit(0)
return f"{pid} {ctypes.get_errno()}"
"""))
    host = make_host(spawner, forker)
    assert host.engine.run_cli("spawner:run", [])[0] == 1
    assert (host.failures[0].kind, host.failures[0].line) == ("process", spawner.line_of("# SPAWN"))
    assert host.engine.run_cli("forker:run", []) == (0, f"-1 {errno.EPERM}")
    assert not marker.exists()


def test_each_sandboxed_plugin_reports_how_it_is_confined(plugin_pack: PackFactory, make_host: HostFactory) -> None:
    quiet = plugin_pack("quiet", "")
    host = make_host(quiet)
    row = host.status()[0]
    assert row["status"] == "running" and row["pid"] > 0 and not row["trusted"]
    assert row["confinement"]["landlock_abi"] >= 4 and row["confinement"]["seccomp"] is True
