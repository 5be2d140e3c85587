// exec: a fresh address space for a program, built completely before the
// old one is let go, so that a failed exec leaves the caller as it was.
#include <string.h>
#include "exec.h"
#include "elf.h"
#include "gdt.h"
#include "kmalloc.h"
#include "paging.h"
#include "proc.h"
#include "programs.h"
#include "uvm.h"

// True when argv fits the limits; sets *argc.
static bool args_fit(char *const argv[], int *argc) {
    uint32_t bytes = 0;
    for (*argc = 0; argv[*argc]; (*argc)++) {
        if (*argc == EXEC_MAXARG)
            return false;
        bytes += strlen(argv[*argc]) + 1;
    }
    return bytes <= EXEC_ARGBYTES;
}

// Maps the stack of `pd_phys` and lays out the arguments the way crt0.S
// expects them; returns the initial ESP (16-byte aligned), 0 when out of
// memory. From the top: the strings, then (ESP) argc, argv, argv[0..argc].
static uint32_t setup_stack(uint32_t pd_phys, char *const argv[], int argc) {
    if (uvm_alloc(pd_phys, USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE, USER_STACK_TOP, PAGE_USER | PAGE_WRITE) < 0)
        return 0;
    uint32_t uargv[EXEC_MAXARG + 1];
    uint32_t sp = USER_STACK_TOP;
    for (int i = argc - 1; i >= 0; i--) {
        uint32_t len = strlen(argv[i]) + 1;
        sp -= len;
        uvm_copyout(pd_phys, sp, argv[i], len);
        uargv[i] = sp;
    }
    uargv[argc] = 0;
    sp = (sp - (argc + 1) * 4 - 8) & ~15u;
    uint32_t head[2] = {(uint32_t)argc, sp + 8};
    uvm_copyout(pd_phys, sp, head, sizeof head);
    uvm_copyout(pd_phys, sp + 8, uargv, (argc + 1) * 4);
    return sp;
}

// Gives `p` directory `pd_phys` and frees its old one, if any. A loaded
// directory cannot be freed: when the old one is loaded, the new one
// replaces it in CR3 first.
static void replace_address_space(struct process *p, uint32_t pd_phys) {
    uint32_t old = p->pd_phys;
    p->pd_phys = pd_phys;
    if (!old)
        return;
    if (read_cr3() == old)
        paging_switch_directory(pd_phys);
    paging_free_directory(old);
}

// A user-mode frame that starts at `entry` with stack `sp`, interrupts on.
static void start_frame(registers_t *frame, uint32_t entry, uint32_t sp) {
    *frame = (registers_t){0};
    frame->cs = SEG_UCODE;
    frame->ds = frame->es = frame->fs = frame->gs = frame->user_ss = SEG_UDATA;
    frame->eflags = EFLAGS_IF;
    frame->eip = entry;
    frame->user_esp = sp;
}

int exec_program(struct process *p, registers_t *frame, const char *name, char *const argv[]) {
    const struct program *prog = program_find(name);
    int argc;
    if (!prog || !args_fit(argv, &argc))
        return -1;
    uint32_t pd_phys = paging_clone_directory();
    if (!pd_phys)
        return -1;
    uint32_t entry, end, sp = 0;
    if (elf_load(pd_phys, prog->image, prog->size, &entry, &end) < 0 || !(sp = setup_stack(pd_phys, argv, argc))) {
        paging_free_directory(pd_phys);
        return -1;
    }
    replace_address_space(p, pd_phys);
    start_frame(frame, entry, sp);
    strlcpy(p->name, prog->name, sizeof p->name);
    p->heap_start = p->brk = end;
    return 0;
}

struct process *process_spawn(const char *name, char *const argv[]) {
    proc_init();
    struct process *p = process_alloc();
    if (!p)
        return NULL;
    if (exec_program(p, &p->regs, name, argv) < 0) {
        process_free(p);
        return NULL;
    }
    process_make_ready(p);
    return p;
}

// An exec call's name and arguments, copied into the kernel.
struct exec_args {
    char name[PROC_NAME_MAX];
    char *argv[EXEC_MAXARG + 1];
    char strings[EXEC_ARGBYTES];
};

// Copies the user's name and argv into `a`: 0, or -1 for a bad pointer or
// arguments beyond the limits.
static int copy_args(struct exec_args *a, const char *uname, char *const *uargv) {
    uint32_t pd_phys = process_current()->pd_phys;
    if (uvm_copyinstr(pd_phys, a->name, (uint32_t)uname, sizeof a->name) < 0)
        return -1;
    uint32_t used = 0;
    for (int i = 0; i <= EXEC_MAXARG; i++) {
        uint32_t uarg;
        if (copy_from_user(&uarg, &uargv[i], sizeof uarg) < 0)
            return -1;
        a->argv[i] = uarg ? a->strings + used : NULL;
        if (!uarg)
            return 0;
        int len = uvm_copyinstr(pd_phys, a->argv[i], uarg, EXEC_ARGBYTES - used);
        if (len < 0)
            return -1;
        used += len + 1;
    }
    return -1; // more than EXEC_MAXARG arguments
}

int sys_exec(registers_t *frame, const char *uname, char *const *uargv) {
    struct exec_args *a = kmalloc(sizeof *a);
    if (!a)
        return -1;
    int result = copy_args(a, uname, uargv) < 0 ? -1 : exec_program(process_current(), frame, a->name, a->argv);
    kfree(a);
    return result;
}
