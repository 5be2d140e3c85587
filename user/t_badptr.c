// Test program (user_bad_pointers): system calls with pointers the caller
// does not own must fail with -1, never crash the kernel. Ends through
// test_exit with the number of failed checks. (waitpid's status pointer:
// t_waitbad, which needs labs 4 and 5.)
#include "user.h"

#define KERNEL_ADDR ((void *)0x00100000) // the kernel image: kernel-only
#define KERNEL_TOP ((void *)0xC0000000)  // USER_TOP: the first kernel address above user space
#define HEAP_ADDR ((void *)0xD0000000)   // the kernel heap
#define UNMAPPED ((void *)0x80000000)    // user space, nothing mapped there

int main(void) {
    char buf[16];
    char *code = (char *)main; // mapped, but read-only
    char *end = (char *)(((uint32_t)sbrk(0) + 4095) & ~4095u); // the last mapped data page ends here
    char *bad_string[] = {"t_hello", UNMAPPED, NULL};
    int failures = 0;
    failures += EXPECT(write(1, NULL, 4), -1);
    failures += EXPECT(write(1, KERNEL_ADDR, 4), -1);
    failures += EXPECT(write(1, HEAP_ADDR, 4), -1);
    failures += EXPECT(write(1, UNMAPPED, 4), -1);
    failures += EXPECT(write(1, (char *)KERNEL_TOP - 2, 4), -1);
    failures += EXPECT(write(1, end - 2, 4), -1);
    failures += EXPECT(write(7, "x\n", 2), -1);
    failures += EXPECT(write(1, "x\n", -1), -1);
    failures += EXPECT(read(0, NULL, 8), -1);
    failures += EXPECT(read(0, KERNEL_ADDR, 8), -1);
    failures += EXPECT(read(0, code, 8), -1);
    failures += EXPECT(read(0, end - 2, 8), -1);
    failures += EXPECT(read(1, buf, 8), -1);
    failures += EXPECT(exec(NULL, bad_string), -1);
    failures += EXPECT(exec(KERNEL_ADDR, bad_string), -1);
    failures += EXPECT(exec("t_hello", KERNEL_ADDR), -1);
    failures += EXPECT(exec("t_hello", bad_string), -1);
    failures += EXPECT(programs(KERNEL_ADDR, 4096), -1);
    failures += EXPECT(programs(buf, 1), -1);
    failures += EXPECT(write(1, "t_badptr: the kernel is still fine\n", 35), 35);
    test_exit(failures);
}
