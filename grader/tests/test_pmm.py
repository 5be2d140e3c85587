"""The frame allocator at 32 MiB, a size that is not a multiple of 4 MiB,
and 1 GiB. kernel/selftest/pmm.c does the trusted checks (zones, exhaustion,
fault injection); this test checks the counts it reports against the RAM
QEMU was given and the kernel image's end."""
from __future__ import annotations

import re
import subprocess

import pytest

from grader.qemu import Outcome

MIB = 1 << 20
PAGE = 4096


def kernel_end(kernel) -> int:
    nm = subprocess.run(["nm", str(kernel)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^([0-9a-f]+) \w _kernel_end$", nm, re.M)[1], 16)


@pytest.mark.parametrize("mem", [32, 37, 1024])
def test_pmm_zones_and_counts(boot_reference, reference_kernel, mem):
    result = boot_reference("pmm_zones", mem=mem, timeout=30)
    assert result.outcome is Outcome.PASS, result.message
    line = next(line for line in result.lines if line.startswith("pmm: "))
    m = re.match(r"pmm: (\d+) KiB above 1 MiB, RAM ends at (0x[0-9a-f]+), (\d+) frames free: (\d+) DMA, (\d+) NORMAL",
                 line)
    assert m, line
    kib, ram_end, free, dma, normal = int(m[1]), int(m[2], 16), int(m[3]), int(m[4]), int(m[5])
    ram = min(mem * MIB, 1024 * MIB)
    assert ram - MIB < ram_end <= ram
    assert (ram_end - 2 * MIB) // 1024 <= kib <= (ram - MIB) // 1024
    first_free = -(-kernel_end(reference_kernel) // PAGE) * PAGE
    assert dma == (16 * MIB - first_free) // PAGE, "every frame from the kernel's end to 16 MiB"
    assert normal == (ram_end - 16 * MIB) // PAGE, "every frame from 16 MiB to the end of RAM"
    assert free == dma + normal
