// Interrupt entry stubs. Each vector pushes an error code (a dummy 0 when the
// CPU pushes none) and its number, then trap_common saves the rest of a
// registers_t (regs.h) and calls trap_dispatch(registers_t *).

.macro VECTOR n
trap_vector_\n:
    .if (\n == 8 || (\n >= 10 && \n <= 14) || \n == 17 || \n == 21 || \n == 29 || \n == 30)
    .else
    push $0
    .endif
    push $\n
    jmp trap_common
.endm

.text
.altmacro
.set i, 0
.rept 48
    VECTOR %i
    .set i, i + 1
.endr
VECTOR 128

trap_common:
    pusha
    push %ds
    push %es
    push %fs
    push %gs
    mov $0x10, %ax          // SEG_KDATA
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    push %esp               // the registers_t * argument
    call trap_dispatch
    add $4, %esp
.global trap_return
trap_return:
    pop %gs
    pop %fs
    pop %es
    pop %ds
    popa
    add $8, %esp            // vector number and error code
    iret

// void trap_resume(registers_t *frame): returns through `frame` as if it had
// been pushed by an interrupt. Used to enter user mode the first time.
.global trap_resume
trap_resume:
    mov 4(%esp), %esp
    jmp trap_return

// The stub addresses, in vector order, for idt_init (the last is 0x80).
.macro VECTOR_ADDRESS n
    .long trap_vector_\n
.endm
.section .rodata
.global trap_vectors
trap_vectors:
.set i, 0
.rept 48
    VECTOR_ADDRESS %i
    .set i, i + 1
.endr
VECTOR_ADDRESS 128
