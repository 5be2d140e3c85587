// What every lab 5 test shares: starting the test program, the FAIL lines
// of the programs, and a watch on exit and waitpid from trusted code, at the
// moment the scheduler switches, before any other process runs:
// - each time a process blocks in waitpid, blocking must be right: no
//   WNOHANG, something matches, and no matching child is a zombie yet;
// - each time a process exits, what it owned is noted as it calls exit;
//   once it has switched out, its slot must be a ZOMBIE, its address space
//   not half freed, and whoever waits for it awake;
// - each time the kernel idles, nobody may sleep in waitpid next to a
//   zombie child.
// So a waitpid that blocks instead of returning, or an exit that wakes
// nobody, is named at once, never left to a timeout.
#ifndef LABS_WAITPID_WATCH_H
#define LABS_WAITPID_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include "proc.h"
#include "sched.h"
#include "selftest/userprog.h"

// The pid of the program the test started (watch_spawn).
extern int watch_top;

#define WATCH_MAX_FRAMES 512

// What a process owned when it called exit, and the status it exits with:
// frames[0] is its directory, then come its user page tables, then its user
// pages.
struct watch_exit {
    int pid, status;
    uint32_t tables, pages;
    uint32_t frames[WATCH_MAX_FRAMES];
};

// Starts the process subsystem, taps every line the programs write (`tap`
// sees each one before the FAIL check; NULL: only the FAIL check), and
// watches the scheduler. `on_exit`, if not NULL, runs after the watch's own
// checks each time a process has exited and switched out (a zombie), with
// what it owned when it called exit.
void watch_begin(void (*tap)(struct process *p, const struct userprog_line *l),
                 void (*on_exit)(struct process *z, const struct watch_exit *e));

// Spawns the test program of a command line (printf-style); it is watch_top.
int watch_spawn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// The end of every test: nothing is stuck (a deadlock is explained), the test
// program ended through test_exit(0), and every frame is free again.
void watch_finished(enum sched_stop why);

// Fails the test with what keeps the processes left from ever running: a
// waiter that nothing can wake, or a cycle of waiters.
void watch_explain_deadlock(void) __attribute__((noreturn));

// True when `p` is blocked in waitpid.
bool watch_in_waitpid(const struct process *p);
// "zombie", "blocked" ... of `pid`, or "gone" once its slot is free.
const char *watch_state_of(int pid);
// Index of `p` in the process table.
int watch_slot(const struct process *p);
// Fails the test unless the slot of `pid`, which waitpid just reaped, is free.
void watch_check_reaped(int pid);
// Fails the test unless every frame `e` owned is free: its whole address
// space, once the process has exited.
void watch_check_freed(const struct watch_exit *e);

// Between watch.c and exits.c. Hooks exit (proc_set_exit_hook):
void watch_exit_begin(void);
// When `prev` is the process that called exit and has just switched out:
// checks it (its slot, its address space), then whoever waits for it
// (watch_check_exit_woke), and returns what it owned; else NULL.
const struct watch_exit *watch_exit_switch(struct process *prev);
void watch_check_exit_woke(const struct process *z);

#endif
