// The test harness (see harness.h and grader/PROTOCOL.md).
#include <stdbool.h>
#include <string.h>
#include "bootinfo.h"
#include "harness.h"
#include "kprintf.h"
#include "qemu.h"
#include "x86.h"

#define MAX_PARAMS 24
#define TOKEN_MAX 64
#define GLOBAL_PARAMS "test seed token halt"

struct param {
    char *key;
    char *value;
};

extern const struct harness_test __harness_tests_start[], __harness_tests_end[];

static char cmdline[BOOTINFO_CMDLINE_MAX]; // split in place into params
static struct param params[MAX_PARAMS];
static int param_count;
static const struct harness_test *selected;
static uint64_t proof;    // what harness_pass prints; derived from the token
static uint32_t rng_state; // xorshift32
static uint32_t checks;

static const struct harness_test *find_test(const char *name) {
    for (const struct harness_test *t = __harness_tests_start; t < __harness_tests_end; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

// True when `word` is one of the space-separated words of `list`.
static bool word_in(const char *word, const char *list) {
    size_t len = strlen(word);
    for (const char *p = list; *p;) {
        while (*p == ' ')
            p++;
        size_t n = 0;
        while (p[n] && p[n] != ' ')
            n++;
        if (n == len && n && strncmp(p, word, n) == 0)
            return true;
        p += n;
    }
    return false;
}

static bool valid_key(const char *key) {
    if (!*key)
        return false;
    for (; *key; key++)
        if (!((*key >= 'a' && *key <= 'z') || (*key >= '0' && *key <= '9') || *key == '_'))
            return false;
    return true;
}

// Splits the command line into key=value parameters. The first word is the
// kernel's file name when it has no '=' (QEMU's -kernel puts it there).
static void parse_cmdline(void) {
    bootinfo_take_cmdline(cmdline, sizeof cmdline);
    char *p = cmdline;
    for (int word = 0; *p; word++) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        char *start = p;
        while (*p && *p != ' ')
            p++;
        if (*p)
            *p++ = 0;
        char *eq = strchr(start, '=');
        if (!eq && word == 0)
            continue;
        if (eq)
            *eq = 0;
        if (!eq || !valid_key(start) || !eq[1]) {
            kprintf("cmdline: malformed parameter '%s%s%s' (expected key=value, key in [a-z0-9_]), ignored\n",
                    start, eq ? "=" : "", eq ? eq + 1 : "");
            continue;
        }
        if (param_count == MAX_PARAMS) {
            kprintf("cmdline: more than %d parameters, '%s' ignored\n", MAX_PARAMS, start);
            continue;
        }
        params[param_count++] = (struct param){start, eq + 1};
    }
}

const char *harness_param(const char *name) {
    for (int i = 0; i < param_count; i++)
        if (strcmp(params[i].key, name) == 0)
            return params[i].value;
    return NULL;
}

// FNV-1a, 64 bits: the proof is a hash of the token and the test name, so a
// gap that never saw the token cannot print it.
static uint64_t fnv1a(uint64_t h, const char *s) {
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 0x100000001B3ull;
    }
    return h;
}

// Computes the proof and wipes the token from the parameter table.
static void take_token(void) {
    for (int i = 0; i < param_count; i++) {
        if (strcmp(params[i].key, "token") != 0)
            continue;
        uint64_t h = fnv1a(0xCBF29CE484222325ull, params[i].value);
        h = fnv1a(h, ":");
        proof = fnv1a(h, selected ? selected->name : "");
        memset(params[i].value, 0, strlen(params[i].value));
    }
}

static void check_params(void) {
    for (int i = 0; i < param_count; i++) {
        if (word_in(params[i].key, GLOBAL_PARAMS) || (selected && word_in(params[i].key, selected->params)))
            continue;
        if (selected)
            harness_fail("cmdline: unknown parameter '%s' (test %s takes: %s)", params[i].key, selected->name,
                         *selected->params ? selected->params : "none");
        kprintf("cmdline: unknown parameter '%s', ignored\n", params[i].key);
    }
}

void harness_init(void) {
    parse_cmdline();
    const char *name = harness_param("test");
    if (name && !(selected = find_test(name))) {
        kprintf("harness: no test named '%s'. Tests in this kernel:\n", name);
        harness_list_tests();
        qemu_exit(QEMU_EXIT_FAIL);
    }
    take_token();
    rng_state = harness_param_u32("seed", 1) | 1;
    if (selected)
        kprintf("[harness] begin %s seed=%u\n", selected->name, harness_param_u32("seed", 1));
    check_params();
}

void harness_run_stage(enum harness_stage stage) {
    if (selected && selected->stage == stage) {
        selected->run();
        harness_fail("test %s returned without passing or failing", selected->name);
    }
}

void harness_list_tests(void) {
    for (const struct harness_test *t = __harness_tests_start; t < __harness_tests_end; t++)
        kprintf("  %s%s%s\n", t->name, *t->params ? "  takes: " : "", t->params);
}

uint32_t harness_param_u32(const char *name, uint32_t fallback) {
    const char *s = harness_param(name);
    if (!s)
        return fallback;
    uint32_t base = 10, v = 0;
    if (s[0] == '0' && s[1] == 'x')
        base = 16, s += 2;
    if (!*s)
        harness_fail("cmdline: parameter %s is not a number", name);
    for (; *s; s++) {
        uint32_t d = *s >= '0' && *s <= '9' ? (uint32_t)(*s - '0')
                     : *s >= 'a' && *s <= 'f' ? (uint32_t)(*s - 'a' + 10)
                                              : 99;
        if (d >= base)
            harness_fail("cmdline: parameter %s is not a number", name);
        v = v * base + d;
    }
    return v;
}

uint32_t harness_random(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void fail_va(const char *fmt, va_list ap) __attribute__((noreturn));
static void fail_va(const char *fmt, va_list ap) {
    cli();
    kprintf("[harness] FAIL: ");
    kvprintf(fmt, ap);
    kprintf("\n[harness] end %s FAIL\n", selected ? selected->name : "-");
    qemu_exit(QEMU_EXIT_FAIL);
}

void harness_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fail_va(fmt, ap);
}

void harness_check(int ok, const char *fmt, ...) {
    checks++;
    if (ok)
        return;
    va_list ap;
    va_start(ap, fmt);
    fail_va(fmt, ap);
}

void harness_pass(void) {
    cli();
    kprintf("[harness] end %s PASS checks=%u proof=%08x%08x\n", selected->name, checks, (uint32_t)(proof >> 32),
            (uint32_t)proof);
    if (harness_param_u32("halt", 0))
        for (;;)
            hlt(); // interrupts are off: the grader inspects, then quits QEMU
    qemu_exit(QEMU_EXIT_PASS);
}
