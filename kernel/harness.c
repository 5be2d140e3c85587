// The test harness (see harness.h and grader/PROTOCOL.md).
#include <stdbool.h>
#include <string.h>
#include "bootinfo.h"
#include "harness.h"
#include "kprintf.h"
#include "memlayout.h"
#include "qemu.h"
#include "x86.h"

#define MAX_PARAMS 24
#define GLOBAL_PARAMS "test seed"

struct param {
    char *key;
    char *value;
};

extern const struct harness_test __harness_tests_start[], __harness_tests_end[];

// What harness_init sets up, once, before any lab code runs; nothing writes
// it afterwards (the grader watches it and flags writes for review).
static struct {
    char cmdline[BOOTINFO_CMDLINE_MAX]; // split in place into params
    struct param params[MAX_PARAMS];
    int param_count;
    const struct harness_test *selected;
} setup HARNESS_SETTLED;

static uint32_t rng_state; // xorshift32
static uint32_t checks;

// Where the grader stops the guest (grader/observer.py): trusted code reads
// one of these words, and the grader's read watchpoint on it (through QEMU's
// gdbstub, invisible to the guest) stops the guest right after the read.
// Not breakpoints: QEMU throws away all the code it has translated at every
// breakpoint stop, and translating it again costs about a millisecond. The
// words have their page to themselves: QEMU checks every access to a
// watched page against the watchpoints.
uint32_t harness_stops[PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));
// Byte offsets of the stop words (the assembly below uses them too).
#define STOP_ARM 0
#define STOP_START 4
#define STOP_PASS 8
#define STOP_HOOK 12
#define STRINGIFY(x) #x
#define STR(x) STRINGIFY(x)

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
    strlcpy(setup.cmdline, bootinfo()->cmdline, sizeof setup.cmdline);
    char *p = setup.cmdline;
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
        if (setup.param_count == MAX_PARAMS) {
            kprintf("cmdline: more than %d parameters, '%s' ignored\n", MAX_PARAMS, start);
            continue;
        }
        setup.params[setup.param_count++] = (struct param){start, eq + 1};
    }
}

const char *harness_param(const char *name) {
    for (int i = 0; i < setup.param_count; i++)
        if (strcmp(setup.params[i].key, name) == 0)
            return setup.params[i].value;
    return NULL;
}

static void check_params(void) {
    const struct harness_test *t = setup.selected;
    for (int i = 0; i < setup.param_count; i++) {
        const char *key = setup.params[i].key;
        if (word_in(key, GLOBAL_PARAMS) || (t && word_in(key, t->params)))
            continue;
        if (t)
            harness_fail("cmdline: unknown parameter '%s' (test %s takes: %s)", key, t->name,
                         *t->params ? t->params : "none");
        kprintf("cmdline: unknown parameter '%s', ignored\n", key);
    }
}

void harness_init(void) {
    parse_cmdline();
    const char *name = harness_param("test");
    if (name && !(setup.selected = find_test(name))) {
        kprintf("harness: no test named '%s'. Tests in this kernel:\n", name);
        harness_list_tests();
        qemu_exit(QEMU_EXIT_FAIL);
    }
    rng_state = harness_param_u32("seed", 1) | 1;
    if (setup.selected)
        kprintf("[harness] begin %s seed=%u\n", setup.selected->name, harness_param_u32("seed", 1));
    check_params();
}

// harness_start_test(run) calls the selected test, harness_call_hook(fn,
// arg) a hook that may pass it, and harness_pass() ends it. Each reads its
// stop word first, in assembly: the grader knows these bytes
// (grader/kernelmap.py), so it knows the stack at each stop. At the start
// and hook stops, ESP is 4 bytes above the called function's ESP at its
// first instruction; at the pass stop, ESP and EBP are still the caller's.
__asm__(".pushsection .text\n"
        ".globl harness_start_test\n"
        ".type harness_start_test, @function\n"
        "harness_start_test:\n\t"
        "push %ebp\n\t"
        "mov %esp, %ebp\n\t"
        "cmpl $0, harness_stops + " STR(STOP_START) "\n\t"
        "call *8(%ebp)\n\t"
        "leave\n\t"
        "ret\n"
        ".size harness_start_test, . - harness_start_test\n"
        ".globl harness_call_hook\n"
        ".type harness_call_hook, @function\n"
        "harness_call_hook:\n\t"
        "push %ebp\n\t"
        "mov %esp, %ebp\n\t"
        "pushl 12(%ebp)\n\t"
        "cmpl $0, harness_stops + " STR(STOP_HOOK) "\n\t"
        "call *8(%ebp)\n\t"
        "leave\n\t"
        "ret\n"
        ".size harness_call_hook, . - harness_call_hook\n"
        ".globl harness_pass\n"
        ".type harness_pass, @function\n"
        "harness_pass:\n\t"
        "cmpl $0, harness_stops + " STR(STOP_PASS) "\n\t"
        "jmp pass_checked\n"
        ".size harness_pass, . - harness_pass\n"
        ".popsection");
void harness_start_test(void (*run)(void));

// kmain calls this first for HARNESS_EARLY, before any lab code has run:
// the grader arms its watchpoints at that first stop.
void harness_run_stage(enum harness_stage stage) {
    (void)*(volatile uint32_t *)&harness_stops[STOP_ARM / 4];
    const struct harness_test *t = setup.selected;
    if (t && t->stage == stage) {
        harness_start_test(t->run);
        harness_fail("test %s returned without passing or failing", t->name);
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
    kprintf("\n[harness] end %s FAIL\n", setup.selected ? setup.selected->name : "-");
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

// The trusted pass point, after its stop: the grader has checked who called
// harness_pass and that the kernel is intact; now the end marker and exit.
__attribute__((used, noreturn)) static void pass_checked(void) {
    cli();
    kprintf("[harness] end %s PASS checks=%u\n", setup.selected->name, checks);
    qemu_exit(QEMU_EXIT_PASS);
}
