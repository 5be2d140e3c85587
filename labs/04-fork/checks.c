// Lab 4 checks: fork. The test programs (labs/04-fork/user/) fork and end
// through test_exit, trusted code, so these tests need lab 4 only (never
// process_exit or waitpid). Trusted code sees every line a program writes
// (the write tap) and checks the kernel's state at that moment: the process
// table, both address spaces (ptwalk), the free frames. No program faults:
// a fault ends the test with what trusted code sees of the faulting process
// (never lab 5's process_exit). When the programs are done, it checks how
// each one ended and that nothing leaked.
#include <stdbool.h>
#include <string.h>
#include "exception.h"
#include "harness.h"
#include "kprintf.h"
#include "memmap.h"
#include "paging.h"
#include "pmm.h"
#include "proc.h"
#include "ptwalk.h"
#include "sysio.h"
#include "systest.h"
#include "trap.h"
#include "selftest/userprog.h"

#define MAX_CHILDREN 15

static int forker; // pid of the program that forks
static uint32_t codes[MAX_CHILDREN];
static int child_pids[MAX_CHILDREN];
static int children;

// The process a pid names: alive, or ended through test_exit (NULL then).
static bool existed(int pid) { return process_find(pid) || test_exit_find(pid); }

static void all_exited(enum sched_stop why) {
    harness_check(why == SCHED_ALL_EXITED, "the scheduler stopped with a deadlock");
    userprog_check_table_empty();
    userprog_check_no_leak();
}

// The user pages mapped in directory `pd_phys`.
static uint32_t user_pages(uint32_t pd_phys) {
    uint32_t pages = 0;
    for (uint32_t v = USER_BASE; v < USER_TOP; v += PAGE_SIZE) {
        struct ptwalk w = ptwalk(pd_phys, v);
        if (w.status == PTWALK_NO_TABLE)
            v += (PAGE_ENTRIES - 1) * PAGE_SIZE; // skip the rest of this 4 MiB
        pages += w.status == PTWALK_MAPPED;
    }
    return pages;
}

// A user-mode fault: no program of this lab faults, so fork gave the
// faulting process a broken address space (or frame). Says what it lacks.
static void fork_fault(registers_t *regs) {
    struct process *p = process_current(), *parent = p->parent;
    uint32_t cr2 = read_cr2();
    char what[128];
    ksnprintf(what, sizeof what, "%s", exception_name(regs->int_no));
    if (regs->int_no == T_PAGE_FAULT) {
        char cause[96];
        exception_decode_page_fault(regs->err_code, cause, sizeof cause);
        ksnprintf(what, sizeof what, "page fault: %s at 0x%08x", cause, cr2);
    }
    char by[24] = "";
    if (parent)
        ksnprintf(by, sizeof by, ", forked by pid %d", parent->pid);
    if (user_pages(p->pd_phys) == 0)
        harness_fail("pid %d%s, faulted at its first user instruction at EIP 0x%08x: its address space has no "
                     "user pages at all (%s). Did fork copy the parent's pages (paging_clone_directory_from("
                     "parent->pd_phys)), and return -1 when that failed?", p->pid, by, regs->eip, what);
    if (regs->int_no == T_PAGE_FAULT && parent && ptwalk(p->pd_phys, cr2).status != PTWALK_MAPPED &&
        ptwalk(parent->pd_phys, cr2).status == PTWALK_MAPPED)
        harness_fail("pid %d%s, faulted at EIP 0x%08x: %s, a page its parent has and it lacks: fork must copy every "
                     "user page of the parent", p->pid, by, regs->eip, what);
    harness_fail("pid %d (%s)%s faulted at EIP 0x%08x: %s. No program of this lab faults: did fork give it its "
                 "parent's registers and a full copy of its memory?", p->pid, p->name, by, regs->eip, what);
}

// The start of every test: programs run, `tap` sees their lines, and a
// fault is reported by fork_fault.
static void begin(void (*tap)(struct process *p, const char *buf, uint32_t n)) {
    userprog_begin();
    sysio_set_write_tap(tap);
    exception_set_user_handler(fork_fault);
}

// Checks what a child of the forker must be right after fork: its parent,
// its name and its heap.
static void check_new_child(struct process *c) {
    struct process *parent = process_find(forker);
    harness_check(c->parent != NULL, "pid %d, made by fork in pid %d, has no parent: fork must make the caller "
                  "the child's parent", c->pid, forker);
    harness_check(c->parent == parent, "pid %d, made by fork in pid %d, has pid %d as parent: fork must make the "
                  "caller the child's parent", c->pid, forker, c->parent->pid);
    harness_check(strcmp(c->name, parent->name) == 0, "pid %d, made by fork in pid %d (%s), is named '%s': the child "
                  "keeps the parent's name", c->pid, forker, parent->name, c->name);
    harness_check(c->heap_start == parent->heap_start && c->brk == parent->brk, "pid %d has heap_start 0x%08x and "
                  "brk 0x%08x, its parent 0x%08x and 0x%08x: fork copies both", c->pid, c->heap_start, c->brk,
                  parent->heap_start, parent->brk);
}

