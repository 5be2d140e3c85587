// Lab 5 checks of what exit leaves and how waitpid finds and reaps it: the
// state of a zombie at the moment it becomes one (before its parent can
// reap it: the watch's exit hook, watch.h), waitpid's search of the table,
// and bad status pointers.
#include <abi.h>
#include "harness.h"
#include "kprintf.h"
#include "paging.h"
#include "ptwalk.h"
#include "watch.h"

// The end of each test here: the process table is empty, and what it showed.
static void table_empty(const char *what) {
    userprog_check_table_empty();
    kprintf("[test] %s\n", what);
}

// ---- wait_zombie: a zombie keeps its slot and status, and nothing else -----

static int zombies_checked;

// A child has just become a zombie: it holds its slot and status, nothing more.
static void check_zombie(struct process *z, const struct watch_exit *e) {
    harness_check(z->exit_status == e->status, "pid %d called exit with status 0x%x, but its zombie holds 0x%x: exit "
                  "stores `code` as it is (sys_exit already made it W_EXITCODE(n))", e->pid, e->status,
                  z->exit_status);
    watch_check_freed(e);
    harness_check(read_cr3() != e->frames[0], "pid %d is a zombie and its directory 0x%08x is free, but the CPU "
                  "still uses it (CR3): exit must load the master directory before freeing its own", e->pid,
                  e->frames[0]);
    harness_check(z->pd_phys == 0, "pid %d freed its address space, but its zombie's pd_phys is still 0x%08x: "
                  "set it to 0 once the address space is freed", e->pid, z->pd_phys);
    kprintf("[test] wait_zombie: pid %d is a zombie with status 0x%x; its directory, %u page tables and %u pages "
            "are free\n", e->pid, z->exit_status, e->tables, e->pages);
    if (++zombies_checked == 2)
        userprog_type_go(); // the parent reads until the second child is a zombie
}

static void zombie_tap(struct process *p, const struct userprog_line *l) {
    if (p->pid == watch_top && userprog_line_starts(l, "wait_zombie: reaped child ") && l->count >= 1)
        watch_check_reaped(l->num[0]);
}

static HARNESS_PASSES void zombie_done(enum sched_stop why) {
    watch_finished(why);
    harness_check(zombies_checked == 2, "%d of the 2 children were seen becoming zombies", zombies_checked);
    table_empty("wait_zombie: both zombies held only their slot and status until reaped");
    harness_pass();
}

HARNESS_TEST(wait_zombie, "pages code1 code2") {
    watch_begin(zombie_tap, check_zombie);
    watch_spawn("wait_zombie %u %u %u", harness_param_u32("pages", 8), harness_param_u32("code1", 3),
                harness_param_u32("code2", 4));
    userprog_run(zombie_done);
}

// ---- wait_scan: waitpid finds a zombie wherever it sits in the table -------

// Pids and slots of the children of cases 1 and 2: the first of each pair
// sits in a slot before the second.
static struct {
    int first, second;
    int first_slot, second_slot;
} scan;

// Notes the pair of children a "case N: ..." line names.
static void scan_pair(const struct userprog_line *l) {
    struct process *first = process_find(l->num[1]), *second = process_find(l->num[2]);
    harness_check(first && second && first < second, "case %d: pids %d and %d are not in two slots in this order",
                  l->num[0], l->num[1], l->num[2]);
    scan.first = first->pid;
    scan.second = second->pid;
    scan.first_slot = watch_slot(first);
    scan.second_slot = watch_slot(second);
}

// Case 1: a zombie in a slot after a live child.
static void scan_case1(const struct userprog_line *l) {
    if (userprog_line_starts(l, "wait_scan: case 1: live child ") && l->count == 3) {
        scan_pair(l);
    } else if (userprog_line_starts(l, "wait_scan: case 1, while ") && l->count == 3) {
        struct process *live = process_find(scan.first);
        harness_check(live && live->state != PROC_ZOMBIE, "case 1: the live child pid %d is %s: it waits for a "
                      "line only the harness types", scan.first, watch_state_of(scan.first));
        harness_check(l->num[2] == scan.second, "waitpid(-1) returned %d while its live child pid %d (slot %d) "
                      "waits, but its child pid %d (slot %d) exits at once (%s now): waitpid(-1) must reap it "
                      "(blocking until it has exited), wherever it sits in the table", l->num[2], scan.first,
                      scan.first_slot, scan.second, scan.second_slot, watch_state_of(scan.second));
        userprog_type_go(); // the live child may end now
    }
}

// Case 2: a zombie in a slot after a free one.
static void scan_case2(const struct userprog_line *l) {
    if (userprog_line_starts(l, "wait_scan: case 2: children ") && l->count == 3) {
        scan_pair(l);
    } else if (userprog_line_starts(l, "wait_scan: case 2, past ") && l->count == 3) {
        harness_check(process_find(scan.first) == NULL, "case 2: pid %d, reaped by pid, still has a slot",
                      scan.first);
        harness_check(l->num[2] == scan.second, "waitpid(-1) returned %d, but its child pid %d (slot %d, %s now) "
                      "exits at once, and sits after slot %d, free since pid %d was reaped: does the search stop at "
                      "a free slot? It must go on through every slot", l->num[2], scan.second, scan.second_slot,
                      watch_state_of(scan.second), scan.first_slot, scan.first);
    }
}

