/* SPDX-License-Identifier: GPL-2.0 */
/* What the companion's two parts share: one page-table step, the TLB flush. */
#ifndef VTMM_GPT_H
#define VTMM_GPT_H

#include <linux/mm.h>
#include <asm/tlbflush.h>

/* The leaf table mapping addr, or NULL (none, or a huge mapping). */
static inline pmd_t *vtmm_leaf_pmd(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;
	pmd_t v;

	if (pgd_none(*pgd) || pgd_bad(*pgd))
		return NULL;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(*p4d) || p4d_bad(*p4d))
		return NULL;
	pud = pud_offset(p4d, addr);
	if (pud_none(*pud) || pud_bad(*pud))
		return NULL;
	pmd = pmd_offset(pud, addr);
	v = READ_ONCE(*pmd);
	if (pmd_none(v) || pmd_trans_huge(v) || pmd_bad(v))
		return NULL;
	return pmd;
}

/* Every CPU's TLB, after PTEs changed (the kernel's ranged flushes are not exported). */
void vtmm_flush_all_tlbs(void);
/* The process with pid nr's mm (a reference the caller drops with mmput), or an ERR_PTR. */
struct mm_struct *vtmm_mm_of(pid_t nr);

int vtmm_hint_init(void);
void vtmm_hint_exit(void);

#endif
