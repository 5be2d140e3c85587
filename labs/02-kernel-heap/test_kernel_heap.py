"""Lab 2: kernel heap. The kernel side of each test is in checks.c."""

HEAP_BASE = 0xD0000000


def test_heap_alloc(boot):
    run = boot("heap_alloc", mem=boot.rng.choice([32, 50, 128]), pages=boot.rng.randrange(16, 600))
    run.expect_trace("heap_alloc.trace")


def test_heap_free(boot):
    pages = boot.rng.randrange(16, 300)
    victim = boot.rng.randrange(pages)
    run = boot("heap_free", pages=pages, victim=victim)
    run.expect_trace("heap_free.trace", page=hex(HEAP_BASE + victim * 4096))


def test_heap_exhaust(boot):
    run = boot("heap_exhaust", mem=32)
    run.expect_trace("heap_exhaust.trace")


def test_heap_shared(boot):
    run = boot("heap_shared", pages=boot.rng.randrange(1030, 1500))
    run.expect_trace("heap_shared.trace")