// Case 3: a full table, and a zombie in its last slot.
static void scan_case3(const struct userprog_line *l) {
    if (userprog_line_starts(l, "wait_scan: case 3: ") && userprog_line_contains(l, " fill the table") &&
        l->count == 3) {
        struct process *last = process_find(l->num[2]);
        harness_check(userprog_slots_in_use() == NPROC && last && watch_slot(last) == NPROC - 1, "case 3: with %d "
                      "slots in use, pid %d is not in the table's last slot", userprog_slots_in_use(), l->num[2]);
    } else if (userprog_line_starts(l, "wait_scan: case 3, the child in the last slot") && l->count == 3) {
        int pid = l->num[1], got = l->num[2];
        harness_check(got == pid, "waitpid(%d) returned %d, but pid %d is its child, in slot %d, the table's "
                      "last (the table is full): the search must cover all NPROC slots, the last one included", pid,
                      got, pid, NPROC - 1);
    }
}

static void scan_tap(struct process *p, const struct userprog_line *l) {
    if (p->pid != watch_top)
        return;
    scan_case1(l);
    scan_case2(l);
    scan_case3(l);
}

static HARNESS_PASSES void scan_done(enum sched_stop why) {
    watch_finished(why);
    table_empty("wait_scan: waitpid found the zombie after a live child, after a free slot, and in the "
                "last slot of a full table");
    harness_pass();
}

HARNESS_TEST(wait_scan, "") {
    watch_begin(scan_tap, NULL);
    watch_spawn("wait_scan");
    userprog_run(scan_done);
}

// ---- wait_bad_status: -1 for a status pointer waitpid cannot write ---------

#define BAD_POINTERS 5

static const char *const bad_what[BAD_POINTERS] = {
    "in the kernel's code",
    "an unmapped user address",
    "in a read-only page (the program's code)",
    "4 bytes that cross the end of user space",
    "an unmapped kernel address",
};
static uint32_t bad[BAD_POINTERS], kernel_word; // kernel_word: what bad[0] points to
static int bad_child;

static void bad_status_tap(struct process *p, const struct userprog_line *l) {
    if (p->pid != watch_top || !userprog_line_starts(l, "wait_badstatus: bad pointer ") || l->count < 3)
        return;
    int i = l->num[0], child = l->num[1], got = l->num[l->count - 1];
    harness_check(i >= 0 && i < BAD_POINTERS, "no bad pointer %d", i);
    struct process *c = process_find(child);
    harness_check(*(volatile uint32_t *)bad[0] == kernel_word, "waitpid(%d, 0x%08x, 0) wrote into kernel memory at "
                  "0x%08x (the kernel's code): it must never write through a user pointer; copy_to_user refuses one "
                  "that is not a writable user address", child, bad[i], bad[0]);
    if (got == child)
        harness_check(c != NULL, "waitpid(%d, 0x%08x, 0) returned %d and reaped the child, although 0x%08x is %s: "
                      "with a status pointer it cannot write (copy_to_user fails), waitpid must return -1 and leave "
                      "the zombie for a later call", child, bad[i], got, bad[i], bad_what[i]);
    harness_check(c != NULL, "waitpid(%d, 0x%08x, 0) returned %d for a status pointer %s, but pid %d is gone: its "
                  "slot was freed although the status could not be stored. The child must stay a zombie for a "
                  "later call: copy_to_user first, and process_free only once it worked", child, bad[i], got,
                  bad_what[i], child);
    harness_check(c->state == PROC_ZOMBIE, "after waitpid(%d, 0x%08x, 0), pid %d is %s: it was a zombie, and must "
                  "stay one", child, bad[i], child, process_state_name(c->state));
    harness_check(got == -1, "waitpid(%d, 0x%08x, 0) returned %d for a status pointer %s: expected -1", child,
                  bad[i], got, bad_what[i]);
}

// The child is a zombie: the parent may start its calls.
static void bad_status_exit(struct process *z, const struct watch_exit *e) {
    (void)e;
    if (!bad_child && z->parent && z->parent->pid == watch_top) {
        bad_child = z->pid;
        uint32_t pte = ptwalk(z->parent->pd_phys, bad[2]).pte;
        harness_check((pte & PAGE_PRESENT) && (pte & PAGE_USER) && !(pte & PAGE_WRITE), "the program's code at "
                      "0x%08x is not a read-only user page (pte 0x%08x)", bad[2], pte);
        userprog_type_go();
    }
}

static HARNESS_PASSES void bad_status_done(enum sched_stop why) {
    watch_finished(why);
    harness_check(bad_child != 0, "the child never became a zombie");
    table_empty("wait_bad_status: -1 for each bad status pointer, and the child stayed a zombie until reaped");
    harness_pass();
}

HARNESS_TEST(wait_bad_status, "code") {
    bad[0] = KERNEL_LOAD + (harness_random() % PAGE_SIZE & ~3u);
    bad[1] = 0x60000000u + (harness_random() % 0x10000000u & ~3u);
    bad[2] = USER_BASE + (harness_random() % PAGE_SIZE & ~3u);
    bad[3] = USER_TOP - 2;
    bad[4] = USER_TOP + (harness_random() % (KHEAP_BASE - USER_TOP) & ~3u);
    kernel_word = *(volatile uint32_t *)bad[0];
    watch_begin(bad_status_tap, bad_status_exit);
    watch_spawn("wait_badstatus %u 0x%08x 0x%08x 0x%08x 0x%08x 0x%08x", harness_param_u32("code", 7), bad[0], bad[1],
                bad[2], bad[3], bad[4]);
    userprog_run(bad_status_done);
}
