# Kestrel: a teaching kernel with step-by-step labs. `make help` lists the
# commands; README.md explains them.
#
# Layout of build/ (nothing is built in the source tree):
#   build/trusted/    objects of everything but the gap files, built once
#   build/student/    the kernel with your kernel/paging.c and process.c
#   build/solution/   the kernel with solutions/ (make SOLUTION=1 ...)
#   build/grade/      the grader's private builds and the tests' serial logs

.DEFAULT_GOAL := all
SHELL := /bin/bash

# ---- Toolchain ------------------------------------------------------------
# An i686-elf- (or i386-elf-) cross compiler when one is installed, else the
# host gcc in 32-bit mode. Override with `make TOOLPREFIX=...`.
ifndef TOOLPREFIX
TOOLPREFIX := $(shell for p in i686-elf- i386-elf-; do \
	if $${p}gcc --version >/dev/null 2>&1 && $${p}ld --version >/dev/null 2>&1; then echo $$p; exit; fi; done)
endif
CC := $(TOOLPREFIX)gcc
LD := $(TOOLPREFIX)ld
NM := $(TOOLPREFIX)nm
OBJDUMP := $(TOOLPREFIX)objdump
ADDR2LINE := $(TOOLPREFIX)addr2line
QEMU := qemu-system-i386
GRUB_MKRESCUE := $(shell command -v grub-mkrescue 2>/dev/null)
# The Python that has pytest: Debian's packages belong to /usr/bin/python3,
# which is not always the first python3 on PATH.
PYTHON := $(shell for p in /usr/bin/python3 python3; do \
	if $$p -c 'import importlib.util as u, sys; sys.exit(not u.find_spec("pytest"))' >/dev/null 2>&1; then \
	command -v $$p; exit; fi; done)

# ---- Flags ----------------------------------------------------------------
ARCH := $(if $(TOOLPREFIX),,-m32) -march=i686
CFLAGS := $(ARCH) -std=gnu11 -ffreestanding -nostdinc -fno-pic -fno-pie -fno-stack-protector \
	-fno-builtin -fno-common -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-mgeneral-regs-only -Og -g -Wall -Wextra -Ikernel/include -Ikernel
# Trusted code must be warning-free; gap files only report their warnings.
TRUSTED_CFLAGS := $(CFLAGS) -Werror
GAP_CFLAGS := $(CFLAGS) -Wno-unused-parameter -include kernel/gap_prelude.h
ASFLAGS := $(ARCH) -g -Ikernel
LDFLAGS := -m elf_i386 -nostdlib --build-id=none -z noexecstack --no-warn-rwx-segments

# ---- Sources --------------------------------------------------------------
GAPS := paging process
TRUSTED_SRCS := $(filter-out $(GAPS:%=kernel/%.c),$(wildcard kernel/*.c kernel/*.S kernel/selftest/*.c labs/*/*.c))
TRUSTED_OBJS := $(patsubst %,build/trusted/%.o,$(basename $(TRUSTED_SRCS)))

# Which gap files to link: yours, the reference, or a partial skeleton.
# A student tree has no reference: SOLUTION=1 stops there at once.
ifneq ($(SOLUTION)$(REFERENCE_PAGING),)
ifeq ($(wildcard solutions/paging.c),)
$(error $(if $(SOLUTION),SOLUTION,REFERENCE_PAGING)=1 is for instructors: this student tree has no solutions/. \
Without it, make $(or $(MAKECMDGOALS),all) uses your kernel/paging.c and kernel/process.c)
endif
endif
ifdef SOLUTION
GAP_DIR ?= solutions
OUT ?= build/solution
else
GAP_DIR ?= kernel
OUT ?= build/student
endif
KERNEL := $(OUT)/kernel.elf
ISO := $(OUT)/kernel.iso
KERNEL_ARGS ?=
MEM ?= 128M

