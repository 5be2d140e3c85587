// Test program (wait_bad_status): waitpid with status pointers the caller
// cannot write. The child exits at once; the parent waits in read until the
// harness types a line (once the child is a zombie), then calls
// waitpid(child, BAD, 0) for each bad pointer the harness chose: each must
// return -1 and leave the child a zombie. Then waitpid(child, &status, 0)
// reaps it with its exit code, and a second waitpid returns -1. Ends
// through test_exit(number of failed checks).
// Usage: wait_badstatus CODE BAD... (bad pointers in hex)
#include "user.h"

static unsigned parse_hex(const char *s) {
    unsigned v = 0;
    for (s += s[0] == '0' && s[1] == 'x' ? 2 : 0; *s; s++)
        v = v * 16 + (unsigned)(*s <= '9' ? *s - '0' : (*s | 0x20) - 'a' + 10);
    return v;
}

int main(int argc, char **argv) {
    int code = argc > 1 ? atoi(argv[1]) : 7, failures = 0, child = fork();
    if (child == 0)
        exit(code);
    char line[16];
    read(0, line, sizeof line);
    for (int i = 2; i < argc; i++) {
        int got = waitpid(child, (int *)parse_hex(argv[i]), 0);
        printf("wait_badstatus: bad pointer %d: waitpid(%d, %s) returned %d\n", i - 2, child, argv[i], got);
        if (got != -1) {
            printf("wait_badstatus: FAIL: waitpid(%d, %s) returned %d, expected -1\n", child, argv[i], got);
            failures++;
        }
    }
    int status = -1, got = waitpid(child, &status, 0);
    if (got != child || !WIFEXITED(status) || WEXITSTATUS(status) != code) {
        printf("wait_badstatus: FAIL: then waitpid(%d, &status) returned %d, status 0x%x; expected exit code %d\n",
               child, got, status, code);
        failures++;
    } else {
        printf("wait_badstatus: then waitpid(%d, &status) returned %d, exit code %d\n", child, got, code);
    }
    got = waitpid(child, &status, 0);
    if (got != -1) {
        printf("wait_badstatus: FAIL: waitpid(%d) once reaped returned %d, expected -1\n", child, got);
        failures++;
    }
    test_exit(failures);
}
