// Test program (wait_any_order): forks one child per exit code; child i
// sleeps DELAYS[i] ticks and exits with CODES[i]. The parent reaps the
// children ORDER names by pid, in that order, then the others with
// waitpid(-1), checking each status; then waitpid(-1) must return -1 (no
// children left). Ends through test_exit(number of failed checks).
// Usage: wait_order CODES DELAYS ORDER (comma-separated lists)
#include "user.h"

#define MAX_CHILDREN 12

// Parses "3,0,255" into out[]: how many numbers.
static int parse_list(const char *s, int *out, int max) {
    int n = 0;
    while (*s && n < max) {
        out[n++] = atoi(s);
        while (*s && *s != ',')
            s++;
        s += *s == ',';
    }
    return n;
}

static int codes[MAX_CHILDREN], pids[MAX_CHILDREN], reaped[MAX_CHILDREN];
static int children, failures;

static int index_of(int pid) {
    for (int i = 0; i < children; i++)
        if (pids[i] == pid)
            return i;
    return -1;
}

// Checks what waitpid(asked, ...) returned; prints the child it reaped.
static void check(int asked, int got, int status, const char *how) {
    int i = index_of(got);
    if (got <= 0 || i < 0 || (asked > 0 && got != asked) || reaped[i]) {
        printf("wait_order: FAIL: waitpid(%d) returned %d%s\n", asked, got, i >= 0 && reaped[i] ? ", reaped before" : "");
        failures++;
        return;
    }
    reaped[i] = 1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != codes[i]) {
        printf("wait_order: FAIL: child %d (pid %d) exited with %d, but waitpid gave status 0x%x (%s %d)\n", i, got,
               codes[i], status, WIFEXITED(status) ? "exit code" : "signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        failures++;
        return;
    }
    printf("wait_order: reaped child %d (pid %d) %s, exit code %d\n", i, got, how, WEXITSTATUS(status));
}

int main(int argc, char **argv) {
    int delays[MAX_CHILDREN], order[MAX_CHILDREN], status;
    children = parse_list(argc > 1 ? argv[1] : "1,2", codes, MAX_CHILDREN);
    parse_list(argc > 2 ? argv[2] : "0,0", delays, MAX_CHILDREN);
    int by_pid = parse_list(argc > 3 ? argv[3] : "1", order, MAX_CHILDREN);
    for (int i = 0; i < children; i++) {
        if ((pids[i] = fork()) == 0) {
            sleep(delays[i]);
            printf("wait_order: child %d (pid %d) exits with %d\n", i, getpid(), codes[i]);
            exit(codes[i]);
        }
    }
    printf("wait_order: parent %d forked %d children\n", getpid(), children);
    for (int k = 0; k < by_pid; k++) {
        status = -1;
        int got = waitpid(pids[order[k]], &status, 0);
        check(pids[order[k]], got, status, "by pid");
    }
    for (int k = by_pid; k < children; k++) {
        status = -1;
        int got = waitpid(-1, &status, 0);
        check(-1, got, status, "with -1");
    }
    if (!failures)
        printf("wait_order: reaped %d children: %d by pid in the order asked, the others with -1\n", children, by_pid);
    int last = waitpid(-1, &status, 0);
    if (last != -1) {
        printf("wait_order: FAIL: waitpid(-1) returned %d with no children left, expected -1\n", last);
        failures++;
    } else {
        printf("wait_order: no children left: waitpid(-1) returned -1\n");
    }
    test_exit(failures);
}
