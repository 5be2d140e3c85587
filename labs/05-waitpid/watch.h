// What every lab 5 test shares: starting the test program, the FAIL lines
// of the programs, and the scheduler's view of waitpid. Each time a process
// blocks in waitpid, trusted code checks, before anything else runs, that
// blocking was right: something matches and no matching child is a zombie
// yet. Each time the kernel idles, nobody may sleep in waitpid next to a
// zombie child. So a waitpid that blocks instead of returning, or an exit
// that wakes nobody, is named at once, never left to a timeout.
#ifndef LABS_WAITPID_WATCH_H
#define LABS_WAITPID_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include "proc.h"
#include "sched.h"
#include "selftest/userprog.h"

// The pid of the program the test started (watch_spawn).
extern int watch_top;

// Starts the process subsystem, taps every line the programs write (`tap`
// sees each one after the FAIL check; NULL: only the FAIL check), and
// watches the scheduler. `on_switch`, if not NULL, runs after the watch's
// own checks each time a process stops running (sched_set_switch_hook).
void watch_begin(void (*tap)(struct process *p, const struct userprog_line *l),
                 void (*on_switch)(struct process *prev));

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

#endif
