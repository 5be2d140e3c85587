"""Lab 6: nprocs. The kernel side of the test is in checks.c; the program
it runs is user/nprocs.c."""


def test_nprocs(boot):
    extra = boot.rng.randrange(1, 8)
    run = boot("nprocs", extra=extra)
    run.expect_trace("nprocs.trace", count=extra + 1)
