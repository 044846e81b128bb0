// SPDX-License-Identifier: GPL-2.0
// NUMA hint faults for a daemon's design (docs/vm.md, "Hint faults"): what
// the kernel's NUMA balancing does for itself, offered to a policy that
// decides elsewhere.
//
//   write to /proc/vtmm_hint   struct { u32 pid; u32 count; u32 op; u32 zero;
//                                       u64 va[count]; } (count <= 16384)
//                              op 0, protect: makes each present 4 KiB PTE
//                              of PID at va inaccessible, as
//                              change_prot_numa does for task_numa_work
//                              (PROT_NONE, the write permission kept for the
//                              fault to restore), then flushes every CPU's
//                              TLB. PID's faults are recorded from then on
//                              (a new PID's recording starts empty); count
//                              0 stops recording and drops what is held.
//                              op 1, restore: makes such PTEs accessible
//                              again as the fault would (before a move:
//                              Linux 6.1's move_pages does not find a
//                              PROT_NONE page, gup_can_follow_protnone).
//   read /proc/vtmm_hint       drains the faults recorded since the last
//                              read (a read at offset 0 takes them) as
//                              struct { u64 va; u64 ns; } (ns:
//                              ktime_get_ns, CLOCK_MONOTONIC); a last record
//                              with va ~0 carries, in ns, how many faults were
//                              lost (buffer full, or no probe instance free).
//
// The kernel takes each such fault in do_numa_page, which restores the PTE.
// A kretprobe on numa_migrate_prep (its decision where the page belongs)
// records the fault and, for the recorded process only, answers "stay"
// (NUMA_NO_NODE), so the kernel moves nothing and the design decides; any
// other process's faults go the kernel's way untouched.
//
// Bounded: 16384 addresses per write, 65536 faults between reads (one 256 MB
// scan of the kernel's NUMA balancing, numa_balancing_scan_size_mb), buffers
// allocated once, at load.
#include <linux/hugetlb.h>
#include <linux/kprobes.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/proc_fs.h>
#include <linux/sched/mm.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "vtmm_gpt.h"

#define VTMM_MAX_PROTECT 16384
#define VTMM_MAX_FAULTS 65536

struct vtmm_fault {
	u64 va;
	u64 ns;
};

struct vtmm_request_head {
	u32 pid;
	u32 count;
	u32 op;
	u32 zero;
};

#define VTMM_OP_PROTECT 0
#define VTMM_OP_RESTORE 1

/* The bits a protection change replaces; pte_modify keeps the others. */
#define VTMM_PROT_BITS \
	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_NX | _PAGE_GLOBAL | _PAGE_PKEY_MASK)

static struct mm_struct *recorded_mm; /* compared, never dereferenced */
static DEFINE_SPINLOCK(ring_lock);
static struct vtmm_fault *ring, *drained;
static size_t nfaults, ndrained;
static u64 lost, missed_seen;
static u64 *vas;
static DEFINE_MUTEX(hint_lock);

static int prep_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	unsigned long flags;

	if (!current->mm || current->mm != READ_ONCE(recorded_mm))
		return 1; /* not ours: no return handler, the kernel decides */
	spin_lock_irqsave(&ring_lock, flags);
	if (nfaults < VTMM_MAX_FAULTS) {
		ring[nfaults].va = regs_get_kernel_argument(regs, 2) & PAGE_MASK;
		ring[nfaults].ns = ktime_get_ns();
		nfaults++;
	} else {
		lost++;
	}
	spin_unlock_irqrestore(&ring_lock, flags);
	return 0;
}

static int prep_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	regs_set_return_value(regs, (unsigned long)NUMA_NO_NODE);
	return 0;
}

static struct kretprobe prep_probe = {
	.kp.symbol_name = "numa_migrate_prep",
	.entry_handler = prep_entry,
	.handler = prep_return,
	.maxactive = 256,
};

/*
 * What pte_modify(old, PAGE_NONE) gives, spelt out: x86's pte_modify keeps
 * the memory-encryption bit through cc_mask, which modules cannot reach.
 * Present, write, user, NX and the protection key go; PROT_NONE comes; the
 * frame, cache, A/D, soft-dirty and software bits stay; the frame bits are
 * inverted as every non-present PTE's are (the L1TF guard).
 */
static pte_t prot_none(pte_t old)
{
	pteval_t was = pte_val(old), val;

	val = (was & ~VTMM_PROT_BITS) | _PAGE_PROTNONE;
	/* change_pte_range keeps write permission for the fault to restore (savedwrite). */
	if (was & _PAGE_RW)
		val |= _PAGE_RW;
	return __pte(flip_protnone_guard(was, val, PTE_PFN_MASK));
}

/* What do_numa_page makes of it: pte_modify(old, vm_page_prot), the saved write kept. */
static pte_t prot_restored(pte_t old, struct vm_area_struct *vma)
{
	pteval_t was = pte_val(old), val;

	val = (was & ~VTMM_PROT_BITS) | (pgprot_val(vma->vm_page_prot) & VTMM_PROT_BITS);
	if (was & _PAGE_RW)
		val |= _PAGE_RW;
	return __pte(flip_protnone_guard(was, val, PTE_PFN_MASK));
}

/*
 * One PTE made inaccessible, as change_pte_range does with prot_numa, or
 * accessible again; a PTE in neither state is left alone.
 */
