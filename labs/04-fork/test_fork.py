"""Lab 4: fork. The kernel side of each test is in checks.c; the programs it
runs are in user/. Processes end through test_exit (trusted code), never
through lab 5's exit or waitpid."""


def test_fork_return(boot):
    codes = [boot.rng.randrange(256) for _ in range(boot.rng.randrange(2, 7))]
    run = boot("fork_return", codes=",".join(map(str, codes)))
    run.expect_trace("fork_return.trace", children=len(codes), last=len(codes) - 1, code0=codes[0],
                     codelast=codes[-1])


def test_fork_memory(boot):
    run = boot("fork_memory", pages=boot.rng.randrange(1, 64))
    run.expect_trace("fork_memory.trace")


def test_fork_registers(boot):
    run = boot("fork_registers", forks=boot.rng.randrange(3, 13), yields=boot.rng.randrange(100, 300))
    run.expect_trace("fork_registers.trace")


def test_fork_table_full(boot):
    run = boot("fork_table_full", mem=boot.rng.choice([32, 64]))
    run.expect_trace("fork_table_full.trace", n=31)  # NPROC (kernel/process.h) - 1


def test_fork_out_of_memory(boot):
    run = boot("fork_out_of_memory", pages=boot.rng.randrange(1, 40))
    run.expect_trace("fork_out_of_memory.trace")
