// Test program (wait_scan): waitpid's search of the process table. The
// program runs alone, in slot 0, and a new process takes the lowest free
// slot, so each case puts children in known slots:
// 1. a zombie after a live child: L (slot 1) waits in read, Z (slot 2)
//    exits at once. waitpid(-1) must return Z without waiting for L (the
//    harness types L's line only once the parent reports).
// 2. a zombie after a free slot: A (slot 1) and B (slot 2) exit at once.
//    Once A is reaped by pid, waitpid(-1) must find B past the free slot.
// 3. a full table: fork until fork fails; the last child is in the table's
//    last slot. Every child exits at once. waitpid on the last one by pid,
//    then -1 for each of the others, then -1 once none is left.
// Ends through test_exit(number of failed checks). Usage: wait_scan
#include "user.h"

#define MAX_CHILDREN 64
#define CODE_L 11
#define CODE_Z 12
#define CODE_A 13
#define CODE_B 14
#define CODE_FULL 100 // + the child's index

static int failures;

static int spawn_exiting(int code) {
    int pid = fork();
    if (pid == 0)
        exit(code);
    return pid;
}

// waitpid(pid) must return `want` with exit code `code`.
static void expect_reap(int pid, int want, int code, const char *what) {
    int status = -1, got = waitpid(pid, &status, 0);
    printf("wait_scan: %s: waitpid(%d) returned %d\n", what, pid, got);
    if (got != want || !WIFEXITED(status) || WEXITSTATUS(status) != code) {
        printf("wait_scan: FAIL: %s: waitpid(%d) returned %d, status 0x%x; expected %d with exit code %d\n", what, pid,
               got, status, want, code);
        failures++;
    }
}

static void live_then_zombie(void) {
    int live = fork();
    if (live == 0) {
        char line[16];
        read(0, line, sizeof line); // typed by the harness after the parent's report
        exit(CODE_L);
    }
    int zombie = spawn_exiting(CODE_Z);
    printf("wait_scan: case 1: live child %d, then child %d that exits\n", live, zombie);
    expect_reap(-1, zombie, CODE_Z, "case 1, while the live child waits");
    expect_reap(live, live, CODE_L, "case 1, the live child");
}

static void zombie_after_hole(void) {
    int a = spawn_exiting(CODE_A), b = spawn_exiting(CODE_B);
    printf("wait_scan: case 2: children %d and %d exit\n", a, b);
    expect_reap(a, a, CODE_A, "case 2, the first by pid");
    expect_reap(-1, b, CODE_B, "case 2, past the free slot");
}

static void full_table(void) {
    int pids[MAX_CHILDREN], n = 0, pid = 0;
    while (n < MAX_CHILDREN && (pid = spawn_exiting(CODE_FULL + n)) > 0)
        pids[n++] = pid;
    if (pid != -1 || n == 0) {
        printf("wait_scan: FAIL: case 3: fork returned %d after %d children\n", pid, n);
        failures++;
        return;
    }
    int last = pids[n - 1];
    printf("wait_scan: case 3: %d children fill the table, the last is %d\n", n, last);
    expect_reap(last, last, CODE_FULL + n - 1, "case 3, the child in the last slot");
    for (int k = 0; k < n - 1; k++) {
        int status = -1, got = waitpid(-1, &status, 0), i = 0;
        while (i < n - 1 && pids[i] != got)
            i++;
        if (i == n - 1 || !WIFEXITED(status) || WEXITSTATUS(status) != CODE_FULL + i) {
            printf("wait_scan: FAIL: case 3: waitpid(-1) returned %d, status 0x%x\n", got, status);
            failures++;
            return;
        }
        pids[i] = 0; // reaped
    }
    int none = waitpid(-1, NULL, 0);
    printf("wait_scan: case 3: reaped all %d children, then waitpid(-1) returned %d\n", n, none);
    if (none != -1) {
        printf("wait_scan: FAIL: case 3: waitpid(-1) returned %d with no children left, expected -1\n", none);
        failures++;
    }
}

int main(void) {
    live_then_zombie();
    zombie_after_hole();
    full_table();
    test_exit(failures);
}
