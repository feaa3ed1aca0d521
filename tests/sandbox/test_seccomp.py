"""The seccomp deny-list: the syscall numbers match the kernel headers, and the program is valid."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from palaestra.sandbox import seccomp

HEADERS = {
    "x86_64": Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
    "aarch64": Path("/usr/include/asm-generic/unistd.h"),
}


@pytest.mark.parametrize("machine", sorted(seccomp.DENIED_SYSCALLS))
def test_syscall_numbers_match_the_kernel_headers(machine):
    header = HEADERS[machine]
    if not header.exists():
        pytest.skip(f"no kernel headers for {machine} at {header}")
    text = header.read_text()
    for name, number in {
        **seccomp.DENIED_SYSCALLS[machine],
        "clone": seccomp.CLONE[machine],
    }.items():
        match = re.search(rf"#define __NR(?:3264)?_{name}\s+(\d+)", text)
        assert match, f"{name} is not in {header}"
        assert int(match.group(1)) == number, (machine, name)


@pytest.mark.parametrize("machine", sorted(seccomp.DENIED_SYSCALLS))
def test_program_is_well_formed(machine):
    program = seccomp.build_filter(machine)
    assert len(program) % 8 == 0
    instructions = [struct.unpack("=HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    last = len(instructions) - 1
    for index, (code, jt, jf, _) in enumerate(instructions):
        if code & 0x07 == 0x05:  # a jump stays inside the program
            assert index + 1 + jt <= last and index + 1 + jf <= last
    returns = [k for code, _, _, k in instructions if code == 0x06]
    assert 0x7FFF0000 in returns and (0x00050000 | 1) in returns
    assert instructions[1][3] == seccomp.AUDIT_ARCH[machine]


def test_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="no seccomp deny-list"):
        seccomp.build_filter("riscv64")
