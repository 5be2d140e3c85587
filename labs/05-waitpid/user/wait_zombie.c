// Test program (wait_zombie): what a zombie still holds. Forks two children
// that grow their heap by PAGES (then PAGES + 1) pages, write to each page,
// and exit: the first while the parent waits for it in waitpid, the second
// while the parent waits in read (the harness types a line once that child
// is a zombie). The harness notes each child's address space as it calls
// exit and checks, the moment the child is a zombie and before the parent
// reaps it, that all of it is free. Ends through test_exit(number of failed
// checks). Usage: wait_zombie PAGES CODE1 CODE2
#include "user.h"

static void child(int pages, int code) {
    char *heap = sbrk(pages * 4096);
    if (heap == (char *)-1) {
        printf("wait_zombie: FAIL: child %d: sbrk(%d pages) failed\n", getpid(), pages);
        exit(255);
    }
    for (int i = 0; i < pages; i++)
        heap[i * 4096] = (char)i;
    printf("wait_zombie: child %d exits with %d\n", getpid(), code);
    exit(code);
}

// Reaps `pid`, which must have exited with `code`: 0, or 1 on failure.
static int reap(int pid, int code) {
    int status = -1, got = waitpid(pid, &status, 0);
    if (got != pid || !WIFEXITED(status) || WEXITSTATUS(status) != code) {
        printf("wait_zombie: FAIL: waitpid(%d) returned %d, status 0x%x; expected exit code %d\n", pid, got, status,
               code);
        return 1;
    }
    printf("wait_zombie: reaped child %d, exit code %d\n", got, code);
    return 0;
}

int main(int argc, char **argv) {
    int pages = argc > 1 ? atoi(argv[1]) : 8;
    int code1 = argc > 2 ? atoi(argv[2]) : 3, code2 = argc > 3 ? atoi(argv[3]) : 4;
    int first = fork();
    if (first == 0) {
        yield(); // the parent gets to its waitpid first
        child(pages, code1);
    }
    int failures = reap(first, code1);
    int second = fork();
    if (second == 0)
        child(pages + 1, code2);
    char line[16];
    read(0, line, sizeof line); // typed by the harness once the child is a zombie
    failures += reap(second, code2);
    test_exit(failures);
}