// ---- fork_return: pids and return values ------------------------------------

static int reported; // children that printed

static void return_tap(struct process *p, const char *buf, uint32_t n) {
    struct userprog_line l = userprog_line(buf, n);
    if (p->pid == forker && userprog_line_starts(&l, "fork_ret: fork ") && l.count == 2) {
        int i = l.num[0], pid = l.num[1];
        harness_check(pid != 0, "fork returned 0 in the parent (pid %d): the parent gets the child's pid, the "
                      "child 0", forker);
        harness_check(pid > 0 && pid != forker && existed(pid), "fork returned %d in pid %d: expected the pid of "
                      "the new child", pid, forker);
        for (int j = 0; j < i; j++)
            harness_check(child_pids[j] != pid, "forks %d and %d both returned pid %d", j, i, pid);
        if (i >= 0 && i < MAX_CHILDREN)
            child_pids[i] = pid;
    } else if (p->pid == forker && userprog_line_starts(&l, "fork_ret: child ")) {
        harness_fail("pid %d, the parent, went down the child's path: fork returned 0 to the parent; it must "
                     "return the child's pid to the parent and 0 to the child", forker);
    } else if (p->pid != forker && userprog_line_starts(&l, "fork_ret: fork ")) {
        int got = l.count == 2 ? l.num[1] : -1;
        harness_fail("pid %d, a child, went down the parent's path: fork returned %d%s to the child; the child's "
                     "fork returns 0 (EAX of its frame), the parent's the child's pid", p->pid, got,
                     got == p->pid ? " (its own pid)" : "");
    } else if (p->pid != forker && userprog_line_starts(&l, "fork_ret: child ")) {
        check_new_child(p); // the parent waits in read until every child has printed
        harness_check(l.count == 3 && l.num[1] == p->pid && l.num[2] == forker, "pid %d printed '%s'", p->pid,
                      l.text);
        if (++reported == children)
            userprog_type_go();
    }
}

static HARNESS_PASSES void return_done(enum sched_stop why) {
    all_exited(why);
    userprog_check_test_exit(forker, children);
    for (int i = 0; i < children; i++)
        userprog_check_test_exit(child_pids[i], (int)codes[i]);
    kprintf("[test] fork_return: parent %d and its %d children ran with distinct pids and ended with their codes\n",
            forker, children);
    harness_pass();
}

HARNESS_TEST(fork_return, "codes") {
    const char *list = harness_param("codes");
    children = userprog_parse_list("codes", list ? list : "3,4", codes, MAX_CHILDREN);
    harness_check(children > 0, "codes=: expected at least one child");
    char line[128] = "fork_ret";
    for (int i = 0; i < children; i++)
        ksnprintf(line + strlen(line), sizeof line - strlen(line), " %u", codes[i]);
    begin(return_tap);
    forker = userprog_spawn_line(line);
    userprog_run(return_done);
}

// ---- fork_memory: two independent copies --------------------------------------

static bool child_checked;

// Every user page of the parent is in the child too, on a frame of its own,
// with the same flags.
static void check_copied(struct process *parent, struct process *child) {
    uint32_t pages = 0, mask = PAGE_FLAGS_MASK & ~(PAGE_ACCESSED | PAGE_DIRTY);
    harness_check(child->pd_phys != parent->pd_phys, "the child (pid %d) runs on its parent's page directory "
                  "0x%08x: fork must give it a copy (paging_clone_directory_from)", child->pid, parent->pd_phys);
    for (uint32_t v = USER_BASE; v < USER_TOP; v += PAGE_SIZE) {
        struct ptwalk pw = ptwalk(parent->pd_phys, v);
        if (pw.status == PTWALK_NO_TABLE)
            v += (PAGE_ENTRIES - 1) * PAGE_SIZE; // skip the rest of this 4 MiB
        if (pw.status != PTWALK_MAPPED)
            continue;
        struct ptwalk cw = ptwalk(child->pd_phys, v);
        harness_check(cw.status == PTWALK_MAPPED, "user page 0x%08x of the parent is missing in the child", v);
        if ((cw.pte & PAGE_MASK) == (pw.pte & PAGE_MASK))
            memmap_report(child->pid); // the report draws the map, the shared frames marked
        harness_check((cw.pte & PAGE_MASK) != (pw.pte & PAGE_MASK), "user page 0x%08x is the same frame 0x%08x in "
                      "parent and child: fork must copy the pages, not share them", v, pw.pte & PAGE_MASK);
        harness_check((cw.pte & mask) == (pw.pte & mask), "user page 0x%08x has flags 0x%03x in the child, 0x%03x in "
                      "the parent", v, cw.pte & mask, pw.pte & mask);
        pages++;
    }
    kprintf("[test] fork_memory: the child has its own copy of the parent's %u user pages\n", pages);
}

