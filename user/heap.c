// heap: grows the heap with sbrk, fills and checks it, then gives it back.
#include "user.h"

int main(int argc, char **argv) {
    int pages = argc > 1 ? atoi(argv[1]) : 16;
    char *start = sbrk(0);
    char *p = sbrk(pages * 4096);
    if (p == (char *)-1) {
        printf("heap: sbrk(%d pages) failed\n", pages);
        return 1;
    }
    for (int i = 0; i < pages * 4096; i++)
        p[i] = (char)i;
    int bad = 0;
    for (int i = 0; i < pages * 4096; i++)
        bad += p[i] != (char)i;
    sbrk(-pages * 4096);
    printf("heap: %d pages at %p filled and checked, %d bad bytes; back to %p\n", pages, p, bad, sbrk(0));
    return bad != 0 || sbrk(0) != start;
}
