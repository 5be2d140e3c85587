// Helpers for tests that run user programs: start them, let them run, then
// check with trusted code how they ended and that nothing leaked.
#ifndef KERNEL_SELFTEST_USERPROG_H
#define KERNEL_SELFTEST_USERPROG_H

#include <stdbool.h>
#include <stdint.h>
#include "sched.h"

// Starts the process subsystem and notes the free frames, for
// userprog_check_no_leak. Call first.
void userprog_begin(void);

// Spawns program argv[0] with argv; fails the test when it cannot. Prints
// "[test] spawned pid P: argv..." and returns the pid.
int userprog_spawn(char *const argv[]);

// Runs the spawned processes until nothing is left to run, then calls
// `done` (which ends the test). Never returns.
void userprog_run(void (*done)(enum sched_stop why)) __attribute__((noreturn));

// Fails the test unless `pid` ended through test_exit with `code`.
void userprog_check_test_exit(int pid, int code);

// Fails the test unless `pid` is a zombie with exit status `status`.
void userprog_check_zombie(int pid, int status);

// Fails the test unless every frame taken since userprog_begin is free again.
void userprog_check_no_leak(void);

// Spawns the program of a command line ("name arg1 arg2 ...": words
// separated by spaces) like userprog_spawn; returns its pid.
int userprog_spawn_line(const char *line);

// Parses "12,7,255" into out[] (at most `max` numbers): how many. Fails the
// test when `list` is not such a list.
int userprog_parse_list(const char *name, const char *list, uint32_t *out, int max);

// A line a program wrote (what a write tap sees, sysio.h), as text without
// its newline, and the integers in it ("-1" included), in order.
#define USERPROG_LINE_MAX 160
#define USERPROG_NUMBERS 8
struct userprog_line {
    char text[USERPROG_LINE_MAX];
    int num[USERPROG_NUMBERS];
    int count; // integers found
};
struct userprog_line userprog_line(const char *buf, uint32_t n);
// True when the line starts with / contains `text`.
bool userprog_line_starts(const struct userprog_line *l, const char *text);
bool userprog_line_contains(const struct userprog_line *l, const char *text);

// Types "go" and a newline on the console, for a program that waits for it
// in read: how a test tells one process that another one got somewhere.
void userprog_type_go(void);

// Slots of the process table in use (any state but UNUSED).
int userprog_slots_in_use(void);

// Fails the test unless the process table is empty again: a zombie left
// means nobody reaped it, an embryo that a failed fork kept its slot.
void userprog_check_table_empty(void);

#endif
