// SPDX-License-Identifier: GPL-2.0
// vtmm_gpt: vTMM's guest companion, the part a stock guest kernel lacks: the
// guest-physical frames of a process's leaf page-table pages and the
// accessed/dirty bits of their PTEs (docs/vm.md, "The guest companion").
//
//   echo "PID CLEAR" > /proc/vtmm_gpt   walk PID's page tables; CLEAR is a
//                                       mask: 1 clears each present PTE's
//                                       accessed bit, 2 its dirty bit (the
//                                       page is marked dirty first); either
//                                       then flushes every CPU's TLB
//   cat /proc/vtmm_gpt                  the walk: per leaf page-table page one
//                                       record of u64s: the first virtual
//                                       address it maps, its frame number,
//                                       then its 512 PTEs as the CPU wrote them
//
// The record holds the PTEs as read before any clear. The module's second
// part, hint_faults.c, gives a daemon NUMA hint faults (/proc/vtmm_hint).
// GPL because it uses GPL-only kernel exports (__flush_tlb_all, get_task_mm).
// Bounded: at most 4096 tables (8 GiB mapped, four times the vm platform's
// largest guest) per walk, in a 17 MB buffer allocated once, at load.
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/proc_fs.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <asm/tlbflush.h>

#include "vtmm_gpt.h"

#define VTMM_MAX_TABLES 4096
#define VTMM_CLEAR_ACCESSED 1
#define VTMM_CLEAR_DIRTY 2

struct vtmm_table {
	u64 va;
	u64 pfn;
	u64 pte[PTRS_PER_PTE];
};

static struct vtmm_table *tables;
static size_t ntables;
static DEFINE_MUTEX(walk_lock);

static void flush_this_cpu(void *unused)
{
	__flush_tlb_all();
}

void vtmm_flush_all_tlbs(void)
{
	on_each_cpu(flush_this_cpu, NULL, 1);
}

struct mm_struct *vtmm_mm_of(pid_t nr)
{
	struct task_struct *task;
	struct mm_struct *mm;

	rcu_read_lock();
	task = pid_task(find_vpid(nr), PIDTYPE_PID);
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	if (!task)
		return ERR_PTR(-ESRCH);
	mm = get_task_mm(task);
	put_task_struct(task);
	return mm ? mm : ERR_PTR(-EINVAL);
}

/*
 * A dirty bit may only be dropped once the page itself is marked dirty, or
 * reclaim could discard the only copy of its data (zap_pte_range does the
 * same under the table's lock). Pages of special mappings are left alone.
 */
static void clear_dirty(struct mm_struct *mm, struct vm_area_struct **vma, unsigned long addr,
			pte_t *pte, pte_t v)
{
	unsigned long pfn = pte_pfn(v);

	if (!*vma || addr < (*vma)->vm_start || addr >= (*vma)->vm_end) {
		*vma = find_vma(mm, addr);
		if (*vma && addr < (*vma)->vm_start)
			*vma = NULL;
	}
	if (!*vma || ((*vma)->vm_flags & (VM_PFNMAP | VM_MIXEDMAP | VM_IO)) || !pfn_valid(pfn) ||
	    is_zero_pfn(pfn))
		return;
	folio_mark_dirty(page_folio(pfn_to_page(pfn)));
	test_and_clear_bit(_PAGE_BIT_DIRTY, (unsigned long *)&pte->pte);
}

