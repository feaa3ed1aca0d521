"""A seccomp deny-list as a classic BPF program, for bubblewrap's ``--seccomp FD``.

Denied (the call fails with EPERM): debugging other processes (ptrace, process_vm_*), mounting
and namespace changes (mount, umount2, pivot_root, chroot, the new mount API, unshare, setns, and
clone with any CLONE_NEW* flag), kernel keyrings, bpf, perf_event_open, kexec, module loading,
reboot, swap, handle-based opens and userfaultfd. clone3 fails with ENOSYS so that libc falls back
to clone, whose flags a BPF filter can read. Syscalls of a foreign ABI (i386 or x32 on x86_64)
are denied outright. The numbers are checked against the kernel headers in the tests.
"""

from __future__ import annotations

import errno
import platform
import struct

__all__ = ["DENIED_SYSCALLS", "NAMESPACE_FLAGS", "build_filter", "supported"]

DENIED_SYSCALLS: dict[str, dict[str, int]] = {
    "x86_64": {
        "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
        "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
        "mount_setattr": 442, "move_mount": 429, "open_tree": 428, "fsopen": 430,
        "fsconfig": 431, "fsmount": 432, "fspick": 433, "unshare": 272, "setns": 308,
        "keyctl": 250, "add_key": 248, "request_key": 249, "bpf": 321, "perf_event_open": 298,
        "kexec_load": 246, "kexec_file_load": 320, "init_module": 175, "finit_module": 313,
        "delete_module": 176, "reboot": 169, "swapon": 167, "swapoff": 168, "acct": 163,
        "open_by_handle_at": 304, "name_to_handle_at": 303, "userfaultfd": 323,
        "iopl": 172, "ioperm": 173, "vhangup": 153, "quotactl": 179, "fanotify_init": 300,
    },
    "aarch64": {
        "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
        "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51,
        "mount_setattr": 442, "move_mount": 429, "open_tree": 428, "fsopen": 430,
        "fsconfig": 431, "fsmount": 432, "fspick": 433, "unshare": 97, "setns": 268,
        "keyctl": 219, "add_key": 217, "request_key": 218, "bpf": 280, "perf_event_open": 241,
        "kexec_load": 104, "kexec_file_load": 294, "init_module": 105, "finit_module": 273,
        "delete_module": 106, "reboot": 142, "swapon": 224, "swapoff": 225, "acct": 89,
        "open_by_handle_at": 265, "name_to_handle_at": 264, "userfaultfd": 282,
        "vhangup": 58, "quotactl": 60, "fanotify_init": 262,
    },
}  # fmt: skip
CLONE = {"x86_64": 56, "aarch64": 220}
CLONE3 = 435
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME
NAMESPACE_FLAGS = (
    0x00020000
    | 0x02000000
    | 0x04000000
    | 0x08000000
    | 0x10000000
    | 0x20000000
    | 0x40000000
    | 0x00000080
)
_X32_BIT = 0x40000000

_LD_W_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
_OFFSET_NR, _OFFSET_ARCH, _OFFSET_ARG0 = 0, 4, 16


def supported() -> bool:
    """True on the architectures the deny-list knows."""
    return platform.machine() in DENIED_SYSCALLS


def build_filter(machine: str | None = None) -> bytes:
    """The BPF program (``struct sock_filter[]``) for this machine's architecture."""
    machine = machine or platform.machine()
    if machine not in DENIED_SYSCALLS:
        raise ValueError(f"no seccomp deny-list for architecture {machine!r}")
    denied = sorted(DENIED_SYSCALLS[machine].values())
    # Layout: checks, then the shared tails [allow, deny(EPERM), deny(ENOSYS)].
    program: list[tuple[int, int, int, int]] = []
    jumps: list[tuple[int, str, str]] = []  # (index, true target, false target)

    def emit(code: int, k: int, on_true: str = "next", on_false: str = "next") -> None:
        if on_true != "next" or on_false != "next":
            jumps.append((len(program), on_true, on_false))
        program.append((code, 0, 0, k))

    emit(_LD_W_ABS, _OFFSET_ARCH)
    emit(_JEQ, AUDIT_ARCH[machine], on_false="eperm")
    emit(_LD_W_ABS, _OFFSET_NR)
    if machine == "x86_64":
        emit(_JGE, _X32_BIT, on_true="eperm")
    for number in denied:
        emit(_JEQ, number, on_true="eperm")
    emit(_JEQ, CLONE3, on_true="enosys")
    emit(_JEQ, CLONE[machine], on_false="allow")
    emit(_LD_W_ABS, _OFFSET_ARG0)  # the clone flags (low 32 bits, little endian)
    emit(_JSET, NAMESPACE_FLAGS, on_true="eperm")
    targets = {"allow": len(program), "eperm": len(program) + 1, "enosys": len(program) + 2}
    program += [
        (_RET, 0, 0, _ALLOW),
        (_RET, 0, 0, _ERRNO | errno.EPERM),
        (_RET, 0, 0, _ERRNO | errno.ENOSYS),
    ]
    for index, on_true, on_false in jumps:
        code, _, _, k = program[index]
        jt = 0 if on_true == "next" else targets[on_true] - index - 1
        jf = 0 if on_false == "next" else targets[on_false] - index - 1
        if not (0 <= jt <= 255 and 0 <= jf <= 255):
            raise ValueError("seccomp program too long for 8-bit jumps")
        program[index] = (code, jt, jf, k)
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in program)
