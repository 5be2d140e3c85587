// Test program (user_sbrk): the heap grows, shrinks and refuses what it
// cannot give without changing. Ends through test_exit(failed checks).
#include "user.h"

#define SIZE (3 * 4096 + 100)

int main(void) {
    char *base = sbrk(0);
    int failures = 0;
    failures += EXPECT(sbrk(SIZE) == base, 1);
    for (int i = 0; i < SIZE; i++)
        base[i] = (char)(i * 7);
    int bad = 0;
    for (int i = 0; i < SIZE; i++)
        bad += base[i] != (char)(i * 7);
    failures += EXPECT(bad, 0);
    failures += EXPECT(sbrk(0) == base + SIZE, 1);
    failures += EXPECT(sbrk(-SIZE) == base + SIZE, 1);
    failures += EXPECT(sbrk(0) == base, 1);
    failures += EXPECT((int)sbrk(-1), -1);         // below the program's end
    failures += EXPECT((int)sbrk(0x7FFFFFFF), -1); // past the stack
    failures += EXPECT((int)sbrk(0x7FF00000), -1); // more memory than there is
    failures += EXPECT(sbrk(0) == base, 1);
    failures += EXPECT(sbrk(4096) == base, 1);
    base[4095] = 1;
    test_exit(failures);
}
