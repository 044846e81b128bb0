#pragma once
// Runs one RunSpec on the simulated host and returns its record (without
// the wall-clock field, which the caller adds: the rest is a pure function of
// the spec and seed).
#include "vtmm/core/run_spec.hpp"
#include "vtmm/sim/host_profile.hpp"

namespace vtmm::sim {

// The simulator's model version: part of every sim run's key and record, so
// resuming a sweep never reuses a record that another model computed. Bump
// it in the commit that moves records on purpose (the golden records show
// when), whether the simulator or a design's code moved them: 2 = loaded
// latency (HostProfile curves); 3 = guest-side HeMem's regions are
// guest-virtual 2 MiB ranges; 4 = host-side reference checks flush the VM's
// TLBs when they find a young page, as KVM's clear_flush_young does (nimble,
// tpp-host, autonuma's reclaim; baselines/clear_flush_young.hpp); 5 = hemem
// follows the artifact's order (hot/cold on a sample's uncooled counts;
// cooling after the migration loop, skipped while fast memory holds only
// hot regions); 6 = a batch of fewer mappings than copy threads that holds a
// 2 MiB mapping splits each copy among the threads (HeMem's
// hemem_parallel_memcpy), where it went on one thread; 7 =
// sim_metadata_bytes_per_page is measured from the arrays (a fresh guest's
// free list and an unwanted ground truth hold nothing), no simulated
// quantity moved.
inline constexpr int kModelVersion = 7;

Json simulate(const RunSpec& spec);
// What besides the run decided a sim record's numbers: config's
// host_constants and model_version (close_record's `more`).
Json sim_config(const HostProfile& prof);
// A multi-VM run (spec.multi()): the VMs on one host, sharing its fast tier
// as spec.host.share says; one record with a "vms" list (multi_vm.cpp).
Json simulate_multi(const RunSpec& spec);
// Checks a multi-VM run before it runs (components, sizes, host memory).
void validate_multi(const RunSpec& spec);

// Guest memory for a workload footprint when the spec does not set it: the
// data, one page-table page per 2 MiB, and 2 MiB of slack, rounded to 2 MiB.
uint64_t default_memory_pages(uint64_t footprint_bytes);

}  // namespace vtmm::sim
