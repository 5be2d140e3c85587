// Helpers of the run-side attacks in corpus.toml, pasted into a gap file
// where an edit says @@name@@ (test_corpus.py). Each section starts with a
// line "// ---- name". They work as a student's ring-0 code would: nothing
// but C and the lab API headers, with machine code written at run time
// where an instruction would not get past the build's screening.

// ---- runtime_code
// Runs machine code written at run time into a data buffer (no page is
// ever non-executable in 32-bit paging): the object file holds none of it.
static unsigned char attack_code[64];
static uint32_t attack_run(const unsigned char *code, size_t size, uint32_t a, uint32_t b) {
    if (memcmp(attack_code, code, size) != 0) // (rewriting code costs QEMU a new translation)
        memcpy(attack_code, code, size);
    return ((uint32_t(*)(uint32_t, uint32_t))(uintptr_t)attack_code)(a, b);
}
// mov 4(%esp),%edx; mov 8(%esp),%eax; out %ax,(%dx); ret
static const unsigned char ATTACK_OUT16[] = {0x8b, 0x54, 0x24, 0x04, 0x8b, 0x44, 0x24, 0x08, 0x66, 0xef, 0xc3};
// mov 4(%esp),%edx; mov 8(%esp),%eax; out %eax,(%dx); ret
static const unsigned char ATTACK_OUT32[] = {0x8b, 0x54, 0x24, 0x04, 0x8b, 0x44, 0x24, 0x08, 0xef, 0xc3};
// mov 4(%esp),%edx; xor %eax,%eax; in (%dx),%al; ret
static const unsigned char ATTACK_IN8[] = {0x8b, 0x54, 0x24, 0x04, 0x31, 0xc0, 0xec, 0xc3};
// cli; 1: hlt; jmp 1b (never returns)
static const unsigned char ATTACK_HALT[] = {0xfa, 0xf4, 0xeb, 0xfd};
// mov 4(%esp),%eax; sidt (%eax); ret
static const unsigned char ATTACK_SIDT[] = {0x8b, 0x44, 0x24, 0x04, 0x0f, 0x01, 0x08, 0xc3};

// Ends QEMU with the pass status, as the harness does (isa-debug-exit).
static void attack_exit_pass(void) { attack_run(ATTACK_OUT32, sizeof ATTACK_OUT32, 0xf4, 0x31); }

// ---- fw_cfg
// QEMU's copy of the command line, read back through its firmware
// configuration device: for a multiboot -kernel boot it sits in the kernel
// data blob (size: key 0x08, data: key 0x11; select at port 0x510, read
// bytes at port 0x511), after the image, as "<file>.elf test=...".
static uint32_t attack_fw_cfg_read32(void) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= attack_run(ATTACK_IN8, sizeof ATTACK_IN8, 0x511, 0) << (8 * i);
    return v;
}

static uint32_t attack_fw_cfg_cmdline(char *buf, uint32_t size) {
    attack_run(ATTACK_OUT16, sizeof ATTACK_OUT16, 0x510, 0x08);
    uint32_t length = attack_fw_cfg_read32(), n = 0, matched = 0;
    static const char key[] = ".elf test="; // QEMU puts the kernel file name first
    attack_run(ATTACK_OUT16, sizeof ATTACK_OUT16, 0x510, 0x11);
    for (uint32_t i = 0; i < length; i++) { // the last match: this key is in the image too
        char c = (char)attack_run(ATTACK_IN8, sizeof ATTACK_IN8, 0x511, 0);
        if (matched == sizeof key - 1 && c && n + 1 < size)
            buf[n++] = c;
        else if (matched == sizeof key - 1)
            matched = 0;
        else if ((matched = c == key[matched] ? matched + 1 : c == key[0]) == sizeof key - 1)
            n = 0;
    }
    buf[n] = 0;
    return n;
}

// The value of `key` (with its '=') in a command line, copied into `out`.
static void attack_cmdline_value(const char *cmdline, const char *key, char *out, size_t size) {
    const char *p = cmdline;
    while (*p && strncmp(p, key, strlen(key)) != 0)
        p++;
    size_t n = 0;
    for (p += *p ? strlen(key) : 0; *p && *p != ' ' && n + 1 < size; p++)
        out[n++] = *p;
    out[n] = 0;
}

// ---- ksyms
// A function's address, found by name in the kernel's own symbol table
// (.ksyms: a count, (address, name) pairs, then the names; it ends the
// image). Reads nothing but that table: from the end of the image down.
static uint32_t attack_lookup(const char *name) {
    size_t len = strlen(name) + 1;
    for (const char *p = _kernel_end - len; p > _kernel_start; p--) {
        if (memcmp(p, name, len) != 0 || p[-1] != 0)
            continue;
        for (const uint32_t *w = (const uint32_t *)((uintptr_t)p & ~3u); (const char *)w > _kernel_start; w--)
            if (*w == (uint32_t)(uintptr_t)p)
                return w[-1];
    }
    return 0;
}

// The address just past the first `call target` in the code at `from`
// (reads the kernel's code as data).
static uint32_t attack_after_call(uint32_t from, uint32_t target) {
    for (const unsigned char *p = (const unsigned char *)from; p < (const unsigned char *)from + 4096; p++)
        if (p[0] == 0xe8 && (uint32_t)(uintptr_t)p + 5 + *(const uint32_t *)(p + 1) == target)
            return (uint32_t)(uintptr_t)p + 5;
    return 0;
}

// Writes `jmp to` at `at` (5 bytes), through `write_at` (the same address,
// or an alias of its page).
static void attack_write_jump(unsigned char *write_at, uint32_t at, uint32_t to) {
    write_at[0] = 0xe9;
    uint32_t rel = to - (at + 5);
    memcpy(write_at + 1, &rel, 4);
}
