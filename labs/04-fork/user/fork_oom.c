// Test program (fork_out_of_memory): grows its heap by PAGES pages, forks
// once as a warm-up (the child ends at once, while the parent sleeps),
// then forks again and again. Before attempt K it prints "attempt K", and
// the harness makes the K-th frame allocation from then on fail: each such
// fork must return -1; the first one that meets no failure must work. Ends
// through test_exit(number of failed forks); the children with 0. A child
// knows it is one by its pid: this test does not depend on what fork
// returns when it works (fork_return tests that). Usage: fork_oom PAGES
#include "user.h"

#define MAX_ATTEMPTS 1000

int main(int argc, char **argv) {
    int pages = argc > 1 ? atoi(argv[1]) : 8, me = getpid();
    char *heap = sbrk(pages * 4096);
    if (heap == (char *)-1)
        test_exit(200);
    for (int i = 0; i < pages; i++)
        heap[i * 4096] = (char)i;
    int pid = fork();
    if (getpid() != me)
        test_exit(0);
    printf("fork_oom: warm-up fork %s\n", pid == -1 ? "failed" : "worked");
    sleep(2); // the warm-up child ends meanwhile
    int k;
    for (k = 1; k <= MAX_ATTEMPTS; k++) {
        printf("fork_oom: attempt %d\n", k);
        pid = fork();
        if (getpid() != me)
            test_exit(0);
        if (pid != -1)
            break;
    }
    printf("fork_oom: fork returned -1 %d times, then it worked\n", k - 1);
    test_exit(k - 1);
}
