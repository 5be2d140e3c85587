// Where every program starts. exec (kernel/exec.c) leaves ESP 16-byte
// aligned, pointing at argc with argv above it: the stack of a call to
// start(argc, argv) minus the return address, which `call` pushes.
.text
.global _start
_start:
    xor %ebp, %ebp          // the end of every backtrace
    call start              // never returns
