// Wrappers for the x86 instructions the kernel needs that C cannot express.
#ifndef KERNEL_X86_H
#define KERNEL_X86_H

#include <stdint.h>

#define CR0_PG 0x80000000u // paging enabled
#define CR0_WP 0x00010000u // ring 0 honours read-only pages
#define EFLAGS_IF 0x00000200u

static inline uint32_t read_cr0(void) {
    uint32_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

static inline void write_cr0(uint32_t v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }

static inline uint32_t read_cr2(void) {
    uint32_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static inline uint32_t read_cr3(void) {
    uint32_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

// Loading CR3 also flushes every non-global TLB entry.
static inline void write_cr3(uint32_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }

// Drops the TLB entry of one virtual page.
static inline void invlpg(uint32_t vaddr) { __asm__ volatile("invlpg (%0)" : : "r"(vaddr) : "memory"); }

static inline uint32_t read_eflags(void) {
    uint32_t v;
    __asm__ volatile("pushfl; popl %0" : "=r"(v));
    return v;
}

static inline uint32_t read_ebp(void) {
    uint32_t v;
    __asm__ volatile("mov %%ebp, %0" : "=r"(v));
    return v;
}

// The time-stamp counter. Under QEMU with -icount shift=0 it counts
// instructions exactly, which is what `make bench` measures with.
static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }

#endif
