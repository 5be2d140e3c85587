// Test program (wait_killed): one child runs `crash FAULT` (exec), which
// the kernel kills; another exits with CODE. waitpid must report the first
// as killed by SIGNAL (WIFSIGNALED, WTERMSIG) and the second as exited with
// CODE (WIFEXITED, WEXITSTATUS). Ends through test_exit(number of failed
// checks). Usage: wait_killed FAULT SIGNAL CODE
#include "user.h"

int main(int argc, char **argv) {
    char *fault = argc > 1 ? argv[1] : "null";
    int sig = argc > 2 ? atoi(argv[2]) : SIGSEGV, code = argc > 3 ? atoi(argv[3]) : 5, failures = 0;
    int killed = fork();
    if (killed == 0) {
        char *args[] = {"crash", fault, NULL};
        exec("crash", args);
        printf("wait_killed: FAIL: cannot exec crash\n");
        exit(99);
    }
    int exited = fork();
    if (exited == 0)
        exit(code);
    int status = -1, got = waitpid(killed, &status, 0);
    if (got != killed || !WIFSIGNALED(status) || WIFEXITED(status) || WTERMSIG(status) != sig) {
        printf("wait_killed: FAIL: waitpid(%d) returned %d, status 0x%x (%s %d); expected killed by signal %d\n",
               killed, got, status, WIFSIGNALED(status) ? "signal" : "exit code",
               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), sig);
        failures++;
    } else {
        printf("wait_killed: child %d was killed by signal %d\n", got, WTERMSIG(status));
    }
    got = waitpid(exited, &status, 0);
    if (got != exited || !WIFEXITED(status) || WIFSIGNALED(status) || WEXITSTATUS(status) != code) {
        printf("wait_killed: FAIL: waitpid(%d) returned %d, status 0x%x; expected exit code %d\n", exited, got,
               status, code);
        failures++;
    } else {
        printf("wait_killed: child %d exited with %d\n", got, WEXITSTATUS(status));
    }
    test_exit(failures);
}
