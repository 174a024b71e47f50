# SPDX-License-Identifier: MIT
#
# pvhstub: build the PVH entry stub and the host tool, wrap a kernel.
#
#   make defconfig | menuconfig | olddefconfig
#   make [PAYLOAD=/path/to/bzImage] [O=dir] [V=1]
#   make check        every test
#   make run          boot a Debian kernel through the stub in QEMU
#
# The build goes to O (default: build/); .config lives there too.

srctree := $(CURDIR)
O ?= build
obj := $(abspath $(O))

ifeq ($(V),1)
Q :=
quiet = @:
else
Q := @
quiet = @printf '  %-8s %s\n'
endif

KCONFIG_CONFIG := $(obj)/.config
AUTOHEADER := $(obj)/include/generated/autoconf.h
KCONF_ENV := KCONFIG_CONFIG=.config srctree=$(srctree)

CC ?= cc
LD := ld
HOSTCC ?= cc

# The stub is freestanding: of the host's headers it sees only Xen's public
# ones (libxen-dev) and Linux's UAPI ones for the boot protocol
# (linux-libc-dev: <asm/bootparam.h> and what it includes), through folders
# that hold nothing but them.
XEN_HEADERS ?= /usr/include/xen
XEN_INC := $(obj)/include/xen-public
UAPI_HEADERS ?= /usr/include
UAPI_ASM ?= $(firstword $(wildcard $(UAPI_HEADERS)/x86_64-linux-gnu/asm $(UAPI_HEADERS)/asm) \
	$(UAPI_HEADERS)/x86_64-linux-gnu/asm)
UAPI_INC := $(obj)/include/linux-uapi

# The version, from the package's changelog: pvhstub --version, inspect --json,
# the stub's pvhstub.debug dump.
PVHSTUB_VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' $(srctree)/debian/changelog)

cc-option = $(shell $(CC) $(1) -Werror -c -x c /dev/null -o /dev/null 2>/dev/null && echo $(1))

GUEST_CFLAGS := -m32 -march=i686 -std=gnu11 -mregparm=3 -fomit-frame-pointer \
	$(if $(call cc-option,-Oz),-Oz,-Os) $(call cc-option,-mstringop-strategy=libcall) \
	$(call cc-option,-fno-tree-loop-optimize -fno-tree-ch -fno-ivopts) \
	-ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-common \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -mno-red-zone \
	-mgeneral-regs-only -fno-jump-tables \
	$(call cc-option,-fcf-protection=none) $(call cc-option,--param=min-pagesize=0) \
	-Wall -Wextra -Werror -Wno-address-of-packed-member \
	-nostdinc -isystem $(shell $(CC) -print-file-name=include) -idirafter $(XEN_INC) \
	-idirafter $(UAPI_INC) -I$(srctree)/include -include $(AUTOHEADER) \
	-DPVHSTUB_VERSION='"$(PVHSTUB_VERSION)"' -MMD -MP
GUEST_AFLAGS := $(GUEST_CFLAGS) -D__ASSEMBLY__

# HOSTCFLAGS and HOSTLDFLAGS are the builder's to set (a package build passes
# dpkg-buildflags' here); the rest of the host flags are the project's.
HOSTCFLAGS ?= -O2 -g
HOSTLDFLAGS ?=
HOST_FLAGS := $(HOSTCFLAGS) -std=gnu11 -Wall -Wextra -Werror -Wno-address-of-packed-member \
	-I$(srctree)/include -DPVHSTUB_VERSION='"$(PVHSTUB_VERSION)"' -MMD -MP

# The stub: Kbuild-style object lists.
obj-y := entry/head.o entry/info.o entry/main.o entry/string.o entry/format.o entry/panic.o entry/dump.o
obj-y += entry/paging.o entry/console.o
obj-y += xen/cpuid.o xen/hypercall.o
obj-y += translate/e820.o translate/cmdline.o translate/initrd.o translate/bootparams.o translate/guestmem.o
obj-y += kaslr/randomize.o kaslr/slot.o kaslr/relocwalk.o
stub-objs := $(addprefix $(obj)/,$(obj-y))
# The relocation walk is the stub's one hot loop (200,000 sites for a
# distro kernel): speed over size there.
CFLAGS_relocwalk.o := -O2

