// Helpers for tests that run user programs (userprog.h).
#include <stdbool.h>
#include <string.h>
#include "console.h"
#include "harness.h"
#include "exec.h"
#include "kprintf.h"
#include "memmap.h"
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
    if (now != free_frames)
        memmap_report(0); // the report draws the map, the leaked frames marked
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

struct userprog_line userprog_line(const char *buf, uint32_t n) {
    struct userprog_line l = {.count = 0};
    uint32_t len = n < sizeof l.text - 1 ? n : sizeof l.text - 1;
    memcpy(l.text, buf, len);
    l.text[len] = 0;
    if (len && l.text[len - 1] == '\n')
        l.text[--len] = 0;
    for (uint32_t i = 0; i < len && l.count < USERPROG_NUMBERS; i++) {
        bool minus = l.text[i] == '-' && l.text[i + 1] >= '0' && l.text[i + 1] <= '9';
        if (!minus && !(l.text[i] >= '0' && l.text[i] <= '9'))
            continue;
        i += minus;
        int v = 0;
        for (; l.text[i] >= '0' && l.text[i] <= '9'; i++)
            v = v * 10 + (l.text[i] - '0');
        l.num[l.count++] = minus ? -v : v;
    }
    return l;
}

bool userprog_line_starts(const struct userprog_line *l, const char *text) {
    return strncmp(l->text, text, strlen(text)) == 0;
}

bool userprog_line_contains(const struct userprog_line *l, const char *text) {
    for (const char *t = l->text; *t; t++)
        if (strncmp(t, text, strlen(text)) == 0)
            return true;
    return false;
}

void userprog_type_go(void) {
    for (const char *c = "go\n"; *c; c++)
        console_input(*c);
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
