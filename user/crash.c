// crash: faults on purpose, so that the kernel kills it. The argument says
// how: null (read address 0, the default), write (write to its own code),
// kernel (read kernel memory), ill (invalid opcode), div (divide by zero),
// stack (recurse until the stack overflows).
#include "user.h"

static volatile int zero;

static int recurse(int depth) {
    volatile char pad[1024];
    if (zero) // never: only there so that the recursion does not look endless
        return 0;
    pad[0] = (char)depth;
    return recurse(depth + 1) + pad[0];
}

int main(int argc, char **argv) {
    const char *how = argc > 1 ? argv[1] : "null";
    printf("crash: pid %d about to fault (%s)\n", getpid(), how);
    flush();
    if (strcmp(how, "null") == 0)
        return *(volatile int *)0;
    if (strcmp(how, "write") == 0)
        *(volatile int *)main = 0;
    else if (strcmp(how, "kernel") == 0)
        return *(volatile int *)0x00100000;
    else if (strcmp(how, "ill") == 0)
        __asm__ volatile("ud2");
    else if (strcmp(how, "div") == 0)
        return getpid() / zero; // not 1 / zero: GCC computes that without dividing
    else if (strcmp(how, "stack") == 0)
        return recurse(0);
    else
        printf("crash: unknown way '%s' (null write kernel ill div stack)\n", how);
    printf("crash: still alive\n");
    return 1;
}
