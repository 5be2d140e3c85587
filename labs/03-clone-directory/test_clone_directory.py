"""Lab 3: clone directory. The kernel side of each test is in checks.c."""


def test_clone_kernel(boot):
    run = boot("clone_kernel", mem=boot.rng.choice([32, 64, 1024]))
    run.expect_trace("clone_kernel.trace")


def test_clone_deep_copy(boot):
    run = boot("clone_deep_copy", pages=boot.rng.randrange(20, 200))
    run.expect_trace("clone_deep_copy.trace")


def test_clone_out_of_memory(boot):
    run = boot("clone_out_of_memory", pages=boot.rng.randrange(8, 40))
    run.expect_trace("clone_out_of_memory.trace")