static void memory_tap(struct process *p, const char *buf, uint32_t n) {
    struct userprog_line l = userprog_line(buf, n);
    if (p->pid == forker || !userprog_line_starts(&l, "fork_mem: "))
        return;
    if (!child_checked) { // the child's first line: it has not changed its memory map yet
        child_checked = true;
        child_pids[0] = p->pid;
        check_new_child(p);
        check_copied(process_find(forker), p);
    }
    if (userprog_line_contains(&l, "wrote its own values")) // the parent waits in read for this line
        userprog_type_go();
}

static HARNESS_PASSES void memory_done(enum sched_stop why) {
    all_exited(why);
    harness_check(child_checked, "the child never printed: did it run?");
    userprog_check_test_exit(forker, 0);
    userprog_check_test_exit(child_pids[0], 0);
    kprintf("[test] fork_memory: parent and child each saw only their own writes\n");
    harness_pass();
}

HARNESS_TEST(fork_memory, "pages") {
    uint32_t pages = harness_param_u32("pages", 8);
    harness_check(pages >= 1 && pages <= 1024, "pages=%u: expected 1 to 1024", pages);
    char line[64];
    ksnprintf(line, sizeof line, "fork_mem %u %u", pages, harness_random() % 1000000);
    begin(memory_tap);
    forker = userprog_spawn_line(line);
    userprog_run(memory_done);
}

// ---- fork_registers: the child's frame, and nobody else's -----------------------

static int victim;
static uint32_t forks;

static void registers_tap(struct process *p, const char *buf, uint32_t n) {
    struct userprog_line l = userprog_line(buf, n);
    if (p->pid != forker && p->pid != victim && userprog_line_starts(&l, "fork_regs: child ") && children < MAX_CHILDREN)
        child_pids[children++] = p->pid;
}

// The code a program ended with: its number of failed checks.
static int failed_checks(int pid) {
    const struct test_exit *r = test_exit_find(pid);
    harness_check(r != NULL, "pid %d did not end through test_exit", pid);
    return r->code;
}

static HARNESS_PASSES void registers_done(enum sched_stop why) {
    all_exited(why);
    int bad = failed_checks(victim);
    harness_check(bad == 0, "the victim (pid %d) found its registers changed after %d of its yield calls: a system "
                  "call wrote into its frame. A call that switched processes must return SYSCALL_SWITCHED and "
                  "not touch the frame it was given afterwards: it is the next process's", victim, bad);
    bad = failed_checks(forker);
    harness_check(bad == 0, "the parent (pid %d) failed %d register checks across fork (its FAIL lines say which)",
                  forker, bad);
    harness_check(children == (int)forks, "%d children said their registers were kept, expected %u", children,
                  forks);
    for (int i = 0; i < children; i++)
        userprog_check_test_exit(child_pids[i], 0);
    kprintf("[test] fork_registers: %d children started with their parent's registers, EAX 0; the victim's "
            "registers were never touched\n", children);
    harness_pass();
}

HARNESS_TEST(fork_registers, "forks yields") {
    forks = harness_param_u32("forks", 5);
    harness_check(forks >= 1 && forks <= MAX_CHILDREN, "forks=%u: expected 1 to %d", forks, MAX_CHILDREN);
    uint32_t yields = harness_param_u32("yields", 200);
    char line[64];
    begin(registers_tap);
    ksnprintf(line, sizeof line, "fork_regs %u %u", forks, harness_random() % 1000000);
    forker = userprog_spawn_line(line); // slot 0; the victim in slot 1 runs right after it
    ksnprintf(line, sizeof line, "fork_victim %u %u", yields, harness_random() % 1000000);
    victim = userprog_spawn_line(line);
    userprog_run(registers_done);
}

// ---- fork_table_full: -1 when no slot is left, and the system goes on -----------

static int full_reports;

static void full_tap(struct process *p, const char *buf, uint32_t n) {
    struct userprog_line l = userprog_line(buf, n);
    if (p->pid != forker || !userprog_line_starts(&l, "fork_full: parent "))
        return;
    int used = userprog_slots_in_use();
    harness_check(l.count >= 2 && l.num[l.count - 1] == -1, "the parent made %d children without fork failing "
                  "(%d of %d slots in use): its children ended too early", l.count >= 2 ? l.num[1] : 0, used, NPROC);
    PROCESS_FOREACH(c) {
        harness_check(c->state != PROC_EMBRYO, "pid %d is still an embryo after fork returned: a fork that failed "
                      "kept its slot (process_free it), or one that worked never made the child READY", c->pid);
    }
    harness_check(used == NPROC, "fork returned -1 with %d of %d slots in use: it may fail only when the table is "
                  "full (or memory runs out)", used, NPROC);
    full_reports++;
}

