#include "meta/cluster_command.h"

#include <algorithm>
#include <type_traits>

namespace sb::meta {

const char* MemberRoleName(MemberRole role) {
  switch (role) {
    case MemberRole::kVoter:
      return "VOTER";
    case MemberRole::kLearner:
      return "LEARNER";
  }
  return "?";
}

const char* MemberStateName(MemberState state) {
  switch (state) {
    case MemberState::kJoining:
      return "JOINING";
    case MemberState::kActive:
      return "ACTIVE";
    case MemberState::kLeaving:
      return "LEAVING";
    case MemberState::kRemoved:
      return "REMOVED";
  }
  return "?";
}

// The u8 on the wire is the variant index + 1; keep the two in step.
static_assert(std::is_same_v<std::variant_alternative_t<0, Command>, InitCluster>);
static_assert(std::is_same_v<std::variant_alternative_t<5, Command>, CatalogDdl>);
static_assert(std::is_same_v<std::variant_alternative_t<6, Command>, PublishEpoch>);
static_assert(std::variant_size_v<Command> == static_cast<size_t>(CommandType::kPublishEpoch));

CommandType TypeOf(const Command& command) {
  return static_cast<CommandType>(command.index() + 1);
}

const char* CommandTypeName(CommandType type) {
  switch (type) {
    case CommandType::kInitCluster:
      return "InitCluster";
    case CommandType::kAddLearner:
      return "AddLearner";
    case CommandType::kPromoteVoter:
      return "PromoteVoter";
    case CommandType::kRemoveMember:
      return "RemoveMember";
    case CommandType::kSetNodeState:
      return "SetNodeState";
    case CommandType::kCatalogDdl:
      return "CatalogDdl";
    case CommandType::kPublishEpoch:
      return "PublishEpoch";
  }
  return "?";
}

bool CommandNeedsEpoch(const Command& command) {
  return !std::holds_alternative<CatalogDdl>(command);
}

bool IsStrictUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t b0 = static_cast<uint8_t>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    uint32_t min_cp;
    if ((b0 & 0xE0) == 0xC0) {
      len = 2, cp = b0 & 0x1F, min_cp = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, cp = b0 & 0x0F, min_cp = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, cp = b0 & 0x07, min_cp = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const uint8_t b = static_cast<uint8_t>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

namespace wire {

void PutU8(std::string* out, uint8_t v) {
  out->push_back(static_cast<char>(v));
}

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

void PutUuid(std::string* out, const Uuid& v) {
  PutArray(out, v.bytes());
}

void PutString(std::string* out, std::string_view v) {
  PutU32(out, static_cast<uint32_t>(v.size()));
  out->append(v);
}

void PutMemberInfo(std::string* out, const MemberInfo& m) {
  PutUuid(out, m.node_uuid);
  PutU64(out, m.raft_id);
  PutString(out, m.rpc_address);
  PutString(out, m.sql_address);
  PutString(out, m.http_address);
  PutArray(out, m.signing_key);
}

std::string_view Reader::Raw(size_t n) {
  if (!ok_ || n > in_.size() - pos_) {
    ok_ = false;
    return {};
  }
  std::string_view out = in_.substr(pos_, n);
  pos_ += n;
  return out;
}

uint8_t Reader::U8() {
  std::string_view b = Raw(1);
  return b.empty() ? 0 : static_cast<uint8_t>(b[0]);
}

uint32_t Reader::U32() {
  uint32_t v = 0;
  for (char c : Raw(4)) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

uint64_t Reader::U64() {
  uint64_t v = 0;
  for (char c : Raw(8)) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

Uuid Reader::ReadUuid() {
  return Uuid(Array<16>());
}

std::string_view Reader::String(size_t max_len) {
  const uint32_t len = U32();
  if (len > max_len) {
    ok_ = false;
    return {};
  }
  return Raw(len);
}

MemberInfo Reader::ReadMemberInfo() {
  MemberInfo m;
  m.node_uuid = ReadUuid();
  m.raft_id = U64();
  m.rpc_address = std::string(String(kMaxAddressBytes));
  m.sql_address = std::string(String(kMaxAddressBytes));
  m.http_address = std::string(String(kMaxAddressBytes));
  m.signing_key = Array<kEd25519PublicKeySize>();
  return m;
}

}  // namespace wire

namespace {

using wire::PutArray;
using wire::PutMemberInfo;
using wire::PutString;
using wire::PutU32;
using wire::PutU64;
using wire::PutU8;
using wire::PutUuid;

Status Malformed(std::string what) {
  return Status(cluster_sqlstate::kEntryMalformed, "ENTRY_MALFORMED: " + what);
}

void PutPolicies(std::string* out, const PolicyHashes& p) {
  PutArray(out, p.ca_policy);
  PutArray(out, p.security_bundle);
  PutArray(out, p.replication_policy);
  PutArray(out, p.backup_policy);
  PutArray(out, p.scheduler_policy);
  PutArray(out, p.capability_matrix);
}

PolicyHashes ReadPolicies(wire::Reader* r) {
  PolicyHashes p;
  p.ca_policy = r->Array<32>();
  p.security_bundle = r->Array<32>();
  p.replication_policy = r->Array<32>();
  p.backup_policy = r->Array<32>();
  p.scheduler_policy = r->Array<32>();
  p.capability_matrix = r->Array<32>();
  return p;
}

struct BodyEncoder {
  std::string* out;
  void operator()(const InitCluster& c) const {
    PutUuid(out, c.cluster_uuid);
    PutU32(out, c.shard_count);
    PutU32(out, c.vnode_count);
    std::vector<const MemberInfo*> sorted;
    for (const MemberInfo& m : c.members) sorted.push_back(&m);
    std::sort(sorted.begin(), sorted.end(),
              [](const MemberInfo* a, const MemberInfo* b) { return a->node_uuid < b->node_uuid; });
    PutU32(out, static_cast<uint32_t>(sorted.size()));
    for (const MemberInfo* m : sorted) PutMemberInfo(out, *m);
  }
  void operator()(const AddLearner& c) const { PutMemberInfo(out, c.member); }
  void operator()(const PromoteVoter& c) const { PutUuid(out, c.node_uuid); }
  void operator()(const RemoveMember& c) const { PutUuid(out, c.node_uuid); }
  void operator()(const SetNodeState& c) const {
    PutUuid(out, c.node_uuid);
    PutU8(out, static_cast<uint8_t>(c.state));
  }
  void operator()(const CatalogDdl& c) const {
    PutU64(out, c.expected_schema_version);
    PutString(out, c.statement);
    PutString(out, c.catalog_json);
  }
  void operator()(const PublishEpoch& c) const {
    PutPolicies(out, c.policies);
    PutU32(out, c.min_node_version);
  }
};

Result<Command> DecodeBody(CommandType type, std::string_view body) {
  wire::Reader r(body);
  Command command;
  switch (type) {
    case CommandType::kInitCluster: {
      InitCluster c;
      c.cluster_uuid = r.ReadUuid();
      c.shard_count = r.U32();
      c.vnode_count = r.U32();
      const uint32_t count = r.U32();
      if (count > kMaxInitialMembers) return Malformed("too many initial members");
      for (uint32_t i = 0; i < count && r.ok(); ++i) {
        MemberInfo m = r.ReadMemberInfo();
        if (r.ok() && !c.members.empty() && !(c.members.back().node_uuid < m.node_uuid)) {
          return Malformed("initial members not in strictly ascending UUID order");
        }
        c.members.push_back(std::move(m));
      }
      command = std::move(c);
      break;
    }
    case CommandType::kAddLearner:
      command = AddLearner{r.ReadMemberInfo()};
      break;
    case CommandType::kPromoteVoter:
      command = PromoteVoter{r.ReadUuid()};
      break;
    case CommandType::kRemoveMember:
      command = RemoveMember{r.ReadUuid()};
      break;
    case CommandType::kSetNodeState: {
      SetNodeState c;
      c.node_uuid = r.ReadUuid();
      const uint8_t state = r.U8();
      if (r.ok() && state > static_cast<uint8_t>(MemberState::kRemoved)) {
        return Malformed("unknown member state " + std::to_string(state));
      }
      c.state = static_cast<MemberState>(state);
      command = c;
      break;
    }
    case CommandType::kCatalogDdl: {
      CatalogDdl c;
      c.expected_schema_version = r.U64();
      c.statement = std::string(r.String(kMaxDdlStatementBytes));
      c.catalog_json = std::string(r.String(kMaxCatalogJsonBytes));
      if (r.ok() && !IsStrictUtf8(c.statement)) return Malformed("statement is not valid UTF-8");
      command = std::move(c);
      break;
    }
    case CommandType::kPublishEpoch: {
      PublishEpoch c;
      c.policies = ReadPolicies(&r);
      c.min_node_version = r.U32();
      command = c;
      break;
    }
  }
  if (!r.ok()) return Malformed("truncated or oversized command body");
  if (!r.done()) return Malformed("trailing bytes after the command body");
  return command;
}

}  // namespace

std::string EncodeClusterEntry(const ClusterEntry& entry) {
  std::string body;
  std::visit(BodyEncoder{&body}, entry.command);
  std::string out(kClusterEntryTag);
  PutU8(&out, static_cast<uint8_t>(TypeOf(entry.command)));
  PutString(&out, body);
  PutString(&out, entry.epoch_entry);
  return out;
}

Result<ClusterEntry> DecodeClusterEntry(std::string_view bytes) {
  if (bytes.size() > kMaxClusterEntryBytes) return Malformed("entry over the size cap");
  wire::Reader r(bytes);
  if (r.Raw(kClusterEntryTag.size()) != kClusterEntryTag) {
    return Malformed("wrong tag or layout version");
  }
  const uint8_t type = r.U8();
  if (!r.ok() || type < static_cast<uint8_t>(CommandType::kInitCluster) ||
      type > static_cast<uint8_t>(CommandType::kPublishEpoch)) {
    return Malformed("unknown command type");
  }
  std::string_view body = r.String(kMaxClusterEntryBytes);
  std::string_view epoch = r.String(kMaxClusterEntryBytes);
  if (!r.ok()) return Malformed("truncated entry");
  if (!r.done()) return Malformed("trailing bytes after the epoch");
  Result<Command> command = DecodeBody(static_cast<CommandType>(type), body);
  if (!command.ok()) return command.status();
  ClusterEntry entry{std::move(command).value(), std::string(epoch)};
  if (CommandNeedsEpoch(entry.command) == entry.epoch_entry.empty()) {
    return Malformed(std::string(CommandTypeName(static_cast<CommandType>(type))) +
                     (entry.epoch_entry.empty() ? " needs its epoch" : " carries no epoch"));
  }
  return entry;
}

}  // namespace sb::meta
