// Test program (fork_table_full): forks until fork fails, then once more.
// Each child waits until the parent has ended (getppid() becomes 0); then
// child 0 forks again, which must work now that slots are free, and that
// grandchild ends at once. Ends through test_exit: the parent with the
// number of children, the others with 0, or 100 + failed checks. A child
// knows it is one by its pid: this test does not depend on what fork
// returns when it works (fork_return tests that).
#include "user.h"

#define MAX_CHILDREN 64

static void child(int i) {
    while (getppid() != 0)
        sleep(1);
    if (i != 0)
        test_exit(0);
    int me = getpid(), pid = fork();
    if (getpid() != me) {
        printf("fork_full: grandchild %d: running\n", getpid());
        test_exit(0);
    }
    printf("fork_full: child 0 (pid %d): after the parent ended, fork %s\n", me, pid == -1 ? "failed" : "worked");
    test_exit(pid == -1 ? 101 : 0);
}

int main(void) {
    int me = getpid(), n = 0, pid = 0;
    while (n < MAX_CHILDREN && (pid = fork()) != -1) {
        if (getpid() != me)
            child(n);
        n++;
    }
    printf("fork_full: parent %d: %d children, then fork returned %d\n", me, n, pid);
    int again = fork();
    if (getpid() != me)
        test_exit(102); // a child although the table is full
    printf("fork_full: parent %d: fork returned %d again\n", me, again);
    test_exit(pid == -1 && again == -1 ? n : 100 + (pid != -1) + (again != -1));
}