# The host tool (scripts/pvhstub/), one file per stage; its objects build
# apart from the stub's, under $(obj)/host/, with the host flags.
tool-dir := scripts/pvhstub
tool-stages := file elfread stub bzimage pe vmlinux decompress relocs place elfwrite wrap inspect xlconfig
tool-lib-objs := $(addprefix $(obj)/host/$(tool-dir)/,$(addsuffix .o,$(tool-stages)))
tool-objs := $(tool-lib-objs) $(obj)/host/$(tool-dir)/main.o $(obj)/host/$(tool-dir)/stub_blob.o
TOOL_LIBS := -lelf -lz -llzma -lbz2 -llz4 -lzstd -llzo2

PAYLOAD_IMAGE := $(if $(PAYLOAD),$(obj)/$(notdir $(PAYLOAD)).pvh)

.PHONY: all defconfig olddefconfig oldconfig menuconfig savedefconfig clean distclean \
	check check-quick test-build check-unit unit-build check-tool check-lint check-boot check-overlap check-zoo check-fuzzboot fuzz-boot check-image check-probe check-xen \
	check-fuzz check-deb check-hosts \
	fuzz fuzz-build bench run deps kernels help install uninstall deb probe
.DEFAULT_GOAL := all

all: $(obj)/stub.elf $(obj)/pvhstub $(PAYLOAD_IMAGE) ## the stub, the pvhstub tool, and PAYLOAD= wrapped (the default)

# Each target's line in 'make help' is the '## ' comment on its rule.
help: ## this list
	@echo 'Usage: make [TARGET] [PAYLOAD=KERNEL] [O=dir] [V=1]'
	@echo '  PAYLOAD=KERNEL wraps KERNEL into O/<its name>.pvh; O is build/ by default'
	@sed -n 's/^\([a-z][a-z -]*\):.*## \(.*\)$$/\1|\2/p' $(firstword $(MAKEFILE_LIST)) | \
		awk -F'|' '{ printf "  %-24s %s\n", $$1, $$2 }'

# --- Kconfig -----------------------------------------------------------------
$(obj):
	$(Q)mkdir -p $@

defconfig: | $(obj) ## a .config from configs/defconfig
	$(Q)cd $(obj) && $(KCONF_ENV) kconfig-conf --defconfig=$(srctree)/configs/defconfig $(srctree)/Kconfig >/dev/null
	$(quiet) CONFIG "$(KCONFIG_CONFIG) from configs/defconfig"

olddefconfig oldconfig: | $(obj) ## update .config: new options at their defaults
	$(Q)cd $(obj) && $(KCONF_ENV) kconfig-conf --$@ $(srctree)/Kconfig

menuconfig: | $(obj) ## edit .config
	$(Q)cd $(obj) && $(KCONF_ENV) kconfig-mconf $(srctree)/Kconfig

savedefconfig: $(KCONFIG_CONFIG) ## a minimal defconfig from .config
	$(Q)cd $(obj) && $(KCONF_ENV) kconfig-conf --savedefconfig=$(obj)/defconfig $(srctree)/Kconfig
	$(quiet) GEN "$(obj)/defconfig"

# No .config yet: start from the defaults, and say so.  (A .config from an
# older Kconfig gets new options at their defaults: olddefconfig, below.)
$(KCONFIG_CONFIG): | $(obj)
	@echo "pvhstub: no $(KCONFIG_CONFIG); using configs/defconfig"
	$(Q)cd $(obj) && $(KCONF_ENV) kconfig-conf --defconfig=$(srctree)/configs/defconfig $(srctree)/Kconfig >/dev/null

