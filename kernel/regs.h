// registers_t: the frame every interrupt stub (trap_entry.S) pushes on the
// kernel stack, in push order reversed (the lowest address first).
#ifndef KERNEL_REGS_H
#define KERNEL_REGS_H

#include <stdint.h>

typedef struct registers {
    uint32_t gs, fs, es, ds;                            // pushed by the stub
    uint32_t edi, esi, ebp, esp_at_trap, ebx, edx, ecx, eax; // pusha
    uint32_t int_no, err_code;                          // vector; error code or 0
    uint32_t eip, cs, eflags;                           // pushed by the CPU
    uint32_t user_esp, user_ss; // pushed by the CPU only when coming from ring 3
} registers_t;

// True when the frame interrupted user code (ring 3).
static inline int regs_from_user(const registers_t *r) { return (r->cs & 3) == 3; }

#endif
