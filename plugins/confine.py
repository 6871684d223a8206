"""How a sandboxed plugin's process confines itself before it runs any plugin code (Linux).

The child calls ``apply`` once, after its own imports and before it loads the plugin file. Every
step is a kernel mechanism that holds for the rest of the process's life; none can be undone by
the plugin:

* resource limits (``setrlimit``): CPU seconds (hard cap for the process; the soft limit is moved
  per call by the child, the kernel sends SIGXCPU at it), address space, open files, file size,
  no core files, no processes (``RLIMIT_NPROC`` 0);
* a fresh network namespace when the plugin has no network permission (only a loopback that is
  down: no TCP, UDP or abstract Unix socket reaches anything);
* Landlock (the kernel's unprivileged sandbox, Linux 5.13+): reading only below the folders in
  ``read``, writing only below those in ``write``, running no program, and (ABI 4+) no TCP bind
  or connect without the network permission; (ABI 6+) no signals to and no abstract Unix
  sockets of processes outside the sandbox;
* a seccomp filter refusing the system calls that make processes or threads (fork, vfork, clone,
  clone3), run programs (execve, execveat) and make Unix sockets: the kernel does not apply
  ``RLIMIT_NPROC`` to root (kernel/fork.c), and Landlock does not yet cover connecting to a
  Unix socket by its path (an X server's, Docker's);
* no capabilities left (``capset``), so a plugin started by root cannot raise its limits again.

Everything goes through ``ctypes`` and libc; no third-party package. Numbers are the kernel's
UAPI values (linux/landlock.h, linux/seccomp.h, linux/filter.h).
"""
from __future__ import annotations

import ctypes
import os
import platform
import resource
from dataclasses import dataclass, field

# -- Landlock (linux/landlock.h) ---------------------------------------------------------------
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_REMOVE_DIR, FS_REMOVE_FILE, FS_MAKE_CHAR, FS_MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
FS_MAKE_REG, FS_MAKE_SOCK, FS_MAKE_FIFO, FS_MAKE_BLOCK, FS_MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15  # ABI 2, 3, 5
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV  # rights a file rule may hold

# -- seccomp (linux/seccomp.h, linux/filter.h, linux/audit.h) -----------------------------------
PR_SET_PDEATHSIG, PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS = 1, 22, 38
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
BPF_LD_W_ABS, BPF_JEQ_K, BPF_JGE_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x06
EPERM, AF_UNIX, X32_SYSCALL_BIT = 1, 1, 0x40000000
# arch -> (audit arch, denied system calls, socket(2)'s number)
SYSCALLS = {
    "x86_64": (0xC000003E, {"clone": 56, "fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "clone3": 435}, 41),
    "aarch64": (0xC00000B7, {"clone": 220, "execve": 221, "execveat": 281, "clone3": 435}, 198),
}
CLONE_NEWNET, CLONE_NEWUSER = 0x40000000, 0x10000000

_libc = ctypes.CDLL(None, use_errno=True)


class ConfinementError(OSError):
    """A confinement step the kernel refused; the sandboxed plugin must not start."""


@dataclass(frozen=True)
class Confinement:
    """What a sandboxed plugin's process may use."""

    read: tuple[str, ...]  # folders (or files) it may read below
    write: tuple[str, ...] = ()  # folders it may read, write, create and delete files below
    network: bool = False  # TCP/UDP allowed (the network permission)
    cpu_seconds: int = 3600  # hard CPU cap for the whole process
    memory_bytes: int = 512 << 20  # address space
    open_files: int = 64
    file_size_bytes: int = 64 << 20


@dataclass
class Applied:
    """What ``apply`` managed to put in place; ``gaps`` names what this kernel could not restrict."""

    landlock_abi: int = 0
    net_namespace: bool = False
    seccomp: bool = False
    gaps: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"landlock_abi": self.landlock_abi, "net_namespace": self.net_namespace, "seccomp": self.seccomp,
                "gaps": list(self.gaps)}


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _syscall(number: int, *args: int | ctypes._Pointer | ctypes._CData) -> int:
    converted = [a if not isinstance(a, int) else ctypes.c_long(a) for a in args]
    return int(_libc.syscall(ctypes.c_long(number), *converted))


def _fail(what: str) -> ConfinementError:
    err = ctypes.get_errno()
    return ConfinementError(err, f"{what}: {os.strerror(err)}")


def landlock_abi() -> int:
    """The Landlock ABI version this kernel offers (0: none)."""
    version = _syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.c_void_p(None), 0, CREATE_RULESET_VERSION)
    return max(version, 0)


def _fs_rights(abi: int) -> int:
    rights = (1 << 13) - 1  # ABI 1: EXECUTE .. MAKE_SYM
    if abi >= 2:
        rights |= FS_REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    if abi >= 5:
        rights |= FS_IOCTL_DEV
    return rights