$(AUTOHEADER): $(KCONFIG_CONFIG) $(srctree)/Kconfig
	$(quiet) CONFIG "$(subst $(obj)/,,$@)"
	$(Q)mkdir -p $(obj)/include/config $(obj)/include/generated
	$(Q)cd $(obj) && $(KCONF_ENV) kconfig-conf --olddefconfig $(srctree)/Kconfig >/dev/null
	$(Q)cd $(obj) && $(KCONF_ENV) kconfig-conf --silentoldconfig $(srctree)/Kconfig </dev/null
	$(Q)touch $@

-include $(KCONFIG_CONFIG)

# --- The stub ----------------------------------------------------------------

$(XEN_INC)/xen/xen.h:
	$(Q)test -f $(XEN_HEADERS)/xen.h || { echo "pvhstub: no Xen headers in $(XEN_HEADERS) (install libxen-dev)" >&2; exit 1; }
	$(Q)mkdir -p $(XEN_INC) && ln -sfn $(XEN_HEADERS) $(XEN_INC)/xen

$(UAPI_INC)/asm/bootparam.h:
	$(Q)test -f $(UAPI_ASM)/bootparam.h || { echo "pvhstub: no <asm/bootparam.h> in $(UAPI_ASM) (install linux-libc-dev)" >&2; exit 1; }
	$(Q)mkdir -p $(UAPI_INC) && ln -sfn $(UAPI_ASM) $(UAPI_INC)/asm && \
	 for d in linux asm-generic video; do ln -sfn $(UAPI_HEADERS)/$$d $(UAPI_INC)/$$d || exit 1; done

# Objects depend on this Makefile too: it holds their flags.
$(obj)/%.o: %.c $(AUTOHEADER) Makefile | $(XEN_INC)/xen/xen.h $(UAPI_INC)/asm/bootparam.h
	$(quiet) CC "$*.o"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(GUEST_CFLAGS) $(CFLAGS_$(notdir $@)) -c $< -o $@

$(obj)/%.o: %.S $(AUTOHEADER) Makefile | $(XEN_INC)/xen/xen.h $(UAPI_INC)/asm/bootparam.h
	$(quiet) AS "$*.o"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(GUEST_AFLAGS) -c $< -o $@

$(obj)/stub.lds: entry/stub.lds.S include/pvhstub.h
	$(quiet) LDS "stub.lds"
	$(Q)$(CC) -E -P -undef -x c -D__ASSEMBLY__ -I$(srctree)/include $< -o $@

# --emit-relocs keeps the stub's relocations, so that the wrap can move it
# out of the way of a payload that wants its memory.
$(obj)/stub.elf: $(stub-objs) $(obj)/stub.lds
	$(quiet) LD "stub.elf"
	$(Q)$(LD) -m elf_i386 -static -nostdlib --build-id=none -z noexecstack --emit-relocs \
		--no-warn-rwx-segments -T $(obj)/stub.lds -o $@ $(stub-objs) 2>/dev/null || \
	 $(LD) -m elf_i386 -static -nostdlib --build-id=none -z noexecstack --emit-relocs \
		-T $(obj)/stub.lds -o $@ $(stub-objs)

# libFuzzer harnesses, with ASan and UBSan (tests/fuzz).
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I$(srctree)/include -I$(srctree)/$(tool-dir)
FUZZ_SECONDS ?= 600

