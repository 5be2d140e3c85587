// Test program (user_fork; lab 4 only): fork gives the child a copy of the
// memory and 0 as result. Both end through test_exit: the parent with 1,
// the child with 2 (or 100 + the number of the failed check).
#include "user.h"

static int value = 1;

int main(void) {
    int parent = getpid();
    int pid = fork();
    if (pid == 0) {
        int ppid = getppid();
        printf("t_fork: child pid %d, parent %d, value %d\n", getpid(), ppid, value);
        value = 2;
        test_exit(ppid != parent ? 101 : 2);
    }
    sleep(2); // the child runs meanwhile
    printf("t_fork: parent pid %d forked child %d, value %d\n", parent, pid, value);
    test_exit(pid <= 0 ? 101 : value != 1 ? 102 : 1);
}
