#!/bin/sh
# Writes the assembly that embeds user programs in the kernel: each ELF file
# is included as is, and a table of (name, start, size) entries goes to the
# .user_programs section (kernel/programs.h). A program is named after its
# file, without the directory and the .elf suffix.
# Usage: mkprograms.sh FILE.elf... > programs.S   (in the order to list them)
echo '.section .rodata'
i=0
for f in "$@"; do
    name=$(basename "$f" .elf)
    echo ".Lname$i: .asciz \"$name\""
    echo ".balign 16"
    echo ".Limage$i: .incbin \"$f\""
    echo ".Lend$i:"
    i=$((i + 1))
done
echo '.section .user_programs, "a"'
echo '.balign 4'
i=0
for f in "$@"; do
    echo ".long .Lname$i, .Limage$i, .Lend$i - .Limage$i"
    i=$((i + 1))
done
