// sh: the shell. Reads a line from the console, splits it into words and
// runs the program the first word names, with fork, exec and waitpid; says
// how a program ended when it failed or was killed. Builtins: help, exit
// (init then starts a new shell), shutdown (ends QEMU), memmap [pid] (the
// memory map, with that process's address space; the shell's by default).
#include <stdbool.h>
#include "user.h"

#define LINE_SIZE 256
#define MAXARGS 16

static char names[2048]; // the programs, space-separated (programs())

// Reads a line into buf, without its newline. A line that does not fit is
// read to its end and dropped: returns false.
static bool read_line(char *buf, int size) {
    bool fits = true;
    int n = 0;
    do {
        if (n == size)
            fits = false, n = 0;
        int got = read(0, buf + n, size - n);
        if (got < 0)
            return false;
        n += got;
    } while (buf[n - 1] != '\n');
    buf[n - 1] = 0;
    if (!fits)
        printf("sh: line too long (%d bytes at most)\n", size - 1);
    return fits;
}

// Splits line into words at blanks: argc, or -1 for more than MAXARGS.
static int split(char *line, char *argv[]) {
    int argc = 0;
    for (char *p = line; *p;) {
        if (*p == ' ' || *p == '\t') {
            *p++ = 0;
            continue;
        }
        if (argc == MAXARGS)
            return -1;
        argv[argc++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
    }
    argv[argc] = NULL;
    return argc;
}

static bool is_program(const char *name) {
    size_t len = strlen(name);
    for (const char *p = names; *p; p += *p == ' ') {
        if (strncmp(p, name, len) == 0 && (p[len] == ' ' || p[len] == 0))
            return true;
        while (*p && *p != ' ')
            p++;
    }
    return false;
}

static const char *signal_name(int sig) {
    switch (sig) {
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGSEGV: return "SIGSEGV";
    default: return "?";
    }
}

static void run(char *argv[]) {
    int pid = fork();
    if (pid < 0) {
        printf("sh: fork failed\n");
        return;
    }
    if (pid == 0) {
        exec(argv[0], argv);
        printf("sh: cannot exec %s\n", argv[0]);
        exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        printf("sh: waitpid %d failed\n", pid);
    else if (WIFSIGNALED(status))
        printf("sh: %s (pid %d) killed by signal %d (%s)\n", argv[0], pid, WTERMSIG(status),
               signal_name(WTERMSIG(status)));
    else if (WEXITSTATUS(status) != 0)
        printf("sh: %s (pid %d) exited with status %d\n", argv[0], pid, WEXITSTATUS(status));
}

// The memmap builtin: the map with process `pid`'s address space beside it
// (0: the shell's own).
static void show_memmap(const char *pid) {
    if (memmap(atoi(pid)) < 0)
        printf("sh: memmap: no process %s\n", pid);
}

int main(void) {
    if (programs(names, sizeof names) < 0)
        printf("sh: cannot list the programs\n");
    printf("sh: type help for the list of programs\n");
    for (;;) {
        char line[LINE_SIZE];
        char *argv[MAXARGS + 1];
        printf("$ ");
        if (!read_line(line, sizeof line))
            continue;
        int argc = split(line, argv);
        if (argc < 0)
            printf("sh: too many words (%d at most)\n", MAXARGS);
        else if (argc == 0)
            continue;
        else if (strcmp(argv[0], "help") == 0)
            printf("builtins: help, exit [code], shutdown, memmap [pid]\nprograms: %s\n", names);
        else if (strcmp(argv[0], "exit") == 0)
            exit(argc > 1 ? atoi(argv[1]) : 0);
        else if (strcmp(argv[0], "shutdown") == 0)
            shutdown();
        else if (strcmp(argv[0], "memmap") == 0)
            show_memmap(argc > 1 ? argv[1] : "0");
        else if (!is_program(argv[0]))
            printf("sh: %s: no such program (type help)\n", argv[0]);
        else
            run(argv);
    }
}
