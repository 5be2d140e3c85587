// Lookup in the table of embedded programs (the .user_programs section).
#include <stddef.h>
#include <string.h>
#include "programs.h"

extern const struct program __user_programs_start[], __user_programs_end[];

const struct program *program_find(const char *name) {
    for (const struct program *p = __user_programs_start; p < __user_programs_end; p++)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

const struct program *program_at(int i) {
    return i >= 0 && i < __user_programs_end - __user_programs_start ? &__user_programs_start[i] : NULL;
}
