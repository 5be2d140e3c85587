// Test-only: the test_exit system call, which ends a process without the
// lab 5 code (process_exit), so that lab 4's tests need only lab 4; and the
// record of how each process ended through it, for trusted checks.
#ifndef KERNEL_SYSTEST_H
#define KERNEL_SYSTEST_H

#include "process.h"

#define TEST_EXIT_RECORDS 128 // the first ones are kept; later ones are counted

struct test_exit {
    int pid;
    int code;
    char name[PROC_NAME_MAX];
};

// Ends the caller with trusted code: prints "[test] pid P (name)
// test_exit(C)", records it, frees its address space and its slot (no
// zombie), orphans its children (parent NULL) and wakes a parent blocked in
// waitpid (whose waitpid then finds one child fewer). SYSCALL_SWITCHED.
int sys_test_exit(int code);

// The record of `pid`, or NULL when it did not end through test_exit.
const struct test_exit *test_exit_find(int pid);
// How many processes ended through test_exit since boot.
int test_exit_count(void);

#endif
