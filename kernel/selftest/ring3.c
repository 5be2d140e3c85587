// Accesses from ring 3 without a process (ring3.h).
#include <string.h>
#include "exception.h"
#include "gdt.h"
#include "harness.h"
#include "kprintf.h"
#include "memlayout.h"
#include "ring3.h"
#include "trap.h"
#include "x86.h"

// The code ring 3 runs: EDX 0 reads the word at ECX into EAX, 1 writes EAX
// there; then int $0x80 reports back. Position-independent: it is copied.
__asm__(".pushsection .rodata\n"
        "ring3_code:\n"
        "    test %edx, %edx\n"
        "    jnz 1f\n"
        "    mov (%ecx), %eax\n"
        "    int $0x80\n"
        "1:  mov %eax, (%ecx)\n"
        "    int $0x80\n"
        "ring3_code_end:\n"
        ".popsection");
extern const char ring3_code[], ring3_code_end[];

#define EFLAGS_RESERVED 0x2u // interrupts stay off in ring 3: no timer

static struct {
    uint32_t entry;
    struct ring3_access *accesses;
    int n, next;
    void (*done)(const struct ring3_access *code_fault);
    struct ring3_access code_fault;
    registers_t frame;
} run;

// Points `frame` at the next access, or ends the run.
static void next_access(registers_t *frame) {
    if (run.next == run.n) {
        harness_call_hook((uintptr_t)run.done, (uintptr_t)&run.code_fault);
        panic("ring3_run: the done function returned");
    }
    struct ring3_access *a = &run.accesses[run.next];
    frame->eip = run.entry;
    frame->ecx = a->addr;
    frame->edx = a->write;
    frame->eax = a->value;
}

static void came_back(registers_t *frame) {
    struct ring3_access *a = &run.accesses[run.next++];
    if (!a->write)
        a->value = frame->eax;
    next_access(frame);
}

static void faulted(registers_t *frame) {
    struct ring3_access fault = {.faulted = true, .vector = frame->int_no, .cr2 = read_cr2(), .err = frame->err_code};
    if (frame->int_no == T_PAGE_FAULT && fault.cr2 == frame->eip) { // fetching the code itself
        fault.addr = frame->eip;
        run.code_fault = fault;
        harness_call_hook((uintptr_t)run.done, (uintptr_t)&run.code_fault);
        panic("ring3_run: the done function returned");
    }
    struct ring3_access *a = &run.accesses[run.next++];
    fault.addr = a->addr, fault.write = a->write, fault.value = a->value;
    *a = fault;
    next_access(frame);
}

void ring3_run(uint32_t code_vaddr, uint32_t code_frame, struct ring3_access *accesses, int n,
               void (*done)(const struct ring3_access *code_fault)) {
    memcpy((void *)code_frame, ring3_code, (size_t)(ring3_code_end - ring3_code));
    run.entry = code_vaddr;
    run.accesses = accesses;
    run.n = n;
    run.next = 0;
    run.done = done;
    run.code_fault = (struct ring3_access){.faulted = false};
    trap_set_handler(T_SYSCALL, came_back);
    exception_set_user_handler(faulted);
    run.frame = (registers_t){.gs = SEG_UDATA, .fs = SEG_UDATA, .es = SEG_UDATA, .ds = SEG_UDATA, .cs = SEG_UCODE,
                              .eflags = EFLAGS_RESERVED, .user_esp = code_vaddr, .user_ss = SEG_UDATA};
    next_access(&run.frame);
    trap_resume(&run.frame);
}
