// Lab 5 checks: exit and waitpid. The test programs (labs/05-waitpid/user/)
// fork, exit and wait; the one each test starts ends through test_exit.
// Trusted code sees every line they write (the write tap) and checks the
// process table at that moment: who is blocked, who ran, who is a zombie,
// whose parent is who. A line in which a program reports a FAIL ends the
// test at once, with that line. The watch (watch.h) checks every waitpid
// that blocks and every exit as it happens. When all is over, nothing may
// have leaked.
#include <abi.h>
#include <stdbool.h>
#include <string.h>
#include "harness.h"
#include "kprintf.h"
#include "memmap.h"
#include "pmm.h"
#include "syscall.h"
#include "systest.h"
#include "watch.h"

// ---- wait_blocks: the parent sleeps in waitpid, no spinning ----------------

static struct {
    int child;            // its pid, once it printed
    uint32_t runs_before; // the parent's runs when the child started working
    int seen_blocked;     // child lines seen while the parent was blocked in waitpid
    uint32_t runs, dispatches;
} wb;

static void blocks_child_line(struct process *child, const struct userprog_line *l) {
    struct process *parent = process_find(watch_top);
    if (!wb.child) {
        wb.child = child->pid;
        wb.runs_before = parent ? parent->runs : 0;
    }
    if (userprog_line_contains(l, " exits with ")) {
        harness_check(wb.seen_blocked > 0, "pid %d was never blocked in waitpid while its child ran (it was %s at "
                      "each of the child's lines, and was dispatched %u times meanwhile): without WNOHANG, waitpid "
                      "must block (process_block) until a child exits, not return or poll", watch_top,
                      watch_state_of(watch_top), parent ? parent->runs - wb.runs_before : 0);
        return;
    }
    if (!watch_in_waitpid(parent)) {
        harness_check(wb.seen_blocked == 0, "pid %d left waitpid (it is %s) while its child pid %d still runs",
                      watch_top, watch_state_of(watch_top), child->pid);
        return;
    }
    if (wb.seen_blocked++ == 0) {
        wb.runs = parent->runs;
        wb.dispatches = sched_dispatch_count();
        return;
    }
    harness_check(parent->runs == wb.runs, "pid %d was dispatched %u times while blocked in waitpid, its child "
                  "still running: a process blocked in waitpid must not run until a child exits (no spinning)",
                  watch_top, parent->runs - wb.runs);
    harness_check(sched_dispatch_count() == wb.dispatches, "processes were dispatched %u times while pid %d waited "
                  "in waitpid and only its child could run: waitpid must block, not re-schedule the caller", 
                  sched_dispatch_count() - wb.dispatches, watch_top);
}

static void blocks_tap(struct process *p, const struct userprog_line *l) {
    if (p->pid != watch_top) {
        blocks_child_line(p, l);
        return;
    }
    if (userprog_line_contains(l, "waitpid")) { // it returned: the child must have exited
        PROCESS_FOREACH(c) {
            harness_check(c->parent != p || c->state == PROC_ZOMBIE, "waitpid returned while the child, pid %d, was "
                          "still %s: without WNOHANG it must block until a child exits (process_block), then return "
                          "that child's pid", c->pid, process_state_name(c->state));
        }
    }
}

static HARNESS_PASSES void blocks_done(enum sched_stop why) {
    watch_finished(why);
    harness_check(wb.seen_blocked >= 2, "the parent was blocked in waitpid at only %d of its child's lines",
                  wb.seen_blocked);
    kprintf("[test] wait_blocks: pid %d stayed blocked in waitpid at %d of its child's lines, never dispatched "
            "meanwhile\n", watch_top, wb.seen_blocked);
    harness_pass();
}

HARNESS_TEST(wait_blocks, "ticks code") {
    watch_begin(blocks_tap, NULL);
    watch_spawn("wait_block %u %u", harness_param_u32("ticks", 10), harness_param_u32("code", 7));
    userprog_run(blocks_done);
}

// ---- wait_any_order: children reaped by pid or -1, each with its code ------

static void order_tap(struct process *p, const struct userprog_line *l) {
    if (p->pid == watch_top && userprog_line_starts(l, "wait_order: reaped child ") && l->count >= 2)
        watch_check_reaped(l->num[1]);
}

static HARNESS_PASSES void order_done(enum sched_stop why) {
    watch_finished(why);
    userprog_check_table_empty();
    kprintf("[test] wait_any_order: every child reaped once, its slot freed, nothing leaked\n");
    harness_pass();
}

