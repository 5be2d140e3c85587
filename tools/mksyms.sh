#!/bin/sh
# Writes the assembly of the kernel's symbol table (kernel/ksyms.c reads it)
# from a linked kernel: the function symbols, sorted by address.
# Usage: mksyms.sh NM KERNEL_ELF > ksyms.S   (an empty table without KERNEL_ELF)
nm=$1
elf=$2
echo '.section .ksyms, "a"'
echo '.align 4'
echo '.global ksym_table'
echo 'ksym_table:'
if [ -z "$elf" ]; then
    echo '.long 0'
    exit 0
fi
"$nm" -n --defined-only "$elf" | awk '
    $2 ~ /^[tT]$/ { addr[n] = $1; name[n] = $3; n++ }
    END {
        printf ".long %d\n", n
        for (i = 0; i < n; i++) printf ".long 0x%s, .Lname%d\n", addr[i], i
        for (i = 0; i < n; i++) printf ".Lname%d: .asciz \"%s\"\n", i, name[i]
    }'