static void walk_table(struct vm_area_struct *vma, pmd_t *pmd, unsigned long base, int clear)
{
	struct vtmm_table *t = &tables[ntables++];
	struct vm_area_struct *at = vma;
	spinlock_t *ptl;
	pte_t *pte = pte_offset_map_lock(vma->vm_mm, pmd, base, &ptl);
	int i;

	t->va = base;
	t->pfn = pmd_pfn(READ_ONCE(*pmd));
	for (i = 0; i < PTRS_PER_PTE; i++) {
		pte_t v = READ_ONCE(pte[i]);

		t->pte[i] = pte_val(v);
		if (!pte_present(v))
			continue;
		/* What x86's ptep_test_and_clear_young does (not exported). */
		if ((clear & VTMM_CLEAR_ACCESSED) && pte_young(v))
			test_and_clear_bit(_PAGE_BIT_ACCESSED, (unsigned long *)&pte[i].pte);
		if ((clear & VTMM_CLEAR_DIRTY) && pte_dirty(v))
			clear_dirty(vma->vm_mm, &at, base + i * PAGE_SIZE, &pte[i], v);
	}
	pte_unmap_unlock(pte, ptl);
}

static int walk(pid_t nr, int clear)
{
	struct mm_struct *mm = vtmm_mm_of(nr);
	struct vm_area_struct *vma;
	unsigned long addr;

	if (IS_ERR(mm))
		return PTR_ERR(mm);
	ntables = 0;
	mmap_read_lock(mm);
	for (vma = find_vma(mm, 0); vma && ntables < VTMM_MAX_TABLES; vma = find_vma(mm, vma->vm_end)) {
		for (addr = vma->vm_start & PMD_MASK; addr < vma->vm_end && ntables < VTMM_MAX_TABLES;
		     addr += PMD_SIZE) {
			pmd_t *pmd;

			if (ntables && tables[ntables - 1].va == addr)
				continue; /* shared with the previous mapping */
			pmd = vtmm_leaf_pmd(mm, addr);
			if (pmd)
				walk_table(vma, pmd, addr, clear);
		}
	}
	mmap_read_unlock(mm);
	mmput(mm);
	if (clear)
		vtmm_flush_all_tlbs();
	return 0;
}

static ssize_t gpt_write(struct file *f, const char __user *ubuf, size_t len, loff_t *off)
{
	char text[32];
	int pid, clear, rc;

	if (len == 0 || len >= sizeof(text))
		return -EINVAL;
	if (copy_from_user(text, ubuf, len))
		return -EFAULT;
	text[len] = 0;
	if (sscanf(text, "%d %d", &pid, &clear) != 2 || pid <= 0 || clear < 0 ||
	    clear > (VTMM_CLEAR_ACCESSED | VTMM_CLEAR_DIRTY))
		return -EINVAL;
	mutex_lock(&walk_lock);
	rc = walk(pid, clear);
	mutex_unlock(&walk_lock);
	return rc ? rc : len;
}

static ssize_t gpt_read(struct file *f, char __user *ubuf, size_t len, loff_t *off)
{
	ssize_t n;

	mutex_lock(&walk_lock);
	n = simple_read_from_buffer(ubuf, len, off, tables, ntables * sizeof(*tables));
	mutex_unlock(&walk_lock);
	return n;
}

static const struct proc_ops gpt_ops = {
	.proc_read = gpt_read,
	.proc_write = gpt_write,
	.proc_lseek = default_llseek,
};

static int __init vtmm_gpt_init(void)
{
	tables = vzalloc(array_size(VTMM_MAX_TABLES, sizeof(*tables)));
	if (!tables)
		return -ENOMEM;
	if (!proc_create("vtmm_gpt", 0600, NULL, &gpt_ops)) {
		vfree(tables);
		return -ENOMEM;
	}
	/* Hint faults are a second service: without them the walk still runs. */
	if (vtmm_hint_init())
		pr_warn("vtmm_gpt: no hint faults (/proc/vtmm_hint absent)\n");
	return 0;
}

static void __exit vtmm_gpt_exit(void)
{
	vtmm_hint_exit();
	remove_proc_entry("vtmm_gpt", NULL);
	vfree(tables);
}

module_init(vtmm_gpt_init);
module_exit(vtmm_gpt_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION(
	"vtmm: guest page-table pages, their PTEs' accessed/dirty bits, NUMA hint faults");
