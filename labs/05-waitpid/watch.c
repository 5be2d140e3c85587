// The lab 5 watch (watch.h): checks that hold in every test, made by
// trusted code at the moment the scheduler switches, before any other
// process runs.
#include <abi.h>
#include <stdarg.h>
#include <string.h>
#include "harness.h"
#include "kprintf.h"
#include "sysio.h"
#include "systest.h"
#include "watch.h"

int watch_top;
static void (*test_tap)(struct process *p, const struct userprog_line *l);
static void (*test_on_exit)(struct process *z, const struct watch_exit *e);

bool watch_in_waitpid(const struct process *p) {
    return p && p->state == PROC_BLOCKED && p->blocked_on == BLOCK_WAITPID;
}

const char *watch_state_of(int pid) {
    struct process *p = process_find(pid);
    return p ? process_state_name(p->state) : "gone";
}

int watch_slot(const struct process *p) { return (int)(p - process_table); }

void watch_check_reaped(int pid) {
    harness_check(process_find(pid) == NULL, "waitpid reaped pid %d, but its slot is still in use (%s): waitpid "
                  "frees the slot of the zombie it reaps (process_free)", pid, watch_state_of(pid));
}

// The waitpid call a blocked process is in: process_block rewound its saved
// frame to the system call, whose arguments are in EBX, ECX, EDX (abi.h).
struct wait_call {
    int pid;
    char text[48]; // "waitpid(-1, 0x4000bfe0, 0)"
};

static struct wait_call wait_call_of(const struct process *w) {
    struct wait_call c = {(int)w->regs.ebx, ""};
    int options = (int)w->regs.edx;
    char opt[12];
    ksnprintf(opt, sizeof opt, options == WNOHANG ? "WNOHANG" : "%d", options);
    ksnprintf(c.text, sizeof c.text, "waitpid(%d, 0x%08x, %s)", c.pid, w->regs.ecx, opt);
    return c;
}

// The position of `what` in `text`, or NULL.
static const char *find(const char *text, const char *what) {
    for (uint32_t n = strlen(what); *text; text++)
        if (strncmp(text, what, n) == 0)
            return text;
    return NULL;
}