static void change_one(struct vm_area_struct *vma, pmd_t *pmd, unsigned long va, u32 op)
{
	spinlock_t *ptl;
	pte_t *pte = pte_offset_map_lock(vma->vm_mm, pmd, va, &ptl);
	pte_t old = READ_ONCE(*pte);

	if (op == VTMM_OP_PROTECT && pte_present(old) && !pte_protnone(old)) {
		old = ptep_modify_prot_start(vma, va, pte);
		ptep_modify_prot_commit(vma, va, pte, old, prot_none(old));
	} else if (op == VTMM_OP_RESTORE && pte_protnone(old)) {
		old = ptep_modify_prot_start(vma, va, pte);
		ptep_modify_prot_commit(vma, va, pte, old, prot_restored(old, vma));
	}
	pte_unmap_unlock(pte, ptl);
}

/* Drops the faults held (a new recording starts empty). */
static void forget_faults(void)
{
	unsigned long flags;

	spin_lock_irqsave(&ring_lock, flags);
	nfaults = 0;
	lost = 0;
	spin_unlock_irqrestore(&ring_lock, flags);
}

static int change(pid_t nr, u32 count, u32 op)
{
	struct mm_struct *mm;
	struct vm_area_struct *vma = NULL;
	u32 i;

	/* Stopping needs no live process: the recorded one may have exited. */
	if (op == VTMM_OP_PROTECT && count == 0) {
		WRITE_ONCE(recorded_mm, NULL);
		forget_faults();
		return 0;
	}
	mm = vtmm_mm_of(nr);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	if (op == VTMM_OP_PROTECT && mm != READ_ONCE(recorded_mm)) {
		WRITE_ONCE(recorded_mm, mm);
		forget_faults();
	}
	mmap_read_lock(mm);
	for (i = 0; i < count; i++) {
		unsigned long va = vas[i] & PAGE_MASK;
		pmd_t *pmd;

		if (!vma || va < vma->vm_start || va >= vma->vm_end) {
			vma = find_vma(mm, va);
			if (vma && va < vma->vm_start)
				vma = NULL;
		}
		/* The mappings task_numa_work leaves alone are left alone here. */
		if (!vma || !vma_is_accessible(vma) || is_vm_hugetlb_page(vma) ||
		    (vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP | VM_IO)))
			continue;
		pmd = vtmm_leaf_pmd(mm, va);
		if (pmd)
			change_one(vma, pmd, va, op);
	}
	mmap_read_unlock(mm);
	mmput(mm);
	/* A restore needs no flush: no TLB holds a not-present entry. */
	if (op == VTMM_OP_PROTECT)
		vtmm_flush_all_tlbs();
	return 0;
}

static ssize_t hint_write(struct file *f, const char __user *ubuf, size_t len, loff_t *off)
{
	struct vtmm_request_head head;
	int rc;

	if (len < sizeof(head) || copy_from_user(&head, ubuf, sizeof(head)))
		return -EINVAL;
	if (head.pid == 0 || head.pid > PID_MAX_LIMIT || head.count > VTMM_MAX_PROTECT ||
	    head.op > VTMM_OP_RESTORE || head.zero ||
	    len != sizeof(head) + (size_t)head.count * sizeof(u64))
		return -EINVAL;
	mutex_lock(&hint_lock);
	rc = copy_from_user(vas, ubuf + sizeof(head), head.count * sizeof(u64)) ?
		     -EFAULT :
		     change(head.pid, head.count, head.op);
	mutex_unlock(&hint_lock);
	return rc ? rc : len;
}

/* Moves the recorded faults (and the count lost) to the buffer reads copy from. */
static void drain(void)
{
	unsigned long flags;
	/* Misses of an instance, or of the probe itself (a probe already running). */
	u64 missed = prep_probe.nmissed + prep_probe.kp.nmissed, gone;

	spin_lock_irqsave(&ring_lock, flags);
	memcpy(drained, ring, nfaults * sizeof(*ring));
	ndrained = nfaults;
	gone = lost + (missed - missed_seen);
	nfaults = 0;
	lost = 0;
	spin_unlock_irqrestore(&ring_lock, flags);
	missed_seen = missed;
	if (gone) {
		drained[ndrained].va = ~0ull;
		drained[ndrained].ns = gone;
		ndrained++;
	}
}

static ssize_t hint_read(struct file *f, char __user *ubuf, size_t len, loff_t *off)
{
	ssize_t n;

	mutex_lock(&hint_lock);
	if (*off == 0)
		drain();
	n = simple_read_from_buffer(ubuf, len, off, drained, ndrained * sizeof(*drained));
	mutex_unlock(&hint_lock);
	return n;
}

static const struct proc_ops hint_ops = {
	.proc_read = hint_read,
	.proc_write = hint_write,
	.proc_lseek = default_llseek,
};

int vtmm_hint_init(void)
{
	int rc;

	ring = vzalloc(array_size(VTMM_MAX_FAULTS, sizeof(*ring)));
	drained = vzalloc(array_size(VTMM_MAX_FAULTS + 1, sizeof(*drained)));
	vas = vzalloc(array_size(VTMM_MAX_PROTECT, sizeof(*vas)));
	rc = ring && drained && vas ? register_kretprobe(&prep_probe) : -ENOMEM;
	if (!rc && !proc_create("vtmm_hint", 0600, NULL, &hint_ops)) {
		unregister_kretprobe(&prep_probe);
		rc = -ENOMEM;
	}
	if (rc) {
		vfree(ring);
		vfree(drained);
		vfree(vas);
		ring = drained = NULL;
		vas = NULL;
	}
	return rc;
}

void vtmm_hint_exit(void)
{
	if (!ring)
		return;
	remove_proc_entry("vtmm_hint", NULL);
	unregister_kretprobe(&prep_probe);
	vfree(ring);
	vfree(drained);
	vfree(vas);
}
