// regcall(): a system call made with chosen values in the registers that do
// not carry its result, for the register tests of lab 4 (fork_regs and
// fork_victim include it).
//
// regcall(number, in, out) loads EBX, ECX, EDX, ESI, EDI and EBP from
// in[0..5], makes system call `number`, stores those six registers as they
// came back into out[0..5], and returns EAX. regcall_esp_before and
// regcall_esp_after hold ESP just before and just after `int $0x80`.
#ifndef LAB4_REGCALL_H
#define LAB4_REGCALL_H

#include "user.h"

#define REGCALL_REGS 6
static const char *const regcall_names[REGCALL_REGS] = {"EBX", "ECX", "EDX", "ESI", "EDI", "EBP"};

uint32_t regcall_esp_before, regcall_esp_after;
int regcall(int number, const uint32_t in[REGCALL_REGS], uint32_t out[REGCALL_REGS]);

__asm__(".text\n"
        ".globl regcall\n"
        "regcall:\n"
        "    push %ebp\n"
        "    push %ebx\n"
        "    push %esi\n"
        "    push %edi\n"
        "    mov 24(%esp), %eax\n" // in (number is at 20, out at 28)
        "    mov 0(%eax), %ebx\n"
        "    mov 4(%eax), %ecx\n"
        "    mov 8(%eax), %edx\n"
        "    mov 12(%eax), %esi\n"
        "    mov 16(%eax), %edi\n"
        "    mov 20(%eax), %ebp\n"
        "    mov 20(%esp), %eax\n"
        "    mov %esp, regcall_esp_before\n"
        "    int $0x80\n"
        "    mov %esp, regcall_esp_after\n"
        "    push %eax\n"
        "    mov 32(%esp), %eax\n" // out, one push further
        "    mov %ebx, 0(%eax)\n"
        "    mov %ecx, 4(%eax)\n"
        "    mov %edx, 8(%eax)\n"
        "    mov %esi, 12(%eax)\n"
        "    mov %edi, 16(%eax)\n"
        "    mov %ebp, 20(%eax)\n"
        "    pop %eax\n"
        "    pop %edi\n"
        "    pop %esi\n"
        "    pop %ebx\n"
        "    pop %ebp\n"
        "    ret\n");

// Values for in[]: different in every register and every call.
static inline void regcall_values(uint32_t seed, uint32_t call, uint32_t in[REGCALL_REGS]) {
    for (uint32_t r = 0; r < REGCALL_REGS; r++)
        in[r] = (seed + call * 0x01000193u) * (2 * r + 3) ^ (0xA5A50000u + r);
}

// Prints a line for every register (and ESP) that changed across the call:
// how many did.
static inline int regcall_changed(const char *who, const char *call, const uint32_t in[REGCALL_REGS],
                                  const uint32_t out[REGCALL_REGS]) {
    int changed = 0;
    for (int r = 0; r < REGCALL_REGS; r++) {
        if (in[r] == out[r])
            continue;
        printf("%s: FAIL: %s is 0x%x after %s, it was 0x%x\n", who, regcall_names[r], out[r], call, in[r]);
        changed++;
    }
    if (regcall_esp_after != regcall_esp_before) {
        printf("%s: FAIL: ESP is 0x%x after %s, it was 0x%x\n", who, regcall_esp_after, call, regcall_esp_before);
        changed++;
    }
    return changed;
}

#endif
