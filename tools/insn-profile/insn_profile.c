// SPDX-License-Identifier: GPL-2.0
/*
 * A QEMU TCG plugin that counts the guest instructions executed at each
 * translation block's address, for `make bench`'s profiles
 * (BENCH_PROFILE=1, scripts/insn-profile.py): with -icount a guest
 * nanosecond is an instruction, and this says which code they went to.
 *
 *   qemu-system-x86_64 ... -plugin insn_profile.so,out=FILE
 *
 * At exit it writes one line per block: "<hex address> <instructions>
 * <length>": the instructions executed there (executions times length)
 * and the block's length in instructions.
 *
 * QEMU 7.2 has plugin API version 1; Debian ships QEMU without the
 * header, so the few declarations used are written out here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
		void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb *));
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
		enum qemu_plugin_op op, void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
		void (*cb)(qemu_plugin_id_t, void *), void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* One counter per block address, in an open-addressed table that grows. */
struct slot {
	uint64_t addr;
	uint64_t insns;
	uint64_t len;
};

static struct slot *slots;
static size_t cap, used;
static char out_path[4096] = "insn-profile.txt";

static struct slot *find(uint64_t addr)
{
	size_t i = (addr * 0x9e3779b97f4a7c15ULL) >> 20;

	for (;; i++) {
		struct slot *s = &slots[i & (cap - 1)];

		if (s->addr == addr || s->addr == 0)
			return s;
	}
}

/*
 * The table never shrinks or moves a slot that a translated block points
 * to: when it fills, the old one is kept (and still counted into) and
 * merged at exit.
 */
struct table {
	struct slot *slots;
	size_t cap;
	struct table *older;
};

static struct table *tables;

static int grow(void)
{
	struct table *t = malloc(sizeof(*t));
	size_t ncap = cap ? cap * 4 : 1 << 16;

	if (!t)
		return -1;
	t->slots = calloc(ncap, sizeof(struct slot));
	if (!t->slots) {
		free(t);
		return -1;
	}
	t->cap = ncap;
	t->older = tables;
	tables = t;
	slots = t->slots;
	cap = ncap;
	used = 0;
	return 0;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t addr = qemu_plugin_tb_vaddr(tb);
	struct slot *s;

	(void)id;
	if (addr == 0)
		return;
	if ((used + 1) * 2 > cap && grow())
		return;
	s = find(addr);
	if (s->addr == 0) {
		s->addr = addr;
		s->len = qemu_plugin_tb_n_insns(tb);
		used++;
	}
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 &s->insns,
						 qemu_plugin_tb_n_insns(tb));
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
	FILE *f = fopen(out_path, "w");
	struct table *t;
	size_t i;

	(void)id;
	(void)p;
	if (!f)
		return;
	for (t = tables; t; t = t->older)
		for (i = 0; i < t->cap; i++)
			if (t->slots[i].addr && t->slots[i].insns)
				fprintf(f, "%llx %llu %llu\n",
					(unsigned long long)t->slots[i].addr,
					(unsigned long long)t->slots[i].insns,
					(unsigned long long)t->slots[i].len);
	fclose(f);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
			int argc, char **argv)
{
	int i;

	(void)info;
	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			snprintf(out_path, sizeof(out_path), "%s", argv[i] + 4);
	if (grow())
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
