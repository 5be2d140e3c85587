// A QEMU TCG plugin that counts, for each call site the grader names, how
// often the call instruction ran and how often control came back to the
// instruction right after it (its return site). The grader
// (grader/callwatch.py) reads the counts at the pass stop: a call into gap
// code whose activation never came back to its return site means the gap
// code left it some other way (a rewritten return address, a jump into
// trusted code).
//
// A return site can also be the target of a jump in its own function (code
// after the call shared with another path). Such an arrival is told apart
// from a return because the jump instruction ran last among the watched
// ones: every direct jump to a return site is watched too.
//
//   -plugin callwatch.so,sites=FILE,counts=FILE
//
// sites: pairs of little-endian 32-bit (call address, return address),
// sorted by call address. counts: a file of 2 x 8 bytes per site, zeroed by
// the grader and mapped here: calls then returns, as they happen.
//
// The few declarations of QEMU's plugin API this needs are written out
// below (the API's header is not packaged); they are the API version 1
// calls that every QEMU since 4.2 exports.
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                           void (*cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb));
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            void (*cb)(unsigned int vcpu, void *userdata),
                                            enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

struct site {
    uint32_t call, ret;
};

static struct site *sites;      // sorted by call
static struct site *by_return;  // the same, sorted by return (call holds the index)
static size_t site_count;
static uint64_t *counts;        // [2 * i]: calls at site i; [2 * i + 1]: returns to it
static uint32_t jumped_to;      // the return site a watched jump (taken or not) went for last, else 0

static void at_call(unsigned int vcpu, void *site) {
    (void)vcpu;
    counts[2 * (uintptr_t)site]++;
    jumped_to = 0;
}

static void at_return_site(unsigned int vcpu, void *site) {
    (void)vcpu;
    if (jumped_to != sites[(uintptr_t)site].ret)
        counts[2 * (uintptr_t)site + 1]++;
    jumped_to = 0;
}

static void at_jump(unsigned int vcpu, void *target) {
    (void)vcpu;
    jumped_to = (uint32_t)(uintptr_t)target;
}

// The target of a direct jump (jmp, jcc, loop, jcxz) at `pc`, or 0.
static uint32_t jump_target(const uint8_t *b, size_t size, uint64_t pc) {
    uint64_t next = pc + size;
    if (size == 2 && ((b[0] >= 0x70 && b[0] <= 0x7f) || b[0] == 0xeb || (b[0] >= 0xe0 && b[0] <= 0xe3)))
        return (uint32_t)(next + (int8_t)b[1]);
    int32_t rel;
    if (size == 5 && b[0] == 0xe9) {
        memcpy(&rel, b + 1, 4);
        return (uint32_t)(next + rel);
    }
    if (size == 6 && b[0] == 0x0f && b[1] >= 0x80 && b[1] <= 0x8f) {
        memcpy(&rel, b + 2, 4);
        return (uint32_t)(next + rel);
    }
    return 0;
}

// Index of the entry whose `key` field is `addr` in an array sorted by it.
static long find(const struct site *a, uint32_t addr, int by_ret) {
    size_t lo = 0, hi = site_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint32_t key = by_ret ? a[mid].ret : a[mid].call;
        if (key == addr)
            return (long)mid;
        if (key < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static void translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    for (size_t i = 0; i < qemu_plugin_tb_n_insns(tb); i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        if (pc > UINT32_MAX)
            continue;
        long at = find(sites, (uint32_t)pc, 0);
        if (at >= 0)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, at_call, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)at);
        at = find(by_return, (uint32_t)pc, 1);
        if (at >= 0)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, at_return_site, QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)(uintptr_t)by_return[at].call);
        uint32_t target = jump_target(qemu_plugin_insn_data(insn), qemu_plugin_insn_size(insn), pc);
        if (target && find(by_return, target, 1) >= 0)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, at_jump, QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)(uintptr_t)target);
    }
}

static int by_ret(const void *a, const void *b) {
    uint32_t x = ((const struct site *)a)->ret, y = ((const struct site *)b)->ret;
    return x < y ? -1 : x > y;
}

// Maps `path` (size bytes, shared with the grader).
static void *map(const char *path, size_t size, int writable) {
    int fd = open(path, writable ? O_RDWR : O_RDONLY);
    if (fd < 0)
        return NULL;
    void *p = size ? mmap(NULL, size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0) : NULL;
    close(fd);
    return p == MAP_FAILED ? NULL : p;
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const void *info, int argc,
                                                               char **argv) {
    (void)info;
    const char *sites_path = NULL, *counts_path = NULL;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "sites=", 6) == 0)
            sites_path = argv[i] + 6;
        else if (strncmp(argv[i], "counts=", 7) == 0)
            counts_path = argv[i] + 7;
    }
    struct stat st;
    if (!sites_path || !counts_path || stat(sites_path, &st) != 0) {
        fprintf(stderr, "callwatch: usage: -plugin callwatch.so,sites=FILE,counts=FILE\n");
        return -1;
    }
    site_count = (size_t)st.st_size / sizeof(struct site);
    if (site_count) {
        const struct site *file = map(sites_path, site_count * sizeof(struct site), 0);
        counts = map(counts_path, site_count * 2 * sizeof(uint64_t), 1);
        sites = malloc(site_count * sizeof(struct site));
        by_return = malloc(site_count * sizeof(struct site));
        if (!file || !counts || !sites || !by_return) {
            fprintf(stderr, "callwatch: cannot map %s or %s\n", sites_path, counts_path);
            return -1;
        }
        memcpy(sites, file, site_count * sizeof(struct site));
        for (size_t i = 0; i < site_count; i++)
            by_return[i] = (struct site){(uint32_t)i, sites[i].ret};
        qsort(by_return, site_count, sizeof(struct site), by_ret);
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, translate);
    return 0;
}