HARNESS_TEST(wait_any_order, "codes delays order") {
    const char *codes = harness_param("codes"), *delays = harness_param("delays"), *order = harness_param("order");
    uint32_t list[12];
    int children = userprog_parse_list("codes", codes ? codes : "1,2,3", list, 12);
    harness_check(userprog_parse_list("delays", delays ? delays : "0,0,0", list, 12) == children,
                  "delays= needs one number per child");
    int by_pid = userprog_parse_list("order", order ? order : "1", list, 12);
    for (int i = 0; i < by_pid; i++)
        harness_check(list[i] < (uint32_t)children, "order=: child %u does not exist", list[i]);
    char line[128];
    ksnprintf(line, sizeof line, "wait_order %s %s %s", codes ? codes : "1,2,3", delays ? delays : "0,0,0",
              order ? order : "1");
    watch_begin(order_tap, NULL);
    watch_spawn("%s", line);
    userprog_run(order_done);
}

// ---- wait_errors: -1 for what is not a child -------------------------------

static int bystander;

static HARNESS_PASSES void errors_done(enum sched_stop why) {
    watch_finished(why);
    userprog_check_test_exit(bystander, 0);
    kprintf("[test] wait_errors: waitpid returned -1 for every pid that is not a child\n");
    harness_pass();
}

HARNESS_TEST(wait_errors, "ticks") {
    watch_begin(NULL, NULL);
    watch_spawn("wait_errors %u", 2); // the bystander is pid 2
    char line[32];
    ksnprintf(line, sizeof line, "t_sleep %u", harness_param_u32("ticks", 20));
    bystander = userprog_spawn_line(line);
    harness_check(bystander == 2, "the bystander is pid %d, expected 2", bystander);
    userprog_run(errors_done);
}

// ---- wait_nohang: 0 while the child runs, then its pid ---------------------

static bool nohang_seen;

static void nohang_tap(struct process *p, const struct userprog_line *l) {
    if (p->pid == watch_top && userprog_line_contains(l, "returned 0 while child ") && l->count == 3) {
        int pid = l->num[2];
        struct process *child = process_find(pid);
        harness_check(child && child->state != PROC_ZOMBIE, "waitpid(WNOHANG) returned 0, but child %d is %s", pid,
                      watch_state_of(pid));
        nohang_seen = true;
    }
}

static HARNESS_PASSES void nohang_done(enum sched_stop why) {
    watch_finished(why);
    harness_check(nohang_seen, "the parent never reported waitpid(WNOHANG) returning 0");
    kprintf("[test] wait_nohang: WNOHANG returned 0 while the child ran, then its pid\n");
    harness_pass();
}

HARNESS_TEST(wait_nohang, "ticks code") {
    watch_begin(nohang_tap, NULL);
    watch_spawn("wait_nohang %u %u", harness_param_u32("ticks", 5), harness_param_u32("code", 9));
    userprog_run(nohang_done);
}

// ---- wait_orphans: init inherits the children of a process that exits ------

static int late_seen;

static void orphans_tap(struct process *p, const struct userprog_line *l) {
    if (!userprog_line_contains(l, " sees its parent is now "))
        return;
    struct process *init = process_init_proc();
    harness_check(p->parent == init && init, "pid %d's parent exited, but pid %d was not handed to init: its parent "
                  "is %s%d%s", p->pid, p->pid, p->parent ? "pid " : "", p->parent ? p->parent->pid : 0,
                  p->parent && p->parent->state == PROC_UNUSED ? " (a free slot)" : p->parent ? "" : " (none)");
    late_seen++;
}

static HARNESS_PASSES void orphans_done(enum sched_stop why) {
    watch_finished(why);
    userprog_check_table_empty();
    harness_check(late_seen > 0, "no orphan reported its new parent");
    kprintf("[test] wait_orphans: %d orphans handed to init while alive, the others as zombies; init reaped them "
            "all\n", late_seen);
    harness_pass();
}

HARNESS_TEST(wait_orphans, "early late") {
    watch_begin(orphans_tap, NULL);
    int top = watch_spawn("wait_orphan %u %u", harness_param_u32("early", 2), harness_param_u32("late", 2));
    harness_check(top == 1, "the test program is pid %d: it must be pid 1, init", top);
    userprog_run(orphans_done);
}

// ---- wait_cycles: many fork/exit/waitpid cycles leak nothing ---------------

static uint32_t cycle_frames;
static int cycle_slots, cycles_checked;

