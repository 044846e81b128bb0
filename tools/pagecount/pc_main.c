/* pagecount: a Valgrind tool that counts a program's data loads and stores
   per 4 KiB page, window by window, and writes them as a vtmm trace
   (docs/trace-format.md) with uncompressed blocks; `vtmm trace record` then
   compresses it and completes the header.

   SPDX-License-Identifier: GPL-2.0-or-later (it links Valgrind's core; see
   LICENSE-NOTE).

   Why it is fast enough for real loads: each load/store calls one small
   helper that bumps a counter in an open-addressing table (with a one-entry
   cache for the last page), nothing is printed per access, and instructions
   are counted by an inline add per superblock exit, not a call per
   instruction. A window ends after --window data accesses; its touched pages
   are sorted, varint-encoded and written as one block.

   Options: --trace-out=PATH (required), --window=N (counted accesses per
   window, default 1000000), --l1-filter=yes|no (below), --marker-file=PATH (checked at every window boundary:
   when its contents or mtime change, its first line names the phase that
   starts with the next window).

   Only the process Valgrind started is recorded: a forked child stops
   counting (it shares the output file). Threads are serialised by Valgrind,
   so the counters need no locks. An access that straddles two pages counts
   on the page of its first byte. */

#include "pub_tool_basics.h"
#include "pub_tool_tooliface.h"
#include "pub_tool_libcassert.h"
#include "pub_tool_libcprint.h"
#include "pub_tool_libcfile.h"
#include "pub_tool_libcbase.h"
#include "pub_tool_libcproc.h"
#include "pub_tool_mallocfree.h"
#include "pub_tool_options.h"
#include "pub_tool_machine.h"
#include "pub_tool_vki.h"

/* ---- options ---- */
static const HChar* clo_out = NULL;
static ULong clo_window = 1000000;
static const HChar* clo_marker = NULL;

/* ---- counting state ---- */
typedef struct { ULong page; UInt reads, writes; } Slot;
#define EMPTY_PAGE (~0ULL)
static Slot* table;
static ULong table_cap, table_used; /* used = distinct pages ever seen */
static UInt table_shift;
static ULong* touched; /* pages touched in the current window */
static ULong touched_n, touched_cap;
static ULong last_page = EMPTY_PAGE;
static Slot* last_slot;
static ULong in_window, window_index;
static ULong n_instr, instr_at_window_start;
static ULong total_reads, total_writes, min_page = EMPTY_PAGE, max_page;
static Bool disabled;

/* ---- output ---- */
static Int out_fd = -1;
static ULong out_offset;
static UChar* buf;
static ULong buf_n, buf_cap;
static UInt crc_table[256];

/* ---- markers ---- */
#define MAX_MARKER 64
static HChar pending_marker[MAX_MARKER + 1];
static HChar last_marker_text[MAX_MARKER + 1];
static ULong last_marker_mtime, last_marker_mtime_ns;
typedef struct { ULong window; HChar name[MAX_MARKER + 1]; } MarkerRec;
static MarkerRec* markers;
static ULong markers_n, markers_cap;

