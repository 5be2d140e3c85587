"""Lab 5: exit and waitpid. The kernel side of each test is in checks.c; the
programs it runs are in user/ (and user/ at the top for the shell test)."""

FAULTS = {"null": 11, "write": 11, "kernel": 11, "ill": 4, "div": 8}  # crash's faults, signals (abi.h)


def test_wait_blocks(boot):
    run = boot("wait_blocks", ticks=boot.rng.randrange(5, 15), code=boot.rng.randrange(256))
    run.expect_trace("wait_blocks.trace")


def test_wait_any_order(boot):
    n = boot.rng.randrange(2, 7)
    codes = [boot.rng.randrange(256) for _ in range(n)]
    delays = [boot.rng.randrange(6) for _ in range(n)]
    order = boot.rng.sample(range(n), boot.rng.randrange(1, n))  # by pid; the others with -1
    run = boot("wait_any_order", codes=",".join(map(str, codes)), delays=",".join(map(str, delays)),
               order=",".join(map(str, order)))
    run.expect_trace("wait_any_order.trace", children=n, bypid=len(order), code0=codes[0],
                     first=order[0], codefirst=codes[order[0]])


def test_wait_errors(boot):
    run = boot("wait_errors", ticks=boot.rng.randrange(5, 15))
    run.expect_trace("wait_errors.trace")


def test_wait_bad_status(boot):
    run = boot("wait_bad_status", code=boot.rng.randrange(256))
    run.expect_trace("wait_bad_status.trace")


def test_wait_nohang(boot):
    run = boot("wait_nohang", ticks=boot.rng.randrange(3, 10), code=boot.rng.randrange(256))
    run.expect_trace("wait_nohang.trace")


def test_wait_scan(boot):
    run = boot("wait_scan")
    run.expect_trace("wait_scan.trace", n=31)  # NPROC (kernel/process.h) - 1


def test_wait_orphans(boot):
    early, late = boot.rng.randrange(1, 5), boot.rng.randrange(1, 5)
    run = boot("wait_orphans", early=early, late=late)
    run.expect_trace("wait_orphans.trace", orphans=early + late, reaped=1 + early + late, late_count=late)


def test_wait_zombie(boot):
    run = boot("wait_zombie", pages=boot.rng.randrange(1, 64), code1=boot.rng.randrange(256),
               code2=boot.rng.randrange(256))
    run.expect_trace("wait_zombie.trace")


def test_wait_cycles(boot):
    run = boot("wait_cycles", cycles=200)
    run.expect_trace("wait_cycles.trace")


def test_wait_killed(boot):
    fault = boot.rng.choice(sorted(FAULTS))
    run = boot("wait_killed", fault=fault, signal=FAULTS[fault], code=boot.rng.randrange(256))
    run.expect_trace("wait_killed.trace")


def test_shell(boot):
    # Each pair: when a line matching the pattern appears, type the bytes.
    script = ((r"sh: type help", b"forktest\n"),
              (r"forktest: (OK|FAILED)", b"hello\n"),
              (r"hello, world", b"shutdown\n"))
    run = boot("shell", script=script)
    run.expect_trace("shell.trace")
