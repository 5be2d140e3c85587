// Scheduling seen from user mode: concurrent output never tears a line, and
// a process blocked in read or sleep gets no CPU until it is woken.
#include <stdbool.h>
#include <string.h>
#include "console.h"
#include "harness.h"
#include "kprintf.h"
#include "proc.h"
#include "sysio.h"
#include "systest.h"
#include "timer.h"
#include "userprog.h"

// ---- user_lines: two processes print many lines, each written whole -------

static struct {
    int pid;
    uint32_t lines; // lines it wrote so far
} writers[2];
static uint32_t line_count;
static int last_writer = -1;
static uint32_t switches; // times the output went from one writer to the other

// Sees every write: one from a writer must be exactly its next line.
static void check_line(struct process *p, const char *buf, uint32_t n) {
    int w = p->pid == writers[0].pid ? 0 : p->pid == writers[1].pid ? 1 : -1;
    if (w < 0)
        return;
    char line[128];
    uint32_t number = ++writers[w].lines;
    ksnprintf(line, sizeof line, "t_lines %c: line %u of %u from pid %d, the quick brown fox jumps over the lazy dog\n",
              'A' + w, number, line_count, p->pid);
    harness_check(n == strlen(line) && memcmp(buf, line, n) == 0,
                  "write %u of pid %d (%u bytes) is not exactly its line %u", number, p->pid, n, number);
    switches += last_writer >= 0 && last_writer != w;
    last_writer = w;
}

static HARNESS_PASSES void lines_done(enum sched_stop why) {
    harness_check(why == SCHED_ALL_EXITED, "the scheduler stopped with a deadlock");
    for (int w = 0; w < 2; w++) {
        userprog_check_test_exit(writers[w].pid, 0);
        harness_check(writers[w].lines == line_count, "pid %d wrote %u lines, expected %u", writers[w].pid,
                      writers[w].lines, line_count);
    }
    harness_check(switches > 0, "the two processes never took turns");
    userprog_check_no_leak();
    kprintf("[test] user_lines: 2 x %u lines, each written whole; the output switched writer %u times\n", line_count,
            switches);
    harness_pass();
}

HARNESS_TEST(user_lines, "lines every") {
    line_count = harness_param_u32("lines", 100);
    uint32_t every = harness_param_u32("every", 3);
    harness_check(line_count > every && every > 0, "needs lines > every > 0");
    char count[12], yield[12];
    ksnprintf(count, sizeof count, "%u", line_count);
    ksnprintf(yield, sizeof yield, "%u", every);
    userprog_begin();
    sysio_set_write_tap(check_line);
    writers[0].pid = userprog_spawn((char *[]){"t_lines", "A", count, yield, NULL});
    writers[1].pid = userprog_spawn((char *[]){"t_lines", "B", count, yield, NULL});
    userprog_run(lines_done);
}

// ---- user_blocking: blocked in read or sleep, a process uses no CPU --------

#define INPUT "kestrel\n"
#define QUIET_TICKS 10 // how long the reader stays blocked alone before input

static int reader, sleeper;
static uint32_t sleep_ticks;
static enum { STARTING, BOTH_BLOCKED, READER_ALONE, INPUT_SENT } phase;
static uint32_t reader_runs, dispatches, since, idle_wakes;

static bool blocked_on(struct process *p, enum block_reason reason) {
    return p && p->state == PROC_BLOCKED && p->blocked_on == reason;
}

// While a process stays blocked, neither it nor anything else is dispatched.
static void check_nothing_ran(void) {
    harness_check(process_find(reader)->runs == reader_runs, "the reader ran while blocked in read");
    harness_check(sched_dispatch_count() == dispatches, "processes were dispatched while all were blocked");
    idle_wakes++;
}

static void enter(int next) {
    phase = next;
    reader_runs = process_find(reader)->runs;
    dispatches = sched_dispatch_count();
    since = timer_ticks();
}

// Runs each time the idle loop wakes up.
static void watch_idle(void) {
    struct process *s = process_find(sleeper);
    if (phase == STARTING && blocked_on(process_find(reader), BLOCK_READ) && blocked_on(s, BLOCK_SLEEP)) {
        enter(BOTH_BLOCKED);
    } else if (phase == BOTH_BLOCKED && blocked_on(s, BLOCK_SLEEP)) {
        check_nothing_ran();
    } else if (phase == BOTH_BLOCKED && test_exit_find(sleeper)) {
        enter(READER_ALONE);
    } else if (phase == READER_ALONE) {
        check_nothing_ran();
        if (timer_ticks() - since >= QUIET_TICKS) {
            phase = INPUT_SENT;
            kprintf("[test] typing a line after %u idle wake-ups\n", idle_wakes);
            for (const char *c = INPUT; *c; c++)
                console_input(*c);
        }
    }
}

static HARNESS_PASSES void blocking_done(enum sched_stop why) {
    harness_check(why == SCHED_ALL_EXITED, "the scheduler stopped with a deadlock");
    harness_check(phase == INPUT_SENT, "the test never saw both processes blocked (phase %d)", phase);
    userprog_check_test_exit(sleeper, 0);
    userprog_check_test_exit(reader, (int)strlen(INPUT));
    harness_check(idle_wakes >= sleep_ticks / 2, "only %u idle wake-ups during %u ticks of sleep", idle_wakes,
                  sleep_ticks);
    userprog_check_no_leak();
    kprintf("[test] user_blocking: blocked processes were never dispatched; the CPU idled (%u wake-ups)\n",
            idle_wakes);
    harness_pass();
}

HARNESS_TEST(user_blocking, "ticks") {
    sleep_ticks = harness_param_u32("ticks", 30);
    char ticks[12];
    ksnprintf(ticks, sizeof ticks, "%u", sleep_ticks);
    userprog_begin();
    sched_set_idle_hook(watch_idle);
    reader = userprog_spawn((char *[]){"t_read", NULL});
    sleeper = userprog_spawn((char *[]){"t_sleep", ticks, NULL});
    userprog_run(blocking_done);
}
