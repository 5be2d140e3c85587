// Helpers for tests that run user programs (userprog.h).
#include <stdbool.h>
#include <string.h>
#include "harness.h"
#include "exec.h"
#include "kprintf.h"
#include "pmm.h"
#include "proc.h"
#include "systest.h"
#include "userprog.h"

static uint32_t free_frames;

void userprog_begin(void) {
    proc_init();
    free_frames = pmm_free_count();
}

int userprog_spawn(char *const argv[]) {
    struct process *p = process_spawn(argv[0], argv);
    harness_check(p != NULL, "cannot spawn %s", argv[0]);
    kprintf("[test] spawned pid %d:", p->pid);
    for (int i = 0; argv[i]; i++)
        kprintf(" %s", argv[i]);
    kprintf("\n");
    return p->pid;
}

void userprog_run(void (*done)(enum sched_stop why)) {
    sched_set_done_hook(done);
    sched_start();
}

void userprog_check_test_exit(int pid, int code) {
    const struct test_exit *r = test_exit_find(pid);
    harness_check(r != NULL, "pid %d did not end through test_exit", pid);
    harness_check(r->code == code, "pid %d (%s) ended with test_exit(%d), expected %d", pid, r->name, r->code, code);
}

void userprog_check_zombie(int pid, int status) {
    struct process *p = process_find(pid);
    harness_check(p && p->state == PROC_ZOMBIE, "pid %d is not a zombie (%s)", pid,
                  p ? process_state_name(p->state) : "gone");
    harness_check(p->exit_status == status, "pid %d (%s) has exit status 0x%x, expected 0x%x", pid, p->name,
                  p->exit_status, status);
    harness_check(p->pd_phys == 0, "zombie %d still has an address space", pid);
}

void userprog_check_no_leak(void) {
    uint32_t now = pmm_free_count();
    harness_check(now == free_frames, "%u frames free before the programs ran, %u after: %d leaked", free_frames,
                  now, (int)(free_frames - now));
}

int userprog_spawn_line(const char *line) {
    char copy[256];
    char *argv[EXEC_MAXARG + 1];
    int argc = 0;
    harness_check(strlcpy(copy, line, sizeof copy) < sizeof copy, "command line too long: %s", line);
    for (char *p = copy; *p;) {
        if (*p == ' ') {
            *p++ = 0;
            continue;
        }
        harness_check(argc < EXEC_MAXARG, "too many arguments: %s", line);
        argv[argc++] = p;
        while (*p && *p != ' ')
            p++;
    }
    argv[argc] = NULL;
    harness_check(argc > 0, "empty command line");
    return userprog_spawn(argv);
}

int userprog_parse_list(const char *name, const char *list, uint32_t *out, int max) {
    int count = 0;
    for (const char *p = list; *p; count++) {
        harness_check(count < max, "parameter %s=%s has more than %d numbers", name, list, max);
        harness_check(*p >= '0' && *p <= '9', "parameter %s=%s is not a comma-separated list of numbers", name,
                      list);
        for (out[count] = 0; *p >= '0' && *p <= '9'; p++)
            out[count] = out[count] * 10 + (uint32_t)(*p - '0');
        harness_check(*p == 0 || (*p == ',' && p[1]), "parameter %s=%s is not a comma-separated list of numbers",
                      name, list);
        p += *p == ',';
    }
    return count;
}

int userprog_numbers(const char *buf, uint32_t n, int *out, int max) {
    int count = 0;
    for (uint32_t i = 0; i < n && count < max; i++) {
        bool minus = buf[i] == '-' && i + 1 < n && buf[i + 1] >= '0' && buf[i + 1] <= '9';
        if (!minus && !(buf[i] >= '0' && buf[i] <= '9'))
            continue;
        i += minus;
        int v = 0;
        for (; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
            v = v * 10 + (buf[i] - '0');
        out[count++] = minus ? -v : v;
    }
    return count;
}

int userprog_slots_in_use(void) {
    int n = 0;
    PROCESS_FOREACH(p) {
        n += p->state != PROC_UNUSED;
    }
    return n;
}

void userprog_check_table_empty(void) {
    PROCESS_FOREACH(p) {
        harness_check(p->state != PROC_ZOMBIE, "pid %d (%s) is still a zombie at the end: nobody reaped it", p->pid,
                      p->name);
        harness_check(p->state != PROC_EMBRYO, "pid %d is still an embryo at the end: a fork that failed kept its "
                      "slot (process_free it)", p->pid);
        harness_check(p->state == PROC_UNUSED, "pid %d (%s) is still %s at the end", p->pid, p->name,
                      process_state_name(p->state));
    }
}
