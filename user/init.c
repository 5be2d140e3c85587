// init: the first process (pid 1). Starts the shell and starts a new one
// whenever it exits; meanwhile reaps every orphan the kernel hands over.
#include "user.h"

// Forks a child that runs the shell: its pid, or -1.
static int start_shell(void) {
    int pid = fork();
    if (pid == 0) {
        char *argv[] = {"sh", NULL};
        exec("sh", argv);
        printf("init: cannot exec sh\n");
        exit(1);
    }
    return pid;
}

int main(void) {
    for (;;) {
        int shell = start_shell();
        if (shell < 0) {
            printf("init: fork failed; trying again in a second\n");
            sleep(100);
            continue;
        }
        int pid, status;
        while ((pid = waitpid(-1, &status, 0)) != shell)
            if (pid < 0) // cannot happen while the shell lives
                break;
        printf("init: sh exited with status 0x%x; starting a new one\n", status);
    }
}