static void crc_init(void) {
   for (UInt i = 0; i < 256; i++) {
      UInt c = i;
      for (Int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      crc_table[i] = c;
   }
}
static UInt crc32(const UChar* p, ULong n) {
   UInt c = 0xFFFFFFFFu;
   for (ULong i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
   return c ^ 0xFFFFFFFFu;
}

static void buf_reserve(ULong more) {
   if (buf_n + more <= buf_cap) return;
   while (buf_n + more > buf_cap) buf_cap = buf_cap ? buf_cap * 2 : 65536;
   buf = VG_(realloc)("pc.buf", buf, buf_cap);
}
static void buf_varint(ULong v) {
   buf_reserve(10);
   while (v >= 0x80) { buf[buf_n++] = (UChar)((v & 0x7f) | 0x80); v >>= 7; }
   buf[buf_n++] = (UChar)v;
}
static void buf_bytes(const void* p, ULong n) {
   buf_reserve(n);
   VG_(memcpy)(buf + buf_n, p, n);
   buf_n += n;
}

static void out_write(const void* p, ULong n) {
   const UChar* c = p;
   while (n > 0) {
      Int chunk = n > (1u << 30) ? (1 << 30) : (Int)n;
      Int w = VG_(write)(out_fd, c, chunk);
      if (w <= 0) {
         VG_(umsg)("pagecount: writing %s failed; the trace is incomplete\n", clo_out);
         VG_(exit)(1);
      }
      c += w; n -= (ULong)w; out_offset += (ULong)w;
   }
}
static void le32(UChar* p, UInt v) { for (Int i = 0; i < 4; i++) p[i] = (UChar)(v >> (8 * i)); }

/* One block: tag, codec 0 (raw), lengths, CRC of the payload, payload. */
static void write_block(const HChar* tag) {
   UChar h[20];
   VG_(memcpy)(h, tag, 4);
   le32(h + 4, 0);
   le32(h + 8, (UInt)buf_n);
   le32(h + 12, (UInt)buf_n);
   le32(h + 16, crc32(buf, buf_n));
   out_write(h, 20);
   out_write(buf, buf_n);
   buf_n = 0;
}

/* ---- the page table ---- */
static inline ULong hash_page(ULong page) { return (page * 0x9E3779B97F4A7C15ULL) >> table_shift; }

static Slot* find_or_add(ULong page);
static void grow(void) {
   Slot* old = table;
   ULong old_cap = table_cap;
   table_cap *= 2;
   table_shift--;
   table = VG_(malloc)("pc.table", table_cap * sizeof(Slot));
   for (ULong i = 0; i < table_cap; i++) table[i].page = EMPTY_PAGE;
   table_used = 0;
   for (ULong i = 0; i < old_cap; i++) {
      if (old[i].page == EMPTY_PAGE) continue;
      Slot* s = find_or_add(old[i].page);
      s->reads = old[i].reads;
      s->writes = old[i].writes;
   }
   VG_(free)(old);
   last_page = EMPTY_PAGE;
}
static Slot* find_or_add(ULong page) {
   ULong i = hash_page(page);
   for (;;) {
      Slot* s = &table[i];
      if (s->page == page) return s;
      if (s->page == EMPTY_PAGE) {
         if (2 * (table_used + 1) > table_cap) { grow(); return find_or_add(page); }
         s->page = page; s->reads = 0; s->writes = 0;
         table_used++;
         if (page < min_page) min_page = page;
         if (page > max_page) max_page = page;
         return s;
      }
      i = (i + 1) & (table_cap - 1);
   }
}

/* ---- markers ---- */
static Bool marker_char_ok(HChar c) {
   return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '.' || c == ':' || c == '-';
}
/* baseline: only remember what the file holds (stale content from an earlier
   run must not mark window 0). */
static void poll_marker_file(Bool baseline) {
   if (clo_marker == NULL) return;
   struct vg_stat st;
   if (sr_isError(VG_(stat)(clo_marker, &st))) return;
   HChar text[MAX_MARKER + 2];
   SysRes r = VG_(open)(clo_marker, VKI_O_RDONLY, 0);
   if (sr_isError(r)) return;
   Int fd = (Int)sr_Res(r);
   Int n = VG_(read)(fd, text, MAX_MARKER + 1);
   VG_(close)(fd);
   if (n < 0) n = 0;
   text[n] = 0;
   Int len = 0;
   while (len < n && text[len] != '\n' && text[len] != '\r') len++;
   text[len] = 0;
   if (len == 0) return;
   Bool same_text = VG_(strcmp)(text, last_marker_text) == 0;
   if (same_text && st.mtime == last_marker_mtime && st.mtime_nsec == last_marker_mtime_ns) return;
   last_marker_mtime = st.mtime;
   last_marker_mtime_ns = st.mtime_nsec;
   VG_(strcpy)(last_marker_text, text);
   if (baseline) return;
   for (Int i = 0; i < len; i++)
      if (!marker_char_ok(text[i]) || len > MAX_MARKER) {
         VG_(umsg)("pagecount: ignoring marker '%s' (1-64 characters of A-Z a-z 0-9 _ . : -)\n", text);
         return;
      }
   VG_(strcpy)(pending_marker, text);
}

/* ---- windows ---- */
static Int cmp_page(const void* a, const void* b) {
   ULong x = *(const ULong*)a, y = *(const ULong*)b;
   return x < y ? -1 : x > y ? 1 : 0;
}

static void flush_window(void) {
   VG_(ssort)(touched, touched_n, sizeof(ULong), cmp_page);
   ULong instr = n_instr - instr_at_window_start;
   instr_at_window_start = n_instr;
   ULong mlen = VG_(strlen)(pending_marker);
   buf_n = 0;
   buf_varint(window_index);
   buf_varint(instr);
   buf_varint(mlen);
   buf_bytes(pending_marker, mlen);
   buf_varint(touched_n);
   ULong prev = 0;
   for (ULong i = 0; i < touched_n; i++) {
      Slot* s = find_or_add(touched[i]);
      buf_varint(s->page - prev);
      buf_varint(s->reads);
      buf_varint(s->writes);
      total_reads += s->reads;
      total_writes += s->writes;
      s->reads = s->writes = 0;
      prev = s->page;
   }
   if (mlen > 0) {
      if (markers_n == markers_cap) {
         markers_cap = markers_cap ? 2 * markers_cap : 16;
         markers = VG_(realloc)("pc.markers", markers, markers_cap * sizeof(MarkerRec));
      }
      markers[markers_n].window = window_index;
      VG_(strcpy)(markers[markers_n].name, pending_marker);
      markers_n++;
   }
   pending_marker[0] = 0;
   write_block("WNDW");
   touched_n = 0;
   in_window = 0;
   window_index++;
   poll_marker_file(False);
}

static inline Slot* slot_for(Addr a) {
   ULong page = (ULong)a >> 12;
   if (page == last_page) return last_slot;
   Slot* s = find_or_add(page);
   last_page = page;
   last_slot = s;
   return s;
}
static inline void note_touched(Slot* s) {
   if (s->reads == 0 && s->writes == 0) {
      if (touched_n == touched_cap) {
         touched_cap = touched_cap ? 2 * touched_cap : 4096;
         touched = VG_(realloc)("pc.touched", touched, touched_cap * sizeof(ULong));
      }
      touched[touched_n++] = s->page;
   }
}
/* The private-cache filter. The simulator's model starts at the TLB and the
   LLC; what hits in a core's own L1 is core work (ns_per_instruction in the
   replay), as the built-in workloads treat it. So by default an access is
   counted only when it would reach past a 32 KiB, 8-way, 64-byte-line LRU L1
   data cache (Skylake's L1D geometry, Intel Optimization Reference Manual):
   a read that misses, and a write that misses or is the first write to a
   clean resident line (when a page's dirty state can change). A
   read-modify-write of a line that is not resident counts one read and one
   write. --l1-filter=no counts every load and store instead (consecutive
   ones of one kind to one line still count once: VEX runs `rep stosb` a
   byte at a time). */
static Bool clo_l1 = True;
#define L1_SETS 64
#define L1_WAYS 8
static ULong l1[L1_SETS][L1_WAYS]; /* line << 1 | dirty, most recent first */
static ULong last_line = EMPTY_PAGE;
static UInt last_kind;

static void l1_init(void) {
   for (Int s = 0; s < L1_SETS; s++)
      for (Int w = 0; w < L1_WAYS; w++) l1[s][w] = EMPTY_PAGE;
}
/* True when the access reaches past the L1 (and so is counted). */
static inline Bool l1_counts(ULong line, Bool write) {
   ULong* t = l1[line & (L1_SETS - 1)];
   Int w = 0;
   Bool count = True;
   ULong v = (line << 1) | (write ? 1 : 0);
   for (; w < L1_WAYS; w++)
      if ((t[w] >> 1) == line) {
         count = write && !(t[w] & 1);
         v = t[w] | (write ? 1 : 0);
         break;
      }
   if (w == L1_WAYS) w = L1_WAYS - 1; /* miss: evict the least recent */
   for (; w > 0; w--) t[w] = t[w - 1];
   t[0] = v;
   return count;
}
static inline Bool counts(Addr a, UInt kind) {
   ULong line = (ULong)a >> 6;
   if (clo_l1) return l1_counts(line, kind == 2);
   if (line == last_line && last_kind == kind) return False;
   last_line = line;
   last_kind = kind;
   return True;
}

static VG_REGPARM(1) void on_read(Addr a) {
   if (disabled) return;
   if (!counts(a, 1)) return;
   Slot* s = slot_for(a);
   note_touched(s);
   s->reads++;
   if (++in_window == clo_window) flush_window();
}
static VG_REGPARM(1) void on_write(Addr a) {
   if (disabled) return;
   if (!counts(a, 2)) return;
   Slot* s = slot_for(a);
   note_touched(s);
   s->writes++;
   if (++in_window == clo_window) flush_window();
}

/* ---- instrumentation ---- */
static void add_call(IRSB* sb, Bool write, IRExpr* addr, IRExpr* guard) {
   IRExpr** args = mkIRExprVec_1(addr);
   IRDirty* di = write ? unsafeIRDirty_0_N(1, "on_write", VG_(fnptr_to_fnentry)(on_write), args)
                       : unsafeIRDirty_0_N(1, "on_read", VG_(fnptr_to_fnentry)(on_read), args);
   if (guard) di->guard = guard;
   addStmtToIRSB(sb, IRStmt_Dirty(di));
}
static void add_instr_count(IRSB* sb, ULong* pending) {
   if (*pending == 0) return;
   IRTemp t1 = newIRTemp(sb->tyenv, Ity_I64), t2 = newIRTemp(sb->tyenv, Ity_I64);
   IRExpr* where = mkIRExpr_HWord((HWord)&n_instr);
   addStmtToIRSB(sb, IRStmt_WrTmp(t1, IRExpr_Load(Iend_LE, Ity_I64, where)));
   addStmtToIRSB(sb, IRStmt_WrTmp(t2, IRExpr_Binop(Iop_Add64, IRExpr_RdTmp(t1), IRExpr_Const(IRConst_U64(*pending)))));
   addStmtToIRSB(sb, IRStmt_Store(Iend_LE, mkIRExpr_HWord((HWord)&n_instr), IRExpr_RdTmp(t2)));
   *pending = 0;
}

static IRSB* pc_instrument(VgCallbackClosure* closure, IRSB* in, const VexGuestLayout* layout,
                           const VexGuestExtents* vge, const VexArchInfo* archinfo_host,
                           IRType gWordTy, IRType hWordTy) {
   (void)closure; (void)layout; (void)vge; (void)archinfo_host; (void)gWordTy;
   if (gWordTy != hWordTy) VG_(tool_panic)("host/guest word size mismatch");
   IRSB* out = deepCopyIRSBExceptStmts(in);
   Int i = 0;
   while (i < in->stmts_used && in->stmts[i]->tag != Ist_IMark) addStmtToIRSB(out, in->stmts[i++]);
   ULong pending = 0;
   for (; i < in->stmts_used; i++) {
      IRStmt* st = in->stmts[i];
      if (!st || st->tag == Ist_NoOp) continue;
      switch (st->tag) {
         case Ist_IMark: pending++; break;
         case Ist_WrTmp:
            if (st->Ist.WrTmp.data->tag == Iex_Load) add_call(out, False, st->Ist.WrTmp.data->Iex.Load.addr, NULL);
            break;
         case Ist_Store: add_call(out, True, st->Ist.Store.addr, NULL); break;
         case Ist_StoreG: add_call(out, True, st->Ist.StoreG.details->addr, st->Ist.StoreG.details->guard); break;
         case Ist_LoadG: add_call(out, False, st->Ist.LoadG.details->addr, st->Ist.LoadG.details->guard); break;
         case Ist_CAS:
            add_call(out, False, st->Ist.CAS.details->addr, NULL);
            add_call(out, True, st->Ist.CAS.details->addr, NULL);
            break;
         case Ist_LLSC:
            add_call(out, st->Ist.LLSC.storedata != NULL, st->Ist.LLSC.addr, NULL);
            break;
         case Ist_Dirty: {
            IRDirty* d = st->Ist.Dirty.details;
            if (d->mFx == Ifx_Read || d->mFx == Ifx_Modify) add_call(out, False, d->mAddr, NULL);
            if (d->mFx == Ifx_Write || d->mFx == Ifx_Modify) add_call(out, True, d->mAddr, NULL);
            break;
         }
         case Ist_Exit: add_instr_count(out, &pending); break;
         default: break;
      }
      addStmtToIRSB(out, st);
   }
   add_instr_count(out, &pending);
   return out;
}

/* ---- start, options, end ---- */
static Bool pc_process_cmd_line_option(const HChar* arg) {
   if (VG_STR_CLO(arg, "--trace-out", clo_out)) return True;
   if (VG_STR_CLO(arg, "--marker-file", clo_marker)) return True;
   if (VG_BINT_CLO(arg, "--window", clo_window, 1, 2000000000)) return True;
   if (VG_BOOL_CLO(arg, "--l1-filter", clo_l1)) return True;
   return False;
}
static void pc_print_usage(void) {
   VG_(printf)("    --trace-out=PATH       trace file to write (required)\n"
               "    --window=N             data accesses per window [1000000]\n"
               "    --marker-file=PATH     phase marker file, polled at window boundaries\n"
               "    --l1-filter=yes|no     count only accesses that miss a 32 KiB L1 model [yes]\n");
}
static void pc_print_debug_usage(void) { VG_(printf)("    (none)\n"); }

static void pc_atfork_child(ThreadId tid) {
   (void)tid;
   disabled = True; /* the child would write into the parent's file */
   out_fd = -1;
}

static void pc_post_clo_init(void) {
   if (clo_out == NULL) VG_(fmsg_bad_option)("--trace-out", "pagecount needs --trace-out=PATH\n");
   SysRes r = VG_(open)(clo_out, VKI_O_CREAT | VKI_O_WRONLY | VKI_O_TRUNC, 0644);
   if (sr_isError(r)) VG_(fmsg_bad_option)("--trace-out", "cannot create %s\n", clo_out);
   out_fd = (Int)sr_Res(r);
   crc_init();
   l1_init();
   table_cap = 1 << 16;
   table_shift = 64 - 16;
   table = VG_(malloc)("pc.table", table_cap * sizeof(Slot));
   for (ULong i = 0; i < table_cap; i++) table[i].page = EMPTY_PAGE;
   HChar json[256];
   Int n = VG_(snprintf)(json, sizeof json,
                         "{\"format\":\"vtmm-trace\",\"version\":1,\"page_size\":4096,\"window_accesses\":%llu,"
                         "\"program\":\"\",\"recorded_at\":\"\",\"recorder\":\"valgrind tool pagecount\","
                         "\"l1_filter\":\"%s\"}",
                         clo_window, clo_l1 ? "32KiB 8-way 64B LRU" : "off");
   UChar h[20];
   VG_(memcpy)(h, "VTMMTRCE", 8);
   le32(h + 8, 1);
   le32(h + 12, (UInt)n);
   le32(h + 16, crc32((const UChar*)json, (ULong)n));
   out_write(h, 20);
   out_write(json, (ULong)n);
   VG_(atfork)(NULL, NULL, pc_atfork_child);
   poll_marker_file(True);
}

static void pc_fini(Int exitcode) {
   (void)exitcode;
   if (disabled || out_fd < 0) return;
   if (in_window > 0 || window_index == 0) flush_window();
   ULong trailer_at = out_offset;
   HChar tmp[256];
   buf_n = 0;
   Int n = VG_(snprintf)(tmp, sizeof tmp,
                         "{\"windows\":%llu,\"distinct_pages\":%llu,\"reads\":%llu,\"writes\":%llu,"
                         "\"instructions\":%llu,\"min_page\":%llu,\"max_page\":%llu,\"markers\":[",
                         window_index, table_used, total_reads, total_writes, n_instr,
                         table_used ? min_page : 0ULL, max_page);
   buf_bytes(tmp, (ULong)n);
   for (ULong i = 0; i < markers_n; i++) {
      n = VG_(snprintf)(tmp, sizeof tmp, "%s{\"window\":%llu,\"name\":\"%s\"}", i ? "," : "",
                        markers[i].window, markers[i].name);
      buf_bytes(tmp, (ULong)n);
   }
   buf_bytes("]}", 2);
   write_block("TRLR");
   UChar end[16];
   for (Int i = 0; i < 8; i++) end[i] = (UChar)(trailer_at >> (8 * i));
   VG_(memcpy)(end + 8, "VTMMTEND", 8);
   out_write(end, 16);
   VG_(close)(out_fd);
}

static void pc_pre_clo_init(void) {
   VG_(details_name)("pagecount");
   VG_(details_version)(NULL);
   VG_(details_description)("vtmm: per-page load/store counts per window");
   VG_(details_copyright_author)("vtmm contributors; GPL-2.0-or-later");
   VG_(details_bug_reports_to)("the vtmm project");
   VG_(details_avg_translation_sizeB)(275);
   VG_(basic_tool_funcs)(pc_post_clo_init, pc_instrument, pc_fini);
   VG_(needs_command_line_options)(pc_process_cmd_line_option, pc_print_usage, pc_print_debug_usage);
}

VG_DETERMINE_INTERFACE_VERSION(pc_pre_clo_init)
