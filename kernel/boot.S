// Entry point. GRUB or QEMU jumps to _start in 32-bit protected mode with
// paging off, EAX = multiboot magic and EBX = physical address of the
// multiboot information (multiboot specification v0.6.96, section 3.2).

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 // bit 0: align modules; bit 1: give memory info

.section .multiboot, "a"
.align 4
.long MB_MAGIC
.long MB_FLAGS
.long -(MB_MAGIC + MB_FLAGS)

// The one kernel stack. Every interrupt from user mode lands at its top (the
// TSS points there), so kernel code never runs on a user stack.
.section .bss
.align 16
.global kernel_stack_bottom, kernel_stack_top
kernel_stack_bottom:
.skip 16384
kernel_stack_top:

.section .text
.global _start
.type _start, @function
_start:
    mov $kernel_stack_top, %esp
    xor %ebp, %ebp          // a zero frame pointer ends every backtrace
    push %ebx               // multiboot information
    push %eax               // multiboot magic
    call kmain
1:  cli
    hlt
    jmp 1b
