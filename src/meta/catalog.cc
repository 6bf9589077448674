#include "meta/catalog.h"

namespace sb::meta {

int TableDef::FindColumn(const std::string& n) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == n) return static_cast<int>(i);
  }
  return -1;
}

int TableDef::visible_column_count() const {
  int n = 0;
  for (const auto& c : columns) n += c.hidden ? 0 : 1;
  return n;
}

bool TableDef::IsShardKeyColumn(int index) const {
  for (int k : shard_key) {
    if (k == index) return true;
  }
  return false;
}

const TableDef* Catalog::FindTable(const std::string& name) const {
  auto it = tables_.find(name);
  return it == tables_.end() ? nullptr : &it->second;
}

std::string Catalog::FindIndexTable(const std::string& index_name) const {
  for (const auto& [name, t] : tables_) {
    for (const auto& idx : t.indexes) {
      if (idx.name == index_name) return name;
    }
  }
  return {};
}

nlohmann::json TableToJson(const TableDef& t) {
  nlohmann::json cols = nlohmann::json::array();
  for (const auto& c : t.columns) {
    nlohmann::json jc = {{"name", c.name},
                         {"type", static_cast<int>(c.type.id)},
                         {"precision", c.type.precision},
                         {"scale", c.type.scale},
                         {"not_null", c.not_null},
                         {"hidden", c.hidden}};
    if (c.default_text) jc["default"] = *c.default_text;
    if (c.default_now) jc["default_now"] = true;
    cols.push_back(jc);
  }
  nlohmann::json idx = nlohmann::json::array();
  for (const auto& i : t.indexes) {
    idx.push_back({{"name", i.name}, {"columns", i.columns}, {"unique", i.unique}});
  }
  return {{"name", t.name},
          {"columns", cols},
          {"shard_key", t.shard_key},
          {"primary_key", t.primary_key},
          {"replicated", t.replicated},
          {"indexes", idx}};
}

Result<TableDef> TableFromJson(const nlohmann::json& j) {
  try {
    TableDef t;
    t.name = j.at("name").get<std::string>();
    for (const auto& jc : j.at("columns")) {
      ColumnDef c;
      c.name = jc.at("name").get<std::string>();
      c.type.id = static_cast<TypeId>(jc.at("type").get<int>());
      c.type.precision = jc.at("precision").get<int>();
      c.type.scale = jc.at("scale").get<int>();
      c.not_null = jc.at("not_null").get<bool>();
      c.hidden = jc.at("hidden").get<bool>();
      if (jc.contains("default")) c.default_text = jc["default"].get<std::string>();
      c.default_now = jc.value("default_now", false);
      t.columns.push_back(std::move(c));
    }
    t.shard_key = j.at("shard_key").get<std::vector<int>>();
    t.primary_key = j.at("primary_key").get<std::vector<int>>();
    t.replicated = j.at("replicated").get<bool>();
    for (const auto& ji : j.at("indexes")) {
      t.indexes.push_back({ji.at("name").get<std::string>(),
                           ji.at("columns").get<std::vector<std::string>>(),
                           ji.at("unique").get<bool>()});
    }
    return t;
  } catch (const std::exception& e) {
    return Status(sqlstate::kDataCorrupted, std::string("catalog entry is malformed: ") + e.what());
  }
}

}  // namespace sb::meta