def _add_path_rule(ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a folder that does not exist grants nothing
    try:
        if not os.path.isdir(path):
            rights &= FILE_RIGHTS
        attr = _PathBeneathAttr(rights, fd)
        if _syscall(SYS_LANDLOCK_ADD_RULE, ruleset, RULE_PATH_BENEATH, ctypes.byref(attr), 0) != 0:
            raise _fail(f"landlock_add_rule({path})")
    finally:
        os.close(fd)


def _landlock(spec: Confinement, applied: Applied) -> None:
    abi = landlock_abi()
    if abi < 1:
        raise ConfinementError(0, "Landlock is not available (Linux 5.13+ with Landlock enabled is needed to "
                                  "sandbox a plugin; trust the plugin to run it in process instead)")
    handled = _fs_rights(abi)
    attr = _RulesetAttr(handled, 0, 0)
    size = 8
    if abi >= 4:
        size = 16
        if not spec.network:
            attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP  # handled and never allowed
    elif not spec.network:
        applied.gaps.append("TCP is not restricted by Landlock (ABI < 4)")
    if abi >= 6:
        size = 24
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
    else:
        applied.gaps.append("signals to processes of the same user are not scoped (Landlock ABI < 6)")
    ruleset = _syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        raise _fail("landlock_create_ruleset")
    try:
        read_rights = FS_READ_FILE | FS_READ_DIR
        write_rights = handled & ~(FS_EXECUTE | FS_MAKE_CHAR | FS_MAKE_BLOCK | FS_MAKE_SOCK | FS_MAKE_FIFO |
                                   FS_MAKE_SYM | FS_IOCTL_DEV)
        for path in spec.read:
            _add_path_rule(ruleset, path, read_rights)
        for path in spec.write:
            _add_path_rule(ruleset, path, write_rights)
        if _syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
            raise _fail("landlock_restrict_self")
    finally:
        os.close(ruleset)
    applied.landlock_abi = abi


def _net_namespace(applied: Applied) -> None:
    flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
    if _libc.unshare(ctypes.c_int(flags)) == 0:
        applied.net_namespace = True
    else:
        applied.gaps.append(f"no network namespace ({os.strerror(ctypes.get_errno())}): UDP is not blocked")


def _filter_program(arch: str) -> list[tuple[int, int, int, int]]:
    """The BPF program: refuse process creation, program execution and Unix sockets with EPERM.

    Rows are (code, jump if true, jump if false, k); jumps count the rows to skip."""
    audit_arch, denied, socket_nr = SYSCALLS[arch]
    checks = sorted(denied.values())
    n = len(checks)
    body = [(BPF_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
            (BPF_JGE_K, n + 4, 0, X32_SYSCALL_BIT)]  # x32 system calls: deny
    body += [(BPF_JEQ_K, n + 3 - i, 0, number) for i, number in enumerate(checks)]
    body += [(BPF_JEQ_K, 0, 2, socket_nr),  # not socket(2): allow
             (BPF_LD_W_ABS, 0, 0, 16),  # seccomp_data.args[0] (the address family), low 32 bits
             (BPF_JEQ_K, 1, 0, AF_UNIX),
             (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW)]
    return [(BPF_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
            (BPF_JEQ_K, 0, len(body), audit_arch),  # another arch (x86 compat calls): deny
            *body,
            (BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM)]


def _seccomp(applied: Applied) -> None:
    arch = platform.machine()
    if arch not in SYSCALLS:
        applied.gaps.append(f"no seccomp filter for {arch}: processes are limited by RLIMIT_NPROC alone")
        return
    program = _filter_program(arch)
    filters = (_SockFilter * len(program))(*[_SockFilter(*row) for row in program])
    prog = _SockFprog(len(program), filters)
    if _libc.prctl(PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(prog), 0, 0) != 0:
        raise _fail("prctl(PR_SET_SECCOMP)")
    applied.seccomp = True


def _drop_capabilities() -> None:
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    if _libc.capset(ctypes.byref(header), data) != 0:
        raise _fail("capset")


def set_cpu_soft_limit(seconds: float) -> None:
    """Let the kernel send SIGXCPU once the process has used ``seconds`` more CPU time (capped at
    the hard limit ``apply`` set)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    target = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (min(target, hard) if hard >= 0 else target, hard))


def apply(spec: Confinement) -> Applied:
    """Confine this process for good (see the module docstring); raises ConfinementError when a
    step the sandbox relies on is refused."""
    applied = Applied()
    _libc.prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(9), 0, 0, 0)  # die with the host (SIGKILL)
    if not spec.network:
        _net_namespace(applied)
    limits = [(resource.RLIMIT_CORE, 0), (resource.RLIMIT_NOFILE, spec.open_files),
              (resource.RLIMIT_FSIZE, spec.file_size_bytes), (resource.RLIMIT_AS, spec.memory_bytes),
              (resource.RLIMIT_NPROC, 0), (resource.RLIMIT_CPU, spec.cpu_seconds)]
    for which, value in limits:
        resource.setrlimit(which, (value, value))
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), 0, 0, 0) != 0:
        raise _fail("prctl(PR_SET_NO_NEW_PRIVS)")
    _landlock(spec, applied)
    _seccomp(applied)
    _drop_capabilities()
    if not spec.network and applied.landlock_abi < 4 and not applied.net_namespace:
        applied.gaps.append("network not blocked")
    return applied
