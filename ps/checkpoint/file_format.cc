#include "ps/checkpoint/file_format.h"

#include <zlib.h>

#include <cstring>

#include "ps/checkpoint/byte_codec.h"

namespace embedps::ps::checkpoint {
namespace {

constexpr uint32_t kMaxNameBytes = 4096;
constexpr uint32_t kMaxTables = 65536;

void PutTable(ByteWriter& w, const TableInfo& t) {
  const TableConfig& c = t.config;
  const OptimizerConfig& o = c.optimizer;
  w.Put<uint32_t>(c.id);
  w.Put<uint32_t>(c.dim);
  w.PutString(c.name);
  w.PutString(o.name);
  for (float f : {o.learning_rate, o.initial_accumulator, o.l2, o.beta1, o.beta2, o.epsilon, o.l1,
                  o.ftrl_beta, o.clip_norm}) {
    w.Put<float>(f);
  }
  w.Put<uint8_t>(static_cast<uint8_t>(c.init));
  w.Put<uint8_t>(c.fp16);
  w.Put<uint8_t>(t.has_stamp);
  w.Put<uint8_t>(0);
  w.Put<float>(c.init_scale);
  w.Put<uint64_t>(c.seed);
  w.Put<uint32_t>(c.admit_after);
  w.Put<uint64_t>(c.evict_after_steps);
  w.Put<uint64_t>(c.memory_budget_bytes);
  w.Put<uint32_t>(t.weight_bytes);
  w.Put<uint32_t>(t.state_floats);
  w.Put<uint64_t>(t.step_at_cut);
}

bool GetTable(ByteReader& r, TableInfo* t) {
  TableConfig& c = t->config;
  OptimizerConfig& o = c.optimizer;
  r.Get(&c.id);
  r.Get(&c.dim);
  r.GetString(&c.name, kMaxNameBytes);
  r.GetString(&o.name, kMaxNameBytes);
  for (float* f : {&o.learning_rate, &o.initial_accumulator, &o.l2, &o.beta1, &o.beta2, &o.epsilon,
                   &o.l1, &o.ftrl_beta, &o.clip_norm}) {
    r.Get(f);
  }
  uint8_t init = 0, fp16 = 0, stamp = 0, zero = 0;
  r.Get(&init);
  r.Get(&fp16);
  r.Get(&stamp);
  r.Get(&zero);
  c.init = static_cast<Initializer>(init);
  c.fp16 = fp16 != 0;
  t->has_stamp = stamp != 0;
  r.Get(&c.init_scale);
  r.Get(&c.seed);
  r.Get(&c.admit_after);
  r.Get(&c.evict_after_steps);
  r.Get(&c.memory_budget_bytes);
  r.Get(&t->weight_bytes);
  r.Get(&t->state_floats);
  r.Get(&t->step_at_cut);
  return r.ok() && init <= static_cast<uint8_t>(Initializer::kNormal) && fp16 <= 1 && stamp <= 1;
}

}  // namespace


uint32_t Crc32(const void* data, size_t size, uint32_t crc) {
  return static_cast<uint32_t>(crc32_z(crc, static_cast<const Bytef*>(data), size));
}

std::string EncodeHeader(const FileHeader& header) {
  ByteWriter body;
  body.Put<uint8_t>(static_cast<uint8_t>(header.cut.kind));
  for (int i = 0; i < 3; ++i) body.Put<uint8_t>(0);
  body.Put<uint64_t>(header.cut.checkpoint_id);
  body.Put<uint64_t>(header.cut.base_id);
  body.Put<uint64_t>(header.cut.cluster_id);
  body.Put<uint32_t>(header.cut.server_rank);
  body.Put<uint32_t>(static_cast<uint32_t>(header.tables.size()));
  for (const TableInfo& t : header.tables) PutTable(body, t);
  ByteWriter w;
  w.bytes().append(kFileMagic, sizeof(kFileMagic));
  w.Put<uint32_t>(header.version);
  w.Put<uint32_t>(static_cast<uint32_t>(body.bytes().size()));
  w.bytes() += body.bytes();
  w.Put<uint32_t>(Crc32(w.bytes().data(), w.bytes().size()));
  return std::move(w.bytes());
}

StatusOr<size_t> HeaderBytes(const char* fixed, uint64_t file_bytes, const std::string& what) {
  if (std::memcmp(fixed, kFileMagic, sizeof(kFileMagic)) != 0) {
    return DataLoss(what + ": not an embedps checkpoint (bad magic)");
  }
  ByteReader r(fixed + 8, 8);
  uint32_t version = 0, body = 0;
  r.Get(&version);
  r.Get(&body);
  if (version != kFormatVersion) {
    return DataLoss(what + ": format version " + std::to_string(version) + ", this build reads " +
                    std::to_string(kFormatVersion));
  }
  const uint64_t total = kHeaderFixedBytes + uint64_t{body} + kHeaderCrcBytes;
  if (body > kMaxHeaderBody || total + kFooterBytes > file_bytes) {
    return DataLoss(what + ": truncated: header of " + std::to_string(total) + " bytes in a file of " +
                    std::to_string(file_bytes));
  }
  return static_cast<size_t>(total);
}

StatusOr<FileHeader> DecodeHeader(const char* data, size_t size, const std::string& what) {
  uint32_t stored = 0;
  std::memcpy(&stored, data + size - 4, 4);
  if (Crc32(data, size - 4) != stored) return DataLoss(what + ": bad checksum in the header");
  ByteReader r(data + kHeaderFixedBytes, size - kHeaderFixedBytes - kHeaderCrcBytes);
  FileHeader h;
  uint8_t kind = 0, pad = 0;
  r.Get(&kind);
  for (int i = 0; i < 3; ++i) r.Get(&pad);
  h.cut.kind = static_cast<Kind>(kind);
  r.Get(&h.cut.checkpoint_id);
  r.Get(&h.cut.base_id);
  r.Get(&h.cut.cluster_id);
  r.Get(&h.cut.server_rank);
  uint32_t tables = 0;
  r.Get(&tables);
  if (!r.ok() || kind > static_cast<uint8_t>(Kind::kDelta) || tables > kMaxTables) {
    return DataLoss(what + ": malformed header");
  }
  for (uint32_t i = 0; i < tables; ++i) {
    TableInfo t;
    if (!GetTable(r, &t)) return DataLoss(what + ": malformed header (table " + std::to_string(i) + ")");
    h.tables.push_back(std::move(t));
  }
  if (r.left() != 0) return DataLoss(what + ": malformed header (trailing bytes)");
  return h;
}

std::string EncodeBlockHeader(const BlockHeader& b) {
  ByteWriter w;
  w.Put<uint32_t>(kBlockMagic);
  w.Put<uint8_t>(static_cast<uint8_t>(b.type));
  for (int i = 0; i < 3; ++i) w.Put<uint8_t>(0);
  w.Put<uint32_t>(b.table);
  w.Put<uint32_t>(b.count);
  w.Put<uint64_t>(b.payload_bytes);
  w.Put<uint32_t>(b.payload_crc);
  w.Put<uint32_t>(Crc32(w.bytes().data(), w.bytes().size()));
  return std::move(w.bytes());
}

StatusOr<BlockHeader> DecodeBlockHeader(const char* data, const std::string& what, uint64_t index) {
  const std::string where = what + ": block " + std::to_string(index);
  ByteReader r(data, kBlockHeaderBytes);
  uint32_t magic = 0, crc = 0;
  uint8_t type = 0, pad = 0;
  BlockHeader b;
  r.Get(&magic);
  r.Get(&type);
  for (int i = 0; i < 3; ++i) r.Get(&pad);
  r.Get(&b.table);
  r.Get(&b.count);
  r.Get(&b.payload_bytes);
  r.Get(&b.payload_crc);
  r.Get(&crc);
  if (magic != kBlockMagic) return DataLoss(where + ": bad block magic");
  if (Crc32(data, kBlockHeaderBytes - 4) != crc) {
    return DataLoss(what + ": bad checksum in block " + std::to_string(index) + " (its header)");
  }
  if (type != static_cast<uint8_t>(BlockType::kRows) && type != static_cast<uint8_t>(BlockType::kTombstones)) {
    return DataLoss(where + ": unknown block type " + std::to_string(type));
  }
  b.type = static_cast<BlockType>(type);
  return b;
}

std::string EncodeFooter(const Footer& f) {
  ByteWriter w;
  w.bytes().append(kEndMagic, sizeof(kEndMagic));
  w.Put<uint64_t>(f.blocks);
  w.Put<uint64_t>(f.rows);
  w.Put<uint64_t>(f.tombstones);
  w.Put<uint32_t>(Crc32(w.bytes().data(), w.bytes().size()));
  w.Put<uint32_t>(0);
  return std::move(w.bytes());
}

StatusOr<Footer> DecodeFooter(const char* data, const std::string& what) {
  if (std::memcmp(data, kEndMagic, sizeof(kEndMagic)) != 0) {
    return DataLoss(what + ": truncated: no footer at the end of the file");
  }
  ByteReader r(data + 8, kFooterBytes - 8);
  Footer f;
  uint32_t crc = 0, zero = 0;
  r.Get(&f.blocks);
  r.Get(&f.rows);
  r.Get(&f.tombstones);
  r.Get(&crc);
  r.Get(&zero);
  if (Crc32(data, 32) != crc || zero != 0) return DataLoss(what + ": bad checksum in the footer");
  return f;
}

}  // namespace embedps::ps::checkpoint