static void cycles_tap(struct process *p, const struct userprog_line *l) {
    if (p->pid != watch_top)
        return;
    if (userprog_line_contains(l, "warm-up cycle done")) {
        cycle_frames = pmm_free_count();
        cycle_slots = userprog_slots_in_use();
    } else if (userprog_line_starts(l, "wait_cycles: ") && l->count == 1) {
        int slots = userprog_slots_in_use();
        uint32_t now = pmm_free_count();
        if (now != cycle_frames)
            memmap_report(watch_top); // the report draws the map, the leaked frames marked
        harness_check(slots == cycle_slots, "after %d cycles %d process slots are in use, %d after the first: the "
                      "children stay zombies (waitpid must free the slot it reaps, process_free)", l->num[0], slots,
                      cycle_slots);
        harness_check(now == cycle_frames, "after %d cycles %u frames are free, %u after the first: %d frames "
                      "leaked (does exit free the address space?)", l->num[0], now, cycle_frames,
                      (int)(cycle_frames - now));
        cycles_checked = l->num[0];
    }
}

static HARNESS_PASSES void cycles_done(enum sched_stop why) {
    watch_finished(why);
    userprog_check_table_empty();
    kprintf("[test] wait_cycles: after %d cycles the free frames and the process table are as after the first\n",
            cycles_checked);
    harness_pass();
}

HARNESS_TEST(wait_cycles, "cycles") {
    watch_begin(cycles_tap, NULL);
    watch_spawn("wait_cycles %u", harness_param_u32("cycles", 200));
    userprog_run(cycles_done);
}

// ---- wait_killed: a faulting child is reported killed ----------------------

static HARNESS_PASSES void killed_done(enum sched_stop why) {
    watch_finished(why);
    kprintf("[test] wait_killed: the status said killed by a signal for one child, exited for the other\n");
    harness_pass();
}

HARNESS_TEST(wait_killed, "fault signal code") {
    const char *fault = harness_param("fault");
    char line[96];
    ksnprintf(line, sizeof line, "wait_killed %s %u %u", fault ? fault : "null", harness_param_u32("signal", SIGSEGV),
              harness_param_u32("code", 5));
    watch_begin(NULL, NULL);
    watch_spawn("%s", line);
    userprog_run(killed_done);
}

// ---- shell: init, the shell, and a session typed on the serial line --------

static uint32_t shell_frames;
static bool shell_prompted, forktest_ok, hello_ran;

static void shell_tap(struct process *p, const struct userprog_line *l) {
    if (!shell_prompted && strcmp(p->name, "sh") == 0 && strcmp(l->text, "$ ") == 0) {
        shell_prompted = true; // init and the shell are up: what the session must come back to
        shell_frames = pmm_free_count();
    }
    forktest_ok |= strcmp(p->name, "forktest") == 0 && strcmp(l->text, "forktest: OK") == 0;
    hello_ran |= strcmp(p->name, "hello") == 0 && userprog_line_starts(l, "hello, world");
}

// The shutdown builtin: the session is over.
static HARNESS_PASSES void shell_shutdown(void) {
    harness_check(shell_prompted && forktest_ok && hello_ran, "shutdown before the session ran forktest (%s) and "
                  "hello (%s)", forktest_ok ? "OK" : "not OK", hello_ran ? "ran" : "did not run");
    PROCESS_FOREACH(p) {
        harness_check(p->state != PROC_ZOMBIE, "pid %d (%s) is a zombie at the end of the session: nobody reaped it",
                      p->pid, p->name);
    }
    harness_check(userprog_slots_in_use() == 2 && watch_in_waitpid(process_find(watch_top)), "at the end of the "
                  "session, %d processes are left (expected init, blocked in waitpid, and the shell); init is %s",
                  userprog_slots_in_use(), watch_state_of(watch_top));
    uint32_t now = pmm_free_count();
    harness_check(now == shell_frames, "after forktest and hello %u frames are free, %u at the first prompt: %d "
                  "leaked", now, shell_frames, (int)(shell_frames - now));
    kprintf("[test] shell: forktest and hello ran; init and the shell are all that is left, no frame leaked\n");
    harness_pass();
}

static void shell_stopped(enum sched_stop why) {
    if (why == SCHED_DEADLOCK)
        watch_explain_deadlock();
    harness_fail("every process ended, init included");
}

HARNESS_TEST(shell, "") {
    watch_begin(shell_tap, NULL);
    sys_set_shutdown_hook(shell_shutdown);
    watch_spawn("init"); // as the kernel starts it without a test (kernel/main.c)
    userprog_run(shell_stopped);
}
