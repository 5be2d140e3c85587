// Test program (user_waitpid_bad_status; labs 4 and 5): waitpid with a
// status pointer the caller cannot write fails with -1 and leaves the child
// to a later call. Ends through test_exit with the number of failed checks.
#include "user.h"

int main(void) {
    int pid = fork();
    if (pid == 0)
        exit(7);
    int status = 0, failures = 0;
    failures += EXPECT(waitpid(pid, (int *)0xC0000000, 0), -1);
    failures += EXPECT(waitpid(pid, (int *)main, 0), -1);
    failures += EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7, 1);
    failures += EXPECT(waitpid(pid, &status, 0), -1);
    failures += EXPECT(waitpid(-1, (int *)0x00100000, 0), -1); // no children left
    test_exit(failures);
}