// The decimal integer (maybe negative) at the start of `s`, or 0.
static int int_at(const char *s) {
    int sign = *s == '-' ? -1 : 1, v = 0;
    for (s += *s == '-'; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (*s - '0');
    return sign * v;
}

// True when waitpid(pid) in `w` waits for `c`.
static bool matches(const struct process *c, const struct process *w, int pid) {
    return c->state != PROC_UNUSED && c->parent == w && (pid == -1 || (pid > 0 && c->pid == pid));
}

static bool anything_matches(const struct process *w, int pid) {
    PROCESS_FOREACH(c) {
        if (matches(c, w, pid))
            return true;
    }
    return false;
}

// Why nothing matches waitpid(pid) in `w`, in words.
static void nothing_matches(const struct process *w, int pid, char *buf, uint32_t size) {
    const struct process *p = pid > 0 ? process_find(pid) : NULL;
    if (pid == 0 || pid < -1)
        ksnprintf(buf, size, "pid %d matches no process (0 and pids below -1 are refused)", pid);
    else if (pid == -1)
        ksnprintf(buf, size, "it has no children");
    else if (!p)
        ksnprintf(buf, size, "no process has pid %d", pid);
    else if (p == w)
        ksnprintf(buf, size, "pid %d is the caller itself", pid);
    else if (!p->parent)
        ksnprintf(buf, size, "pid %d is not its child (pid %d has no parent)", pid, pid);
    else
        ksnprintf(buf, size, "pid %d is not its child (its parent is pid %d)", pid, p->parent->pid);
}

// Where the search may have gone wrong, when waitpid(pid) in `w` did not
// find its child `z`: what the table holds in front of `z`, in `buf`.
// False when nothing there explains it.
static bool scan_hint(const struct process *w, int pid, const struct process *z, char *buf, uint32_t size) {
    const struct process *live = NULL, *hole = NULL;
    for (const struct process *c = process_table; c < z; c++) {
        if (!live && matches(c, w, pid))
            live = c;
        if (!hole && c->state == PROC_UNUSED)
            hole = c;
    }
    if (live && hole)
        ksnprintf(buf, size, "before it sit a free slot (%d) and its child pid %d (slot %d, %s): does the search "
                  "stop at a free slot, or at the first child it finds? It must go on through every slot",
                  watch_slot(hole), live->pid, watch_slot(live), process_state_name(live->state));
    else if (live)
        ksnprintf(buf, size, "its child pid %d, %s, sits before it in slot %d: does the search stop at the first "
                  "child it finds? It must go on through every slot", live->pid, process_state_name(live->state),
                  watch_slot(live));
    else if (watch_slot(z) == NPROC - 1)
        ksnprintf(buf, size, "it is in slot %d, the table's last: the search must cover all NPROC slots", NPROC - 1);
    else if (hole)
        ksnprintf(buf, size, "slot %d before it is free: does the search stop at a free slot? It must go on "
                  "through every slot", watch_slot(hole));
    return live || hole || watch_slot(z) == NPROC - 1;
}

// `w` just blocked in waitpid: right only when WNOHANG is not given, some
// child matches, and none of those has exited yet.
static void check_waitpid_block(const struct process *w) {
    struct wait_call call = wait_call_of(w);
    harness_check(!((int)w->regs.edx & WNOHANG), "pid %d (%s) blocked in %s: with WNOHANG, waitpid returns 0 when "
                  "no child has exited, and never blocks", w->pid, w->name, call.text);
    if (!anything_matches(w, call.pid)) {
        char why[96];
        nothing_matches(w, call.pid, why, sizeof why);
        harness_fail("pid %d (%s) blocked in %s, but %s: when nothing matches, waitpid must return -1 at once, not "
                     "block", w->pid, w->name, call.text, why);
    }
    PROCESS_FOREACH(z) {
        if (!matches(z, w, call.pid) || z->state != PROC_ZOMBIE)
            continue;
        char hint[192] = "waitpid must reap a zombie child it waits for";
        scan_hint(w, call.pid, z, hint, sizeof hint);
        harness_fail("pid %d (%s) blocked in %s although its child pid %d (slot %d) is a zombie: %s", w->pid,
                     w->name, call.text, z->pid, watch_slot(z), hint);
    }
}

// A program reports that waitpid(pid) returned -1 in `w` (a FAIL line): if
// it has a child that matches, say which and what waitpid should have done.
// The child may have exited since the call returned: only its slot is sure.
static void explain_minus_one(const struct process *w, const struct userprog_line *l) {
    const char *call = find(l->text, "waitpid("), *ret = call ? find(call, "returned ") : NULL;
    if (!ret || int_at(ret + strlen("returned ")) != -1)
        return;
    int pid = int_at(call + strlen("waitpid("));
    const char *nohang = find(call, "WNOHANG");
    PROCESS_FOREACH(c) {
        if (!matches(c, w, pid))
            continue;
        char hint[192];
        if (!scan_hint(w, pid, c, hint, sizeof hint))
            ksnprintf(hint, sizeof hint, "a matching child that has exited is reaped; while it runs, waitpid %s",
                      nohang && nohang < ret ? "with WNOHANG returns 0" : "blocks");
        harness_fail("pid %d (%s) reports that waitpid(%d) returned -1, but pid %d is its child (slot %d, %s now): "
                     "-1 is only for nothing to wait for; %s", w->pid, w->name, pid, c->pid, watch_slot(c),
                     process_state_name(c->state), hint);
    }
}

// A zombie child that `w`, blocked in waitpid, waits for: nothing will
// wake `w` for it any more. NULL when there is none or `w` is not blocked.
static const struct process *zombie_waited_for(const struct process *w) {
    if (!watch_in_waitpid(w))
        return NULL;
    int pid = wait_call_of(w).pid;
    PROCESS_FOREACH(c) {
        if (matches(c, w, pid) && c->state == PROC_ZOMBIE)
            return c;
    }
    return NULL;
}

// Zombie `z` just left the CPU: whoever waits for it must be awake.
void watch_check_exit_woke(const struct process *z) {
    const struct process *parent = z->parent, *init = process_init_proc(), *c;
    if (watch_in_waitpid(parent) && matches(z, parent, wait_call_of(parent).pid))
        harness_fail("pid %d exited, but its parent, pid %d (%s), stays blocked in %s: exit must wake a parent "
                     "blocked in waitpid (process_wake)", z->pid, parent->pid, parent->name,
                     wait_call_of(parent).text);
    if ((c = zombie_waited_for(init)))
        harness_fail("pid %d exited and handed its children to init, but init (pid %d) stays blocked in %s although "
                     "its child pid %d is a zombie: when exit hands init a zombie, it must wake init", z->pid,
                     init->pid, wait_call_of(init).text, c->pid);
}

// Each time the kernel idles: nobody may sleep in waitpid next to a zombie
// child it waits for, since nothing would ever wake it.
static void check_no_lost_wakeup(void) {
    PROCESS_FOREACH(w) {
        const struct process *c = zombie_waited_for(w);
        harness_check(!c, "pid %d (%s) sleeps in %s although its child pid %d is a zombie, and nothing will wake it: "
                      "exit must wake the parent, and init when it hands init a zombie", w->pid, w->name,
                      wait_call_of(w).text, c ? c->pid : 0);
    }
}

void watch_explain_deadlock(void) {
    check_no_lost_wakeup();
    PROCESS_FOREACH(w) {
        if (!watch_in_waitpid(w))
            continue;
        struct wait_call call = wait_call_of(w);
        if (anything_matches(w, call.pid))
            continue;
        char why[96];
        nothing_matches(w, call.pid, why, sizeof why);
        harness_fail("deadlock: pid %d (%s) sleeps in %s, but %s: nothing can ever wake it", w->pid, w->name,
                     call.text, why);
    }
    harness_fail("deadlock: every process left is blocked in waitpid, each for a child that is blocked too (the "
                 "[kernel] lines above say who waits for whom)");
}

static void watch_switch(struct process *prev) {
    if (watch_in_waitpid(prev) && prev->regs.eax == SYS_waitpid)
        check_waitpid_block(prev);
    const struct watch_exit *e = watch_exit_switch(prev);
    if (e && test_on_exit)
        test_on_exit(prev, e);
}

static void watch_tap(struct process *p, const char *buf, uint32_t n) {
    struct userprog_line l = userprog_line(buf, n);
    if (test_tap)
        test_tap(p, &l);
    if (!userprog_line_contains(&l, ": FAIL"))
        return;
    explain_minus_one(p, &l);
    harness_fail("pid %d (%s) says: %s", p->pid, p->name, l.text);
}

void watch_begin(void (*tap)(struct process *p, const struct userprog_line *l),
                 void (*on_exit)(struct process *z, const struct watch_exit *e)) {
    test_tap = tap;
    test_on_exit = on_exit;
    userprog_begin();
    sysio_set_write_tap(watch_tap);
    sched_set_switch_hook(watch_switch);
    sched_set_idle_hook(check_no_lost_wakeup);
    watch_exit_begin();
}

int watch_spawn(const char *fmt, ...) {
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    watch_top = userprog_spawn_line(line);
    return watch_top;
}

void watch_finished(enum sched_stop why) {
    if (why == SCHED_DEADLOCK)
        watch_explain_deadlock();
    userprog_check_test_exit(watch_top, 0);
    userprog_check_no_leak();
}
