// The cluster catalog: tables, their columns, shard keys and indexes. Plain
// data with a canonical JSON form; on a single node it is persisted inside
// every shard database (in the same transaction as the DDL it describes), and
// later it becomes part of the Raft-replicated cluster state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/sql_type.h"
#include "common/status.h"

namespace sb::meta {

// Hidden columns the cluster adds to user tables.
inline constexpr const char* kRowidColumn = "_sb_rowid";  // shard key when a table has no PK
inline constexpr const char* kVnodeColumn = "_sb_vnode";  // vnode of the row (C-27)

struct ColumnDef {
  std::string name;
  SqlType type;
  bool not_null = false;
  bool hidden = false;
  // PostgreSQL text form of a constant DEFAULT, applied by the coordinator.
  std::optional<std::string> default_text;
  bool default_now = false;  // DEFAULT now() / CURRENT_TIMESTAMP
};

struct IndexDef {
  std::string name;
  std::vector<std::string> columns;
  bool unique = false;
};

struct TableDef {
  std::string name;
  std::vector<ColumnDef> columns;  // user columns first, hidden ones last
  std::vector<int> shard_key;      // column indices, in key order (empty if replicated)
  std::vector<int> primary_key;    // column indices
  bool replicated = false;
  std::vector<IndexDef> indexes;
  // A read-only sys.* view (meta/system_views.h): never in a Catalog, never
  // serialised; its rows come from the node, not from the shards.
  bool system_view = false;

  // Index of the column, or -1.
  int FindColumn(const std::string& name) const;
  int visible_column_count() const;
  bool IsShardKeyColumn(int index) const;
};

class Catalog {
 public:
  const TableDef* FindTable(const std::string& name) const;
  // Name of the table owning the index, or empty.
  std::string FindIndexTable(const std::string& index_name) const;
  const std::map<std::string, TableDef>& tables() const { return tables_; }

  void PutTable(TableDef table) { tables_[table.name] = std::move(table); }
  void DropTable(const std::string& name) { tables_.erase(name); }

  uint64_t schema_version() const { return schema_version_; }
  void set_schema_version(uint64_t v) { schema_version_ = v; }

 private:
  std::map<std::string, TableDef> tables_;
  uint64_t schema_version_ = 0;
};

nlohmann::json TableToJson(const TableDef& table);
Result<TableDef> TableFromJson(const nlohmann::json& j);

}  // namespace sb::meta
