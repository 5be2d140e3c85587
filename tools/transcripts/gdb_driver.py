"""Runs inside GDB, after the kit's .gdbinit: types the commands of a
transcript one by one, each after a `(gdb) ` prompt, as a person would, then
ends the session. tools/transcripts/kinds.py starts it:

    TRANSCRIPT_COMMANDS=commands.json gdb -q -n -x .gdbinit -x gdb_driver.py KERNEL

Before each prompt it prints a separator line, so that the generator can
cut the session into commands."""
import json
import os

import gdb

SEPARATOR = "\x1etranscript-command"

with open(os.environ["TRANSCRIPT_COMMANDS"]) as f:
    commands = json.load(f)
# Lines as long as they come, and no colour: a transcript is plain text,
# whatever the terminal it was made in.
gdb.execute("set width 0")
gdb.execute("set height 0")
gdb.execute("set style enabled off")
for number, command in enumerate(commands, 1):
    gdb.write("%s %d\n(gdb) %s\n" % (SEPARATOR, number, command))
    gdb.flush()
    try:
        gdb.execute(command, from_tty=True)
    except gdb.error as e:
        gdb.flush()
        gdb.write("%s\n" % e, gdb.STDERR)
    gdb.flush()
gdb.write("%s end\n" % SEPARATOR)
gdb.flush()
try:
    gdb.execute("kill", to_string=True)
except gdb.error:
    pass
gdb.execute("quit")
