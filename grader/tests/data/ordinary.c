// C that a correct gap file may well contain although the reference does
// not: the grader's screens (grader/screen.py) must accept all of it. The
// directives and instructions gcc emits for this file, the reference and
// the known mistakes are what those screens allow (test_compile.py).
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "kprintf.h"
#include "memlayout.h"
#include "paging.h"
#include "pmm.h"
#include "process.h"

struct frame_range {
    uint32_t first, count;
    uint8_t flags;
};

static struct frame_range ranges[8];  // .bss
static uint32_t zeros[64] = {1};      // .data with .zero
static const char tag[4] = "page";    // .ascii (no NUL)
static uint64_t total_bytes = 1ull << 40;  // 64-bit data
static int16_t shorts[4] = {-1, 2, -3, 4};
static uint32_t scratch[1024] __attribute__((aligned(4096)));

static int classify(int kind) {
    switch (kind) {  // a jump table in .rodata
    case 0: return 3;
    case 1: return 7;
    case 2: return 11;
    case 3: return 13;
    case 4: return 17;
    case 5: return 19;
    default: return -1;
    }
}

static uint32_t mix(uint32_t a, int32_t b, uint8_t c, int8_t d, uint16_t e) {
    uint32_t r = a * 2654435761u;
    r ^= (uint32_t)(b >> 3) + (uint32_t)(b / 7) + (uint32_t)(b % 5);
    r += a / (c | 1u) + a % (e | 1u) + (uint32_t)d;
    r = (r << 13) | (r >> 19);
    r -= (uint32_t)__builtin_ctz(a | 1) + (uint32_t)__builtin_clz(a | 1);
    r += (uint32_t)__builtin_bswap32(a);
    int64_t wide = (int64_t)b * (int64_t)a;
    r += (uint32_t)(wide >> 32) + (uint32_t)-b;
    r += a > (uint32_t)b ? 5u : 9u;
    r += (uint32_t)(b < 0) + (uint32_t)(d != 0);
    r |= (uint32_t)~a & 0xff;
    return r;
}

static bool bit_set(const uint32_t *bits, uint32_t n) { return bits[n / 32] >> (n % 32) & 1; }

static uint32_t counter;

uint32_t paging_get_physical(uint32_t vaddr) {
    struct frame_range copy = ranges[vaddr & 7];  // a struct copy
    ranges[(vaddr + 1) & 7] = copy;
    memset(scratch, 0, sizeof scratch);
    __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST);
    uint32_t flags = read_eflags();
    uint32_t r = mix(vaddr, (int32_t)vaddr, (uint8_t)vaddr, (int8_t)vaddr, (uint16_t)vaddr);
    r += (uint32_t)classify((int)(vaddr & 7)) + zeros[vaddr & 63] + (uint32_t)tag[vaddr & 3] +
         (uint32_t)total_bytes + (uint32_t)shorts[vaddr & 3] + bit_set(zeros, vaddr & 1023);
    if (flags & EFLAGS_IF)
        kprintf("interrupts on? %x\n", flags);
    if (r == 0xFFFFFFFFu)
        __builtin_trap();
    return r & 0;
}
