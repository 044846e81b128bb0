#pragma once
// The guest agent's wire protocol (version 1), shared by the agent and the host.
//
// A frame is a 16-byte little-endian header -- magic "VTMA", version u16,
// type u16, payload length u32, sequence u32 -- and its payload. The guest is
// untrusted: the host decodes every frame with the VM's memory map and fixed
// limits, and a frame that breaks any rule (unknown version or type, length
// over the limit or not matching its contents, a GPA outside the map, reserved
// bits set, non-finite numbers, unprintable names, trailing bytes) is
// rejected whole, with a reason; nothing from it is used. The stream decoder
// then resynchronises on the next magic.
//
// Payloads (all integers little-endian):
//   Hello    u32 agent_version, u32 nodes (1..64), u64 mem_bytes, nodes x u64 node_bytes (sum ==
//   mem_bytes) Metrics  u8 name_len, name, u16 count (<= 128), count x {u8 key_len, key, f64
//   value}; unique keys Pages    u8 source (1 page_idle, 2 soft_dirty, 3 page_table), 3 zero bytes,
//   u32 window, u32 count,
//            count x u64 entry: guest frame number in bits 0..51, bits 52..55 zero, flags in 56..63
//            (bit 0 accessed, bit 1 dirty, at least one set)
//   Tables   u32 count (1..kMaxTablesPerFrame), count x {u64 table gfn, 512 x u64 entry}: one leaf
//            page-table page of the workload (the guest companion's walk) and its PTEs; an entry is
//            0 where the PTE maps nothing, else the guest frame it maps in bits 0..51, bits 52..55
//            zero, flags in 56..63 (bit 2 present, which must be set; bit 0 accessed, bit 1 dirty).
//            The table and every mapped frame lie inside the memory map; tables are unique per
//            frame
//   Done     i32 status
//   Text     u16 len (<= 512), printable ASCII (Error from the guest; Command from the host)
//
// Sequence numbers: the host numbers its Commands 0, 1, 2, ...; every frame
// the agent sends in answer to one (Metrics, Pages, Error, Done) carries that
// command's seq, so the host can tell a late reply to an earlier command from
// the answer it waits for. The Hello, sent before any command, carries 0.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace vtmm::agent_proto {

inline constexpr uint32_t kMagic = 0x414D5456;  // bytes "VTMA"
inline constexpr uint16_t kVersion = 1;
inline constexpr size_t kHeaderBytes = 16;
inline constexpr uint32_t kMaxPayload = 1u << 20;
inline constexpr uint32_t kMaxPages = (kMaxPayload - 12) / 8;
inline constexpr size_t kMaxName = 64, kMaxMetrics = 128, kMaxText = 512, kMaxNodes = 64;
inline constexpr uint64_t kPfnMask = (uint64_t{1} << 52) - 1;
inline constexpr size_t kPtesPerTable = 512;
inline constexpr uint32_t kMaxTablesPerFrame = (kMaxPayload - 4) / (8 + kPtesPerTable * 8);  // 255

enum class MsgType : uint16_t {
  Hello = 1,
  Metrics = 2,
  Pages = 3,
  Done = 4,
  Error = 5,
  Tables = 6,
  Command = 32
};
enum class PageSource : uint8_t { PageIdle = 1, SoftDirty = 2, PageTable = 3, HotSet = 4 };
inline constexpr uint8_t kAccessed = 1, kDirty = 2, kPresent = 4;

struct Hello {
  uint32_t agent_version = 1;
  uint64_t mem_bytes = 0;
  std::vector<uint64_t> node_bytes;
};
struct Metrics {
  std::string name;
  std::vector<std::pair<std::string, double>> values;
};
struct Pages {
  PageSource source = PageSource::SoftDirty;
  uint32_t window = 0;
  std::vector<uint64_t> gfns;
  std::vector<uint8_t> flags;  // parallel to gfns
};
struct Tables {
  std::vector<uint64_t> gfns;     // the page-table pages
  std::vector<uint64_t> entries;  // kPtesPerTable per table, encoded as on the wire
};
struct Done {
  int32_t status = 0;
};
struct Text {
  std::string text;
};

struct Message {
  MsgType type = MsgType::Done;
  uint32_t seq = 0;
  std::variant<Hello, Metrics, Pages, Done, Text, Tables> body;
};

// A frame for `m` (the agent's side; tests use it to build valid frames).
std::string encode(const Message& m);

// Guest-physical ranges [begin, end) in bytes that the VM really has.
struct MemoryMap {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  bool contains_gfn(uint64_t gfn) const;
  uint64_t total_bytes() const;
};

struct Decoded {
  std::optional<Message> msg;  // set if valid
  std::string error;           // why rejected, if not
};

// One complete frame, exactly `len` bytes.
Decoded decode_frame(const uint8_t* data, size_t len, const MemoryMap& map);

// Byte stream -> validated messages; malformed frames are counted and their
// reasons kept (bounded), never returned. Drained by next() after every
// feed(), it holds at most one incomplete frame (<= kHeaderBytes + kMaxPayload
// bytes) and 64 KiB of consumed bytes, whatever the stream.
class StreamDecoder {
 public:
  explicit StreamDecoder(MemoryMap map) : map_(std::move(map)) {}
  void feed(const void* data, size_t len);
  // Next valid message, if a complete one is buffered.
  std::optional<Message> next();
  // Counts a frame that was valid on the wire but wrong where it came (a
  // reply to another command): one tally of what the guest got wrong.
  void reject(std::string why);
  uint64_t rejected() const { return rejected_; }
  const std::vector<std::string>& reasons() const { return reasons_; }  // the first 100
  const std::string& last_reason() const { return last_reason_; }
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  MemoryMap map_;
  std::string buf_;
  size_t pos_ = 0;
  uint64_t rejected_ = 0;
  std::vector<std::string> reasons_;
  std::string last_reason_;
};

}  // namespace vtmm::agent_proto
