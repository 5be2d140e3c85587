// The test_exit system call (systest.h).
#include <string.h>
#include "kprintf.h"
#include "paging.h"
#include "systest.h"

static struct test_exit records[TEST_EXIT_RECORDS];
static int count;

int sys_test_exit(int code) {
    struct process *p = process_current();
    kprintf("[test] pid %d (%s) test_exit(%d)\n", p->pid, p->name, code);
    if (count < TEST_EXIT_RECORDS) {
        records[count] = (struct test_exit){p->pid, code, ""};
        strlcpy(records[count].name, p->name, PROC_NAME_MAX);
    }
    count++;
    PROCESS_FOREACH(c) {
        if (c->parent == p)
            c->parent = NULL;
    }
    paging_switch_directory(paging_get_directory_phys());
    paging_free_directory(p->pd_phys);
    struct process *parent = p->parent;
    process_free(p);
    process_wake(parent, BLOCK_WAITPID);
    scheduler_switch();
    return SYSCALL_SWITCHED;
}

const struct test_exit *test_exit_find(int pid) {
    for (int i = 0; i < count && i < TEST_EXIT_RECORDS; i++)
        if (records[i].pid == pid)
            return &records[i];
    return NULL;
}

int test_exit_count(void) { return count; }
