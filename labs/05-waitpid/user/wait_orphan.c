// Test program (wait_orphans): orphans go to init. Run as pid 1, it plays
// init: it forks A and reaps with waitpid(-1) until it has no children
// left. A forks B and waits for it. B forks EARLY children that exit at
// once (zombies when B exits) and LATE ones that wait until B has exited,
// check that their parent is now init, sleep, and exit. B exits; A sleeps
// a while (init must reap B's zombie children meanwhile: the harness checks
// that nobody sleeps in waitpid next to a zombie child), then exits. Init
// must reap A and every one of B's children, each with its exit code:
// A 10, B 20 (reaped by A), child i 30 + i. Ends through test_exit(number of
// failed checks). Usage: wait_orphan EARLY LATE
#include "user.h"

#define CODE_A 10
#define CODE_B 20
#define CODE_ORPHAN 30

static void orphan(int i, int late, int b) {
    if (late) {
        while (getppid() == b) // until B has exited
            yield();
        printf("wait_orphan: orphan %d (pid %d) sees its parent is now %d\n", i, getpid(), getppid());
        sleep(3);
    }
    exit(CODE_ORPHAN + i);
}

static void b_role(int early, int late) {
    int me = getpid();
    for (int i = 0; i < early + late; i++)
        if (fork() == 0)
            orphan(i, i >= early, me);
    for (int i = 0; i < 10; i++) // the early ones exit meanwhile
        yield();
    printf("wait_orphan: B %d exits; its %d children go to init\n", me, early + late);
    exit(CODE_B);
}

static void a_role(int early, int late) {
    int b = fork(), status = -1;
    if (b == 0)
        b_role(early, late);
    int got = waitpid(b, &status, 0);
    if (got != b || !WIFEXITED(status) || WEXITSTATUS(status) != CODE_B)
        printf("wait_orphan: FAIL: A's waitpid(%d) returned %d, status 0x%x\n", b, got, status);
    sleep(5);
    exit(CODE_A);
}

int main(int argc, char **argv) {
    int early = argc > 1 ? atoi(argv[1]) : 2, late = argc > 2 ? atoi(argv[2]) : 2;
    int me = getpid(), a = fork(), pid, status, reaped = 0, failures = 0;
    if (a == 0)
        a_role(early, late);
    while ((pid = waitpid(-1, &status, 0)) > 0) {
        reaped++;
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        int good = pid == a ? code == CODE_A : code >= CODE_ORPHAN && code < CODE_ORPHAN + early + late;
        if (!good) {
            printf("wait_orphan: FAIL: init reaped pid %d with status 0x%x\n", pid, status);
            failures++;
        }
    }
    if (reaped != 1 + early + late) {
        printf("wait_orphan: FAIL: init reaped %d processes, expected %d (A and B's %d children)\n", reaped,
               1 + early + late, early + late);
        failures++;
    }
    if (!failures)
        printf("wait_orphan: init %d reaped %d processes: its child and %d orphans, exit codes right\n", me, reaped,
               early + late);
    test_exit(failures);
}
