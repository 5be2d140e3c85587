// User mode: programs run, print, end, and cannot hurt the kernel with bad
// pointers, failed execs, heap requests or faults. Each test spawns test
// programs (user/t_*.c), runs them to the end, then checks with trusted code
// how they ended (test_exit records, zombies) and that no frame leaked.
#include <abi.h>
#include <string.h>
#include "harness.h"
#include "kprintf.h"
#include "userprog.h"

static int pids[2];
static int expected; // the code or status the test expects

// ---- user_hello: a program runs, prints one line and ends ------------------

static HARNESS_PASSES void hello_done(enum sched_stop why) {
    harness_check(why == SCHED_ALL_EXITED, "the scheduler stopped with a deadlock");
    userprog_check_test_exit(pids[0], expected);
    userprog_check_no_leak();
    kprintf("[test] user_hello: pid %d ran and ended with code %d, its memory freed\n", pids[0], expected);
    harness_pass();
}

HARNESS_TEST(user_hello, "code") {
    expected = (int)harness_param_u32("code", 42);
    char code[12];
    ksnprintf(code, sizeof code, "%d", expected);
    userprog_begin();
    pids[0] = userprog_spawn((char *[]){"t_hello", code, NULL});
    userprog_run(hello_done);
}

// ---- user_bad_pointers: every bad pointer gets -1 ---------------------------

static HARNESS_PASSES void bad_pointers_done(enum sched_stop why) {
    harness_check(why == SCHED_ALL_EXITED, "the scheduler stopped with a deadlock");
    userprog_check_test_exit(pids[0], 0); // the code counts the failed checks
    userprog_check_no_leak();
    kprintf("[test] user_bad_pointers: every call with a bad pointer returned -1\n");
    harness_pass();
}

HARNESS_TEST(user_bad_pointers, "") {
    userprog_begin();
    pids[0] = userprog_spawn((char *[]){"t_badptr", NULL});
    userprog_run(bad_pointers_done);
}

// ---- user_waitpid_bad_status: waitpid with a bad status pointer (labs 4-5) --

static HARNESS_PASSES void waitpid_done(enum sched_stop why) {
    harness_check(why == SCHED_ALL_EXITED, "the scheduler stopped with a deadlock");
    userprog_check_test_exit(pids[0], 0);
    userprog_check_no_leak();
    kprintf("[test] user_waitpid_bad_status: -1 for bad status pointers, then the child was reaped\n");
    harness_pass();
}

HARNESS_TEST(user_waitpid_bad_status, "") {
    userprog_begin();
    pids[0] = userprog_spawn((char *[]){"t_waitbad", NULL});
    userprog_run(waitpid_done);
}

// ---- user_exec: failed execs leave the caller; a good one replaces it ------

static HARNESS_PASSES void exec_done(enum sched_stop why) {
    harness_check(why == SCHED_ALL_EXITED, "the scheduler stopped with a deadlock");
    userprog_check_test_exit(pids[0], 7); // 100 + n when n checks failed
    userprog_check_no_leak();
    kprintf("[test] user_exec: bad execs failed, then pid %d became t_hello\n", pids[0]);
    harness_pass();
}

HARNESS_TEST(user_exec, "") {
    userprog_begin();
    pids[0] = userprog_spawn((char *[]){"t_exec", NULL});
    userprog_run(exec_done);
}

// ---- user_sbrk: the heap grows and shrinks, and refuses without leaking ----

static HARNESS_PASSES void sbrk_done(enum sched_stop why) {
    harness_check(why == SCHED_ALL_EXITED, "the scheduler stopped with a deadlock");
    userprog_check_test_exit(pids[0], 0);
    userprog_check_no_leak();
    kprintf("[test] user_sbrk: the heap grew, shrank and refused, with no leak\n");
    harness_pass();
}

HARNESS_TEST(user_sbrk, "") {
    userprog_begin();
    pids[0] = userprog_spawn((char *[]){"t_sbrk", NULL});
    userprog_run(sbrk_done);
}

// ---- user_fork: fork alone (lab 4), both processes end with test_exit -----

static HARNESS_PASSES void fork_done(enum sched_stop why) {
    harness_check(why == SCHED_ALL_EXITED, "the scheduler stopped with a deadlock");
    userprog_check_test_exit(pids[0], 1);     // the parent
    userprog_check_test_exit(pids[0] + 1, 2); // the child: the next pid
    userprog_check_no_leak();
    kprintf("[test] user_fork: parent %d and child %d both ran and ended\n", pids[0], pids[0] + 1);
    harness_pass();
}

HARNESS_TEST(user_fork, "") {
    userprog_begin();
    pids[0] = userprog_spawn((char *[]){"t_fork", NULL});
    userprog_run(fork_done);
}

// ---- user_fault: a faulting program is killed, another one finishes ------

static const struct {
    const char *name; // crash's argument
    int signal;
} faults[] = {{"null", SIGSEGV}, {"write", SIGSEGV}, {"kernel", SIGSEGV},
              {"ill", SIGILL},   {"div", SIGFPE},    {"stack", SIGSEGV}};

static HARNESS_PASSES void fault_done(enum sched_stop why) {
    harness_check(why == SCHED_ALL_EXITED, "the scheduler stopped with a deadlock");
    userprog_check_zombie(pids[0], W_SIGNALED(expected));
    userprog_check_test_exit(pids[1], 0);
    userprog_check_no_leak();
    kprintf("[test] user_fault: pid %d killed by signal %d, pid %d finished\n", pids[0], expected, pids[1]);
    harness_pass();
}

HARNESS_TEST(user_fault, "fault") {
    const char *fault = harness_param("fault");
    if (!fault)
        fault = "null";
    expected = 0;
    for (unsigned i = 0; i < sizeof faults / sizeof faults[0]; i++)
        if (strcmp(faults[i].name, fault) == 0)
            expected = faults[i].signal;
    harness_check(expected != 0, "fault=%s: expected one of null write kernel ill div stack", fault);
    userprog_begin();
    pids[0] = userprog_spawn((char *[]){"crash", (char *)fault, NULL});
    pids[1] = userprog_spawn((char *[]){"t_hello", "0", NULL});
    userprog_run(fault_done);
}
