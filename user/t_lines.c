// Test program (user_lines): prints `count` lines tagged `tag`, one write
// each, yielding after every `every` lines so that another process prints in
// between; ends through test_exit(0). Usage: t_lines TAG COUNT EVERY
#include "user.h"

int main(int argc, char **argv) {
    const char *tag = argc > 1 ? argv[1] : "A";
    int count = argc > 2 ? atoi(argv[2]) : 100;
    int every = argc > 3 ? atoi(argv[3]) : 1;
    for (int i = 1; i <= count; i++) {
        printf("t_lines %s: line %d of %d from pid %d, the quick brown fox jumps over the lazy dog\n", tag, i, count,
               getpid());
        if (every > 0 && i % every == 0)
            yield();
    }
    test_exit(0);
}