# ---- User programs --------------------------------------------------------
# Each user/*.c and labs/*/user/*.c is one program, named after its file,
# linked at USER_BASE (user/user.ld) with the user library: user/lib/ plus
# the kernel's own string.c and kprintf.c, compiled again for user mode.
# build/trusted/user/NAME.elf keeps its debug info (for GDB); a stripped copy
# is embedded in the kernel with a name table (tools/mkprograms.sh).
OBJCOPY := $(TOOLPREFIX)objcopy
USER_SRCS := $(sort $(wildcard user/*.c labs/*/user/*.c))
USER_PROGS := $(sort $(basename $(notdir $(USER_SRCS))))
ifneq ($(words $(USER_PROGS)),$(words $(USER_SRCS)))
$(error two user programs have the same file name: $(USER_SRCS))
endif
USER_LIB_OBJS := $(patsubst %,build/trusted/uobj/%.o,$(basename $(wildcard user/lib/*.c user/lib/*.S) kernel/string.c kernel/kprintf.c))
USER_OBJS := $(patsubst %.c,build/trusted/uobj/%.o,$(USER_SRCS))
USER_CFLAGS := $(filter-out -Ikernel,$(TRUSTED_CFLAGS)) -Iuser/lib
TRUSTED_OBJS += build/trusted/user/programs.o

# Programs see only user.h and kernel/include/; the library also kernel/.
$(USER_LIB_OBJS): USER_CFLAGS += -Ikernel

build/trusted/uobj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -MMD -MP -c $< -o $@

build/trusted/uobj/%.o: %.S
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) -MMD -MP -c $< -o $@

$(foreach src,$(USER_SRCS),$(eval build/trusted/user/$(basename $(notdir $(src))).elf: build/trusted/uobj/$(src:.c=.o)))
build/trusted/user/%.elf: $(USER_LIB_OBJS) user/user.ld
	@mkdir -p $(@D)
	$(LD) $(LDFLAGS) -T user/user.ld -o $@ $(filter %.o,$^)

build/trusted/embed/%.elf: build/trusted/user/%.elf
	@mkdir -p $(@D)
	$(OBJCOPY) --strip-all $< $@

build/trusted/user/programs.o: $(USER_PROGS:%=build/trusted/embed/%.elf) tools/mkprograms.sh
	sh tools/mkprograms.sh $(filter %.elf,$^) > build/trusted/user/programs.S
	$(CC) $(ASFLAGS) -c build/trusted/user/programs.S -o $@

-include $(USER_LIB_OBJS:.o=.d) $(USER_OBJS:.o=.d)
# ---- End of user programs -------------------------------------------------

# ---- Trusted objects ------------------------------------------------------
build/trusted/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(TRUSTED_CFLAGS) -MMD -MP -c $< -o $@

build/trusted/%.o: %.S
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) -MMD -MP -c $< -o $@

build/trusted/ksyms-empty.o: tools/mksyms.sh
	@mkdir -p $(@D)
	sh tools/mksyms.sh $(NM) > build/trusted/ksyms-empty.S
	$(CC) $(ASFLAGS) -c build/trusted/ksyms-empty.S -o $@

# One lock, build/.trusted.lock, guards every build of build/trusted/, on
# every path (make, the grader, the test suite, several of them at once): a
# sub-make holding it brings the objects up to date and touches a stamp, and
# kernels link against the stamp, never against objects they would build
# themselves. (Without flock(1), as on macOS, builds are not serialized.)
FLOCK := $(shell command -v flock 2>/dev/null)
TRUSTED_STAMP := build/trusted/.stamp
ifdef KESTREL_TRUSTED_LOCKED
$(TRUSTED_STAMP): $(TRUSTED_OBJS) build/trusted/ksyms-empty.o
	@touch $@
else
$(TRUSTED_STAMP): toolchain-check FORCE
	@mkdir -p $(@D)
	@$(if $(FLOCK),$(FLOCK) build/.trusted.lock) $(MAKE) --no-print-directory KESTREL_TRUSTED_LOCKED=1 trusted
endif

# (A recipe, so that make says nothing when everything is up to date.)
.PHONY: trusted
FORCE:
trusted: $(TRUSTED_STAMP)
	@:

-include $(TRUSTED_OBJS:.o=.d)

# ---- Gap files and the kernel ---------------------------------------------
# The grader compiles and screens gap files itself (grader/compile.py, with
# the flags `make print-gap-build` prints) and passes the objects as
# GAP_OBJS: then nothing here compiles a gap file.
ifndef GAP_OBJS
GAP_OBJS := $(GAPS:%=$(OUT)/%.o)
$(OUT)/%.o: $(GAP_DIR)/%.c
	@mkdir -p $(@D)
	$(CC) $(GAP_CFLAGS) -MMD -MP -c $< -o $@

-include $(GAPS:%=$(OUT)/%.d)
endif

# Two link passes: the first finds where every function is; the second adds
# the symbol table panics print from (it comes last, so nothing moves).
$(KERNEL): $(TRUSTED_STAMP) $(GAP_OBJS) kernel/linker.ld tools/mksyms.sh
	$(LD) $(LDFLAGS) -T kernel/linker.ld -o $@.pass1 $(TRUSTED_OBJS) $(GAP_OBJS) build/trusted/ksyms-empty.o
	sh tools/mksyms.sh $(NM) $@.pass1 > $(OUT)/ksyms.S
	$(CC) $(ASFLAGS) -c $(OUT)/ksyms.S -o $(OUT)/ksyms.o
	$(LD) $(LDFLAGS) -T kernel/linker.ld -o $@ $(TRUSTED_OBJS) $(GAP_OBJS) $(OUT)/ksyms.o
	@rm -f $@.pass1
	@if command -v grub-file >/dev/null && ! grub-file --is-x86-multiboot $@; then \
		echo "error: $@ is not a multiboot kernel" >&2; rm -f $@; exit 1; fi

# A BIOS GRUB ISO. GRUB stays on the screen; the serial port is the kernel's.
$(ISO): $(KERNEL)
	@if [ -z "$(GRUB_MKRESCUE)" ]; then echo "grub-mkrescue not found: run 'make deps' (needs grub-pc-bin, grub-common, xorriso, mtools)" >&2; exit 1; fi
	@command -v xorriso >/dev/null || { echo "grub-mkrescue needs xorriso: run 'make deps'" >&2; exit 1; }
	@rm -rf $(OUT)/iso && mkdir -p $(OUT)/iso/boot/grub
	cp $(KERNEL) $(OUT)/iso/boot/kernel.elf
	printf 'set timeout=0\nset default=0\nmenuentry "Kestrel" {\n  multiboot /boot/kernel.elf %s\n  boot\n}\n' '$(KERNEL_ARGS)' > $(OUT)/iso/boot/grub/grub.cfg
	$(GRUB_MKRESCUE) -o $@ $(OUT)/iso 2> $(OUT)/grub-mkrescue.log || { cat $(OUT)/grub-mkrescue.log >&2; exit 1; }

# The disassembly, with source, for reading alongside GDB.
$(OUT)/kernel.asm: $(KERNEL)
	$(OBJDUMP) -S $< > $@

# One line each: the compiler, the gap files' flags, the assembler's flags.
.PHONY: print-gap-build
print-gap-build:
	@echo '$(CC)'; echo '$(GAP_CFLAGS)'; echo '$(ARCH)'

.PHONY: all kernel elf iso
all: kernel $(if $(GRUB_MKRESCUE),iso)
kernel: elf $(OUT)/kernel.asm
elf: toolchain-check $(KERNEL)
iso: $(ISO)
# The ISO bakes in KERNEL_ARGS: rebuild it every time.
.PHONY: $(ISO)

# ---- Running --------------------------------------------------------------
# DETERMINISTIC=1: QEMU counts instructions instead of following the clock,
# so processes interleave the same way on every boot (as make grade's).
ICOUNT := -icount shift=0,align=off,sleep=off
QEMU_FLAGS := $(strip -m $(MEM) -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 -nic none $(if $(DETERMINISTIC),$(ICOUNT)))
# Boot through GRUB when it is installed, else straight from the ELF.
BOOT := $(if $(GRUB_MKRESCUE),-cdrom $(ISO),-kernel $(KERNEL) $(if $(KERNEL_ARGS),-append "$(KERNEL_ARGS)"))
BOOT_DEP := $(if $(GRUB_MKRESCUE),iso,kernel)

# The kernel ends QEMU through isa-debug-exit, so QEMU's exit status is never
# 0; the console has already said why (`|| true`: no make error after it).
.PHONY: qemu qemu-nox
qemu: $(BOOT_DEP)
	@echo "*** Serial console here; close the window or press Ctrl-A X to quit. F1 in the window: the memory map."
	$(QEMU) $(QEMU_FLAGS) $(BOOT) -serial mon:stdio || true
qemu-nox: $(BOOT_DEP)
	@echo "*** Serial console here, no screen. Quit with Ctrl-A X."
	$(QEMU) $(QEMU_FLAGS) $(BOOT) -display none -serial mon:stdio || true

# ---- Debugging with GDB ---------------------------------------------------
# A port per user, so two students on one machine never collide (.gdbinit
# computes the same number).
GDBPORT := $(shell echo $$(( $$(id -u) % 5000 + 25000 )))

.PHONY: qemu-gdb gdb
# make qemu-gdb: the kernel paused before its first instruction.
# make qemu-gdb TEST=name SEED=n: a grader test paused, exactly as graded
# (add DETERMINISTIC=1 for a test graded with it).
qemu-gdb: kernel python-check
ifdef TEST
	@$(PYTHON) -m grader replay --kernel $(KERNEL) --test '$(TEST)' --seed $(or $(SEED),1) --gdb $(GDBPORT) \
		$(if $(DETERMINISTIC),--deterministic)
else
	@echo "*** QEMU is paused; attach with 'make gdb' in another terminal (port $(GDBPORT)). Quit with Ctrl-A X."
	$(QEMU) $(QEMU_FLAGS) -kernel $(KERNEL) $(if $(KERNEL_ARGS),-append "$(KERNEL_ARGS)") -display none \
		-serial mon:stdio -S -gdb tcp::$(GDBPORT) || true
endif

# -n: no init file is read by itself, so GDB's auto-load safe-path never
# refuses this one; KESTREL_GDBPORT carries a GDBPORT=... override.
gdb:
	KESTREL_GDBPORT=$(GDBPORT) gdb -q -n -x .gdbinit $(KERNEL)

# ---- Skeletons ------------------------------------------------------------
# Targets for instructors stop with this in a student tree (no solutions/).
INSTRUCTORS_ONLY = @if [ ! -d solutions ]; then echo "make $@ is for instructors: this student tree has no solutions/" >&2; exit 1; fi

.PHONY: skeleton
skeleton:
	$(INSTRUCTORS_ONLY)
	@for g in $(GAPS); do $(PYTHON) tools/skeleton.py solutions/$$g.c -o kernel/$$g.c; done
	@echo "kernel/: skeleton regenerated from solutions/"

# ---- Grading and tests ----------------------------------------------------
# make grade [LAB=n] [TEST=glob] [SEED=n] [SUBMISSION=dir] [SOLUTION=1] [JOBS=n] [RESUME=1]
#            [REFERENCE_PAGING=1] (grade process.c on the reference paging.c)
#            [DETERMINISTIC=1] (QEMU -icount: with SEED=, the same interleaving too)
#            [HTML=1] (also write the page build/grade/report.html)
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
GRADE_ARGS = $(if $(SOLUTION),--reference) $(if $(SUBMISSION),--submission $(SUBMISSION)) \
	$(if $(LAB),--lab $(LAB)) $(if $(TEST),--test '$(TEST)') $(if $(SEED),--seed $(SEED)) $(if $(RESUME),--resume) \
	$(if $(REFERENCE_PAGING),--reference-paging) $(if $(DETERMINISTIC),--deterministic) $(if $(HTML),--html) \
	--jobs $(JOBS)

.PHONY: grade check
grade: python-check
	@$(PYTHON) -m grader $(GRADE_ARGS)

check: python-check
	$(INSTRUCTORS_ONLY)
	$(PYTHON) -m pytest -n 2 -q -p no:cacheprovider grader/tests

# The handouts' transcripts made again from the kit (tools/transcripts/);
# make check fails when one differs from what the kit prints.
.PHONY: transcripts
transcripts: python-check
	$(INSTRUCTORS_ONLY)
	@$(PYTHON) -m tools.transcripts $(if $(ONLY),--only '$(ONLY)')

# Every lab on the reference, again and again with fresh seeds: no flake.
.PHONY: soak
soak: python-check
	$(INSTRUCTORS_ONLY)
	@$(PYTHON) -m grader soak --runs $(or $(RUNS),50)

# Grading speed, as ratios to a floor measured in the same run.
.PHONY: bench
bench: python-check
	$(INSTRUCTORS_ONLY)
	@$(PYTHON) tools/bench.py

# ---- Course workflow ------------------------------------------------------
.PHONY: handin release gradescope
handin: python-check
	@$(PYTHON) -m grader handin

release: python-check
	$(INSTRUCTORS_ONLY)
	@$(PYTHON) tools/package.py release $(if $(OUT_DIR),--out $(OUT_DIR)) $(if $(FORCE),--force)

gradescope: python-check
	$(INSTRUCTORS_ONLY)
	@$(PYTHON) tools/package.py gradescope $(if $(OUT_DIR),--out $(OUT_DIR))

# ---- Help -----------------------------------------------------------------
.PHONY: help
help:
	@echo "make                 build the kernel (and a GRUB ISO)"
	@echo "make qemu | qemu-nox boot it, with or without a screen (quit: Ctrl-A X)"
	@echo "make qemu-gdb        boot paused for GDB; then 'make gdb' in another terminal"
	@echo "make qemu-gdb TEST=name SEED=n   a grader test, paused, exactly as graded"
	@echo "make grade [LAB=n] [TEST=glob] [SEED=n] [HTML=1]   grade kernel/paging.c and kernel/process.c"
	@echo "make handin          pack your gap files into handin.tar.gz"
	@$(if $(wildcard solutions),echo "make SOLUTION=1 ...  use the reference solutions (instructors)")
	@$(if $(wildcard solutions),echo "make check | skeleton | release | gradescope | bench | soak | transcripts   (instructors)")
	@echo "make deps            install the toolchain (Debian/Ubuntu)"

# ---- Set-up ---------------------------------------------------------------
.PHONY: deps toolchain-check python-check
deps:
	@sh tools/deps.sh

toolchain-check:
	@$(CC) $(ARCH) -ffreestanding -nostdinc -x c -c -o /dev/null /dev/null 2>/dev/null || { \
		echo "error: no compiler for 32-bit x86 ($(CC) $(ARCH))." >&2; \
		echo "  Debian/Ubuntu: make deps   (or: sudo apt-get install gcc gcc-multilib binutils)" >&2; \
		echo "  elsewhere: install an i686-elf- cross toolchain and put it on PATH" >&2; exit 1; }

python-check:
	@if [ -z "$(PYTHON)" ]; then echo "error: no python3 with pytest: run 'make deps' (python3-pytest python3-pytest-xdist)" >&2; exit 1; fi

.PHONY: clean
clean:
	rm -rf build dist