$(obj)/tests/fuzz/fuzz_translate: tests/fuzz/fuzz_translate.c tests/unit/sim.h $(wildcard translate/*.c include/*.h) entry/format.c
	$(quiet) FUZZCC "tests/fuzz/fuzz_translate"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< translate/*.c entry/format.c

# The physical KASLR slot planner against a brute-force reference.
$(obj)/tests/fuzz/fuzz_slots: tests/fuzz/fuzz_slots.c kaslr/slot.c $(wildcard include/*.h)
	$(quiet) FUZZCC "tests/fuzz/fuzz_slots"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< kaslr/slot.c

# Every stage of the tool but its command line, instrumented; the
# decompression cap is 16 MiB here, so that a fuzzed bomb costs little.
$(obj)/tests/fuzz/fuzz_image: tests/fuzz/fuzz_image.c $(obj)/host/$(tool-dir)/stub_blob.o $(wildcard $(tool-dir)/*.c $(tool-dir)/*.h) kaslr/slot.c kaslr/relocwalk.c entry/format.c
	$(quiet) FUZZCC "tests/fuzz/fuzz_image"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) '-DDECOMPRESS_MAX=(16u << 20)' -DPVHSTUB_VERSION='"$(PVHSTUB_VERSION)"' -o $@ $< \
		$(addprefix $(tool-dir)/,$(addsuffix .c,$(tool-stages))) kaslr/slot.c kaslr/relocwalk.c entry/format.c \
		$(obj)/host/$(tool-dir)/stub_blob.o $(TOOL_LIBS)

fuzz-build: $(obj)/tests/fuzz/fuzz_translate $(obj)/tests/fuzz/fuzz_image $(obj)/tests/fuzz/fuzz_slots $(obj)/pvhstub ## build the libFuzzer harnesses

# make fuzz: each harness for FUZZ_SECONDS (default 600); make check runs 60 s each,
# the harnesses side by side (tests/fuzz/test_fuzz.py).
fuzz: fuzz-build ## fuzz each harness for FUZZ_SECONDS (600)
	$(Q)PVHSTUB_FUZZ_SECONDS=$(FUZZ_SECONDS) $(PYTEST) tests/fuzz

check-fuzz: fuzz-build ## fuzz each harness for 60 s
	$(Q)PVHSTUB_FUZZ_SECONDS=60 $(PYTEST) tests/fuzz

# The test-only PVH chain loader (tests/tools/pvhload.c).
$(obj)/tests/pvhload.elf: $(obj)/tests/tools/pvhload.o $(obj)/tests/tools/pvhload.S.o $(obj)/entry/string.o tests/tools/pvhload.lds
	$(quiet) LD "tests/pvhload.elf"
	$(Q)$(LD) -m elf_i386 -static -nostdlib --build-id=none -z noexecstack --no-warn-rwx-segments \
		-T tests/tools/pvhload.lds -o $@ $(filter %.o,$^)

$(obj)/tests/tools/pvhload.S.o: tests/tools/pvhload.S $(AUTOHEADER) | $(XEN_INC)/xen/xen.h $(UAPI_INC)/asm/bootparam.h
	$(quiet) AS "tests/tools/pvhload.S.o"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(GUEST_AFLAGS) -c $< -o $@

# A preload that takes O_TMPFILE away, for the tool's fallback (tests/tools/no_tmpfile.c).
$(obj)/tests/no_tmpfile.so: tests/tools/no_tmpfile.c
	$(quiet) HOSTCC "tests/no_tmpfile.so"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOSTCC) -O2 -Wall -Wextra -Werror -shared -fPIC -o $@ $< -ldl

# The probe kernel (tests/tools/probe): a real bzImage of our own.
probe-objs := $(addprefix $(obj)/,tests/tools/probe/head.o tests/tools/probe/probe.o entry/format.o entry/string.o)

$(obj)/tests/tools/probe/setup.elf: $(obj)/tests/tools/probe/setup.o tests/tools/probe/setup.lds
	$(quiet) LD "tests/tools/probe/setup.elf"
	$(Q)$(LD) -m elf_i386 -static -nostdlib --build-id=none -T tests/tools/probe/setup.lds -o $@ $<

$(obj)/tests/tools/probe/probe32.elf: $(probe-objs) tests/tools/probe/probe.lds
	$(quiet) LD "tests/tools/probe/probe32.elf"
	$(Q)$(LD) -m elf_i386 -static -nostdlib --build-id=none -z noexecstack --no-warn-rwx-segments \
		-T tests/tools/probe/probe.lds -o $@ $(probe-objs)

$(obj)/tests/tools/probe/setup.bin: $(obj)/tests/tools/probe/setup.elf
	$(Q)objcopy -O binary $< $@

$(obj)/tests/probe.bzImage: $(obj)/tests/tools/probe/setup.bin $(obj)/tests/tools/probe/probe32.elf tests/tools/probe/mkprobe.py
	$(quiet) MKPROBE "tests/probe.bzImage"
	$(Q)objcopy -O binary $(obj)/tests/tools/probe/probe32.elf $(obj)/tests/tools/probe/probe32.bin
	$(Q)python3 tests/tools/probe/mkprobe.py bz32 $(obj)/tests/tools/probe/setup.bin $(obj)/tests/tools/probe/probe32.bin \
		$$(( 0x$$(nm $(obj)/tests/tools/probe/probe32.elf | awk '$$3 == "_probe_end" { print $$1 }') - 0x400000 )) $@

# The 64-bit probe: position-independent x86-64 code linked as a vmlinux
# (probe64.lds.S), in two builds: with a zero-based per-CPU area (a 3-list
# relocation table, as Linux up to 6.14) and without (2 lists, 6.15 on).
p64 := $(obj)/tests/tools/probe64
PROBE64_CFLAGS := $(filter-out -m32 -march=i686 -mregparm=3 -fno-pic -fno-pie,$(GUEST_CFLAGS)) \
	-m64 -fpie -fvisibility=hidden -I$(srctree)/tests/tools/probe
PROBE64_BLOB_SIZE := 0x240000
probe64-objs := $(addprefix $(p64)/,head64.o probe.o probe64.o blob.o format.o string.o)

$(p64)/blob.bin: tests/tools/probe/mkprobe.py Makefile | $(obj)
	$(Q)mkdir -p $(dir $@)
	$(Q)python3 $< blob $(PROBE64_BLOB_SIZE) $@

$(p64)/%.o: tests/tools/probe/%.c $(AUTOHEADER) Makefile | $(XEN_INC)/xen/xen.h $(UAPI_INC)/asm/bootparam.h
	$(quiet) CC64 "tests/tools/probe/$*.c"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PROBE64_CFLAGS) -c $< -o $@

$(p64)/%.o: entry/%.c $(AUTOHEADER) Makefile | $(XEN_INC)/xen/xen.h $(UAPI_INC)/asm/bootparam.h
	$(quiet) CC64 "entry/$*.c"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PROBE64_CFLAGS) -c $< -o $@

$(p64)/%.o: tests/tools/probe/%.S $(p64)/blob.bin $(AUTOHEADER) Makefile
	$(quiet) AS64 "tests/tools/probe/$*.S"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PROBE64_CFLAGS) -D__ASSEMBLY__ -DPROBE_BLOB='"$(p64)/blob.bin"' -c $< -o $@

$(p64)/sites-%.o: tests/tools/probe/sites.S tests/tools/probe/probe.h $(AUTOHEADER) Makefile
	$(quiet) AS64 "tests/tools/probe/sites.S ($* lists)"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PROBE64_CFLAGS) -D__ASSEMBLY__ $(if $(filter 3,$*),-DPROBE_PERCPU) -c $< -o $@

$(p64)/probe64-%.lds: tests/tools/probe/probe64.lds.S tests/tools/probe/probe.h
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -E -P -undef -x c -D__ASSEMBLY__ $(if $(filter 3,$*),-DPROBE_PERCPU) -I$(srctree)/tests/tools/probe $< -o $@

# --emit-relocs: mkprobe.py makes the relocation table from them, as Linux's relocs tool does.
$(p64)/probe64-%.elf: $(probe64-objs) $(p64)/sites-%.o $(p64)/probe64-%.lds
	$(quiet) LD "tests/tools/probe64/probe64-$*.elf"
	$(Q)$(LD) -m elf_x86_64 -static -nostdlib --build-id=none -z noexecstack --no-warn-rwx-segments \
		--emit-relocs -T $(p64)/probe64-$*.lds -o $@ $(probe64-objs) $(p64)/sites-$*.o

$(obj)/tests/probe64-%.bzImage: $(p64)/probe64-%.elf $(obj)/tests/tools/probe/setup.bin tests/tools/probe/mkprobe.py
	$(quiet) MKPROBE "tests/probe64-$*.bzImage"
	$(Q)objcopy -O binary $< $(p64)/probe64-$*.bin
	$(Q)objcopy -R .comment -S $< $(p64)/probe64-$*.stripped
	$(Q)python3 tests/tools/probe/mkprobe.py bz64 $(obj)/tests/tools/probe/setup.bin $< $(p64)/probe64-$*.bin \
		$(p64)/probe64-$*.stripped $@

# Made by pattern rules only: keep them, or every build makes them anew.
.SECONDARY: $(probe64-objs) $(p64)/blob.bin $(addprefix $(p64)/,sites-3.o sites-2.o probe64-3.lds probe64-2.lds \
	probe64-3.elf probe64-2.elf)

PROBES := $(obj)/tests/probe.bzImage $(obj)/tests/probe64-3.bzImage $(obj)/tests/probe64-2.bzImage
probe: $(PROBES) ## the probe kernels, build/tests/probe.bzImage and probe64-{3,2}.bzImage (docs/probe.md)

# --- The host tool ------------------------------------------------------------
$(obj)/host/%.o: %.c Makefile debian/changelog
	$(quiet) HOSTCC "$*.o"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(HOST_FLAGS) -c $< -o $@

$(obj)/host/$(tool-dir)/stub_blob.o: $(tool-dir)/stub_blob.S $(obj)/stub.elf
	$(quiet) HOSTAS "$(tool-dir)/stub_blob.o"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOSTCC) -c -DSTUB_ELF='"$(obj)/stub.elf"' $< -o $@

$(obj)/pvhstub: $(tool-objs)
	$(quiet) HOSTLD "pvhstub"
	$(Q)$(HOSTCC) $(HOSTLDFLAGS) -o $@ $(tool-objs) $(TOOL_LIBS)

# --- Wrapping a payload ------------------------------------------------------------
ifneq ($(PAYLOAD),)
$(PAYLOAD_IMAGE): $(PAYLOAD) $(obj)/pvhstub
	$(quiet) WRAP "$(notdir $@)"
	$(Q)$(obj)/pvhstub wrap $(PAYLOAD) -o $@
endif

# --- Installing ----------------------------------------------------------------
# The tool carries the stub inside it.  The kernel hooks go where Debian's
# kernel packages and kernel-install look for them, whatever PREFIX is.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib/pvhstub
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
STATEDIR ?= /var/lib/pvhstub
KERNEL_INSTALL_DIR ?= $(SYSCONFDIR)/kernel/install.d

hook-files := $(LIBDIR)/pvhstub-kernel $(SYSCONFDIR)/kernel/postinst.d/pvhstub \
	$(SYSCONFDIR)/kernel/postrm.d/pvhstub $(KERNEL_INSTALL_DIR)/85-pvhstub.install
hook-src := scripts/kernel/pvhstub-kernel scripts/kernel/postinst.d scripts/kernel/postrm.d \
	scripts/kernel/85-pvhstub.install
hook-subst := -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@STATEDIR@|$(STATEDIR)|g'

install: all ## install the tool, its man page, the kernel hooks (PREFIX, DESTDIR)
	$(Q)install -D -m 0755 $(obj)/pvhstub $(DESTDIR)$(BINDIR)/pvhstub
	$(Q)install -D -m 0644 docs/pvhstub.1 $(DESTDIR)$(MANDIR)/man1/pvhstub.1
	$(Q)rm -f $(DESTDIR)$(KERNEL_INSTALL_DIR)/60-pvhstub.install	# its name before it had to follow 60-ukify
	$(Q)set -e; set -- $(hook-files); for src in $(hook-src); do \
		mkdir -p $(DESTDIR)$$(dirname $$1); \
		sed $(hook-subst) $$src > $(DESTDIR)$$1.tmp; \
		chmod 0755 $(DESTDIR)$$1.tmp; mv $(DESTDIR)$$1.tmp $(DESTDIR)$$1; shift; done
	$(Q)if [ -e $(DESTDIR)$(SYSCONFDIR)/default/pvhstub ]; then \
		echo "pvhstub: keeping $(DESTDIR)$(SYSCONFDIR)/default/pvhstub"; \
	else install -D -m 0644 scripts/kernel/default $(DESTDIR)$(SYSCONFDIR)/default/pvhstub; fi
	$(quiet) INSTALL "$(DESTDIR)$(BINDIR)/pvhstub and the kernel hooks"

uninstall: ## remove what install put in place, but the settings in /etc/default/pvhstub
	$(Q)rm -f $(DESTDIR)$(BINDIR)/pvhstub $(DESTDIR)$(MANDIR)/man1/pvhstub.1 \
		$(addprefix $(DESTDIR),$(hook-files)) $(DESTDIR)$(KERNEL_INSTALL_DIR)/60-pvhstub.install
	$(Q)rmdir $(DESTDIR)$(LIBDIR) 2>/dev/null || true

# The Debian package, built from a copy of the tree in $(obj)/deb/.
deb: ## build O/deb/pvhstub_VERSION_amd64.deb (dpkg-buildpackage; O is build/)
	$(Q)scripts/mkdeb.sh $(obj)/deb

# --- Set-up, tests, running --------------------------------------------------
# The pytest harness (tests/conftest.py, tests/framework/), on every core.
PYTHON ?= /usr/bin/python3
PYTEST = PVHSTUB_BUILD=$(obj) $(PYTHON) -m pytest -c tests/pytest.ini --rootdir tests -n auto
deps: ## install what builds and tests need (Debian's archive)
	$(Q)scripts/install-deps.sh

kernels: deps ## fetch Debian's kernels and build the tiny ones, into the machine cache ($$PVHSTUB_CACHE)
	$(Q)scripts/fetch-kernels.sh
	$(Q)tests/kernels/build-tiny.sh

# What the tests run: the tool, the unit tests (plain and sanitized), the
# fuzz harnesses, the probe kernel and the test PVH loader.
test-build: all unit-build fuzz-build $(PROBES) $(obj)/tests/pvhload.elf $(obj)/tests/no_tmpfile.so ## build what the tests run

# One pytest run on every core (--dist loadgroup: the tests that must not
# share the machine carry one xdist_group), whose summary line ends it.
# What it boots comes from the machine cache, filled first; a fixture that
# still lacks it says why (a skip, which fails under CI=true).  The 25
# slowest tests are listed before the summary line.
check: deps ## every test, on every core; pytest's summary line decides
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)status=0; \
	scripts/fetch-kernels.sh || { echo "make check: fetching Debian's kernels failed; the tests that need them say so"; status=1; }; \
	tests/kernels/build-tiny.sh || { echo "make check: building the tiny kernels failed; the tests that need them say so"; status=1; }; \
	tests/xen/fetch-xen.sh || { echo "make check: fetching Xen failed; the Xen tests say so"; status=1; }; \
	$(PYTEST) --dist loadgroup --durations=25 $(PYTEST_ARGS) || status=1; \
	exit $$status

# The unit tests run twice: plain, and under ASan and UBSan; pytest runs
# each cmocka test of each as a test of its own (tests/unit/conftest.py).
unit-build: ## build the unit tests, plain and under ASan+UBSan
	$(Q)$(MAKE) --no-print-directory -f tests/unit/Makefile obj=$(obj)/tests/unit srctree=$(srctree) build
	$(Q)$(MAKE) --no-print-directory -f tests/unit/Makefile obj=$(obj)/tests/unit-san srctree=$(srctree) \
		SANITIZE=1 build

check-unit: unit-build ## the translator under cmocka, plain and under ASan+UBSan
	$(Q)$(PYTEST) tests/unit

check-tool: all $(obj)/tests/no_tmpfile.so ## the tool in pytest: every bad input a row, crafted ELFs under valgrind, the command line, the README's examples
	$(Q)$(PYTEST) tests/tool $(PYTEST_ARGS)

# The edit-test loop: every test that boots no Linux and no Xen, fuzzing aside.
check-quick: deps ## unit, tool, lint, the seeded layouts: no Linux or Xen boots (the edit-test loop)
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)$(PYTEST) --dist loadgroup -m "not linux" --ignore=tests/fuzz $(PYTEST_ARGS)

check-lint: ## shellcheck on the shell that stays shell (tests/lint)
	$(Q)$(PYTEST) tests/lint

check-boot: all ## Linux through the stub in QEMU: every kernel x wrap x machine, KASLR, SMP
	$(Q)$(PYTEST) tests/boot $(PYTEST_ARGS)

check-probe: all $(obj)/tests/probe.bzImage $(obj)/tests/pvhload.elf ## native vs PVH: the same zero page, probe and Debian kernels
	$(Q)$(PYTEST) tests/probe $(PYTEST_ARGS)

# make check-xen [XEN="4.17 4.20"]: the tests of those versions only.
empty :=
space := $(empty) $(empty)
check-xen: all $(obj)/tests/probe.bzImage ## Xen 4.17 and 4.20 under QEMU: PVH dom0 and xl PVH domUs
	$(Q)tests/xen/fetch-xen.sh $(XEN)
	$(Q)$(PYTEST) --dist loadgroup tests/xen \
		$(if $(XEN),-k "$(subst $(space), or ,$(strip $(XEN)))") $(PYTEST_ARGS)

check-deb: all ## the Debian package: build, lintian, install, hooks, boot, purge (root)
	$(Q)$(PYTEST) tests/deb $(PYTEST_ARGS)

# make check-hosts [RELEASES="bookworm trixie sid"]
check-hosts: all ## the README's set-up, the package and its hooks in fresh bookworm, trixie and sid roots (root)
	$(Q)$(PYTEST) --dist loadgroup tests/hosts $(if $(RELEASES),-k "$(subst $(space), or ,$(strip $(RELEASES)))") $(PYTEST_ARGS)

check-overlap: all $(obj)/tests/pvhload.elf ## initrd and window placement with a test PVH loader
	$(Q)$(PYTEST) tests/overlap $(PYTEST_ARGS)

check-zoo: all $(obj)/tests/pvhload.elf ## Firecracker's and Cloud Hypervisor's loading rules and layouts, emulated
	$(Q)$(PYTEST) tests/zoo $(PYTEST_ARGS)

# make fuzz-boot [SEED=N] [COUNT=M]: seeded random PVH layouts booted through the stub.
SEED ?= 1
COUNT ?= 1000
check-fuzzboot: all $(obj)/tests/pvhload.elf $(PROBES) ## seeded random PVH layouts at boot, 300 of each wrap mode
	$(Q)$(PYTEST) tests/fuzzboot $(PYTEST_ARGS)

fuzz-boot: all $(obj)/tests/pvhload.elf $(PROBES) ## COUNT (1000) seeded PVH layouts from SEED (1), in MODE (by seed); a failure prints its replay
	$(Q)$(PYTHON) tests/fuzzboot/fuzzboot.py --obj $(obj) --seed $(SEED) --count $(COUNT) $(if $(MODE),--mode $(MODE))

# make check-image IMAGE=FILE: would rust-vmm (Firecracker, Cloud Hypervisor) load it?
check-image: ## check IMAGE= against rust-vmm linux-loader's rules
	$(Q)test -n "$(IMAGE)" || { echo "make check-image IMAGE=FILE" >&2; exit 2; }
	$(Q)python3 tests/tools/rustvmm_load.py $(IMAGE)

# The boot-cost benchmark: figures, not pass/fail (see tests/bench/bench.sh).
bench: deps all $(obj)/tests/pvhload.elf $(obj)/tests/probe.bzImage ## the boot-cost table (figures, not pass/fail)
	$(Q)scripts/fetch-kernels.sh
	$(Q)tests/bench/bench.sh $(obj)

run: deps ## boot Debian's cloud kernel through the stub (KERNEL=, MACHINE=, APPEND=)
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/run.sh $(obj)

clean: ## remove what the build made, keep .config
	$(Q)rm -rf $(obj)/entry $(obj)/xen $(obj)/translate $(obj)/host $(obj)/tests \
		$(obj)/stub.elf $(obj)/stub.lds $(obj)/pvhstub $(obj)/*.pvh

distclean: ## remove the whole build folder
	$(Q)rm -rf $(obj)

-include $(stub-objs:.o=.d) $(tool-objs:.o=.d)