static HARNESS_PASSES void full_done(enum sched_stop why) {
    all_exited(why);
    harness_check(full_reports == 2, "the parent did not report fork failing twice (%d reports)", full_reports);
    userprog_check_test_exit(forker, NPROC - 1);
    harness_check(test_exit_count() == NPROC + 1, "%d processes ended, expected the parent, %d children and a "
                  "grandchild", test_exit_count(), NPROC - 1);
    for (int pid = forker + 1; pid <= forker + NPROC; pid++)
        userprog_check_test_exit(pid, 0);
    kprintf("[test] fork_table_full: with %d slots in use fork returned -1 twice; later a fork worked again\n",
            NPROC);
    harness_pass();
}

HARNESS_TEST(fork_table_full, "") {
    begin(full_tap);
    forker = userprog_spawn_line("fork_full");
    userprog_run(full_done);
}

// ---- fork_out_of_memory: fault injection at every allocation of a fork ----------

static uint32_t baseline_frames, injected_before;
static int baseline_slots, attempt;
static bool succeeded;

// Disarms the injection armed for the previous attempt: true when it hit.
static bool disarm(void) {
    bool hit = pmm_injected_failures() > injected_before;
    pmm_fail_nth_alloc(0);
    return hit;
}

// An allocation of fork failed, yet it made a child: which, and with what.
static void fail_forked_anyway(struct process *parent) {
    PROCESS_FOREACH(c) {
        if (c->parent != parent || c->state == PROC_UNUSED)
            continue;
        harness_check(user_pages(c->pd_phys) != 0, "allocation %d of fork failed, yet fork made pid %d instead of "
                      "returning -1, and that child has no user pages: when paging_clone_directory_from returns 0, "
                      "fork must give back the slot and return -1, not go on with an empty address space", attempt,
                      c->pid);
        harness_fail("allocation %d of fork failed, yet fork made pid %d instead of returning -1", attempt, c->pid);
    }
    harness_fail("allocation %d of fork failed, yet fork did not return -1", attempt);
}

static void oom_tap(struct process *p, const char *buf, uint32_t n) {
    struct userprog_line l = userprog_line(buf, n);
    if (p->pid != forker)
        return;
    if (userprog_line_starts(&l, "fork_oom: attempt ") && l.count == 1) {
        if (attempt == 0) { // the warm-up is over: measure
            harness_check(test_exit_count() == 1 && userprog_slots_in_use() == 1, "the warm-up child has not "
                          "ended yet (%d processes ended, %d slots in use)", test_exit_count(),
                          userprog_slots_in_use());
            baseline_frames = pmm_free_count();
            baseline_slots = userprog_slots_in_use();
        } else {
            harness_check(disarm(), "fork returned -1 at attempt %d, yet no allocation failed", attempt);
            uint32_t now = pmm_free_count();
            harness_check(now == baseline_frames, "fork failed at its allocation %d and returned -1, but kept %d "
                          "frames (it must give back everything it took)", attempt, (int)(baseline_frames - now));
            harness_check(userprog_slots_in_use() == baseline_slots, "fork failed at its allocation %d and returned "
                          "-1, but a process slot stayed in use (%d in use, %d before): process_free the child",
                          attempt, userprog_slots_in_use(), baseline_slots);
        }
        attempt = l.num[0];
        injected_before = pmm_injected_failures();
        pmm_fail_nth_alloc((uint32_t)attempt); // the attempt-th allocation from now fails
    } else if (userprog_line_starts(&l, "fork_oom: fork returned -1 ")) {
        if (disarm())
            fail_forked_anyway(process_find(forker));
        harness_check(userprog_slots_in_use() == baseline_slots + 1 || test_exit_count() == 2, "fork worked at "
                      "attempt %d (no allocation failed), but made no child", attempt);
        succeeded = true;
    }
}

static HARNESS_PASSES void oom_done(enum sched_stop why) {
    disarm();
    all_exited(why);
    harness_check(succeeded, "fork never worked");
    userprog_check_test_exit(forker, attempt - 1);
    kprintf("[test] fork_out_of_memory: fork failed at each of its %d allocations with -1, keeping no frame and no "
            "slot, then succeeded\n", attempt - 1);
    harness_pass();
}

HARNESS_TEST(fork_out_of_memory, "pages") {
    char line[64];
    ksnprintf(line, sizeof line, "fork_oom %u", harness_param_u32("pages", 8));
    begin(oom_tap);
    forker = userprog_spawn_line(line);
    userprog_run(oom_done);
}
