"""Lab 1: identity map. Each test boots the kernel once (grader/boot.py);
the kernel side of each test is in checks.c, next to this file."""
from grader.inspect import identity_map_problems

ODD_SIZES = [mb for mb in range(33, 1024) if mb % 4]  # in MiB
KERNEL_SPACE_GAP = (0xC0000000, 0xD0000000)  # mapped by nobody: free for tests


def boot_identity_map(boot, mem):
    inspect = identity_map_problems(mem)
    run = boot("identity_map", mem=mem, inspect=inspect)
    found = run.expect_trace("identity_map.trace")
    ram_end = int(found.bindings["ram_end"], 16)
    run.expect(mem * 2**20 - 2**20 < ram_end <= mem * 2**20,
               f"the kernel says RAM ends at {ram_end:#x}, but QEMU has {mem} MiB")


def test_identity_map_32m(boot):
    boot_identity_map(boot, 32)


def test_identity_map_odd(boot):
    boot_identity_map(boot, boot.rng.choice(ODD_SIZES))


def test_identity_map_1g(boot):
    boot_identity_map(boot, 1024)


TLB_PAGES = 8  # the TLB tests use this many pages from the one they are given (checks.c)


def random_page(boot):
    return boot.rng.randrange(KERNEL_SPACE_GAP[0], KERNEL_SPACE_GAP[1] - TLB_PAGES * 4096, 4096)


def test_translate(boot):
    unmapped = random_page(boot) + boot.rng.randrange(4096)
    run = boot("translate", mem=boot.rng.choice([32, 64, 100]), count=boot.rng.randrange(50, 200),
               unmapped=hex(unmapped))
    run.expect_trace("translate.trace")


def test_map_fresh(boot):
    run = boot("map_fresh", vaddr=hex(random_page(boot)), offset=hex(boot.rng.randrange(4096)))
    run.expect_trace("map_fresh.trace")


def test_map_user(boot):
    run = boot("map_user")
    run.expect_trace("map_user.trace")


def test_remap(boot):
    run = boot("remap", vaddr=hex(random_page(boot)))
    run.expect_trace("remap.trace")


def test_unmap(boot):
    run = boot("unmap", vaddr=hex(random_page(boot)))
    run.expect_trace("unmap.trace")
