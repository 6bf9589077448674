// DDL planning: CREATE/DROP TABLE, CREATE/DROP INDEX, ALTER TABLE ADD COLUMN.
#include <fmt/format.h>

#include <algorithm>

#include "common/value_codec.h"
#include "sql/planner.h"

namespace sb::sql {
namespace {

int Loc(const Json& body) {
  return body.is_object() ? body.value("location", -1) + 1 : 0;
}

Status NotSupported(const std::string& what, int position = 0, std::string hint = {}) {
  return Status(sqlstate::kFeatureNotSupported, what + " is not supported", std::move(hint),
                position);
}

Result<SqlType> ColumnType(const Json& type_name, std::string_view text) {
  if (type_name.contains("arrayBounds")) return NotSupported("array types", Loc(type_name));
  std::vector<int> typmods;
  for (const auto& m : Get(type_name, "typmods")) {
    if (!m.contains("A_Const")) return NotSupported("this type modifier", Loc(type_name));
    typmods.push_back(static_cast<int>(ConstIntValue(Get(m, "A_Const"), text)));
  }
  auto t = ResolveTypeName(NameList(Get(type_name, "names")), typmods);
  if (!t.ok()) return Status(t.status()).WithPosition(Loc(type_name));
  return *t;
}

// DEFAULT must be a constant (kept as its PostgreSQL text form) or now().
Status ApplyDefault(const Json& raw, meta::ColumnDef* col, std::string_view text) {
  if (raw.contains("FuncCall")) {
    auto names = NameList(Get(Get(raw, "FuncCall"), "funcname"));
    if (!names.empty() && (names.back() == "now" || names.back() == "transaction_timestamp")) {
      col->default_now = true;
      return Status::Ok();
    }
  }
  if (raw.contains("SQLValueFunction")) {
    std::string op = Get(raw, "SQLValueFunction").value("op", "");
    if (op == "SVFOP_CURRENT_TIMESTAMP" || op == "SVFOP_LOCALTIMESTAMP") {
      col->default_now = true;
      return Status::Ok();
    }
  }
  ParamTypes params;
  Translator tr({}, text, &params);
  auto t = tr.Expr(raw);
  if (!t.ok()) return t.status();
  if (!t->is_constant) {
    return NotSupported("a DEFAULT expression other than a constant or now()",
                        Loc(raw.begin().value()));
  }
  if (IsNull(t->constant)) return Status::Ok();
  auto c = tr.Coerce(std::move(*t), col->type);
  if (!c.ok()) return c.status();
  col->default_text = FormatTextValue(col->type, c->constant);
  return Status::Ok();
}

Status CheckKeyType(const meta::ColumnDef& c) {
  if (c.type.id == TypeId::kFloat4 || c.type.id == TypeId::kFloat8) {
    return Status(
        sqlstate::kFeatureNotSupported,
        fmt::format("column \"{}\" of type {} cannot be a shard key", c.name, c.type.Name()),
        "Floating-point values have no canonical encoding; use an integer, text, uuid, "
        "date, timestamp or numeric column.");
  }
  return Status::Ok();
}

std::string IndexName(const std::string& table, const std::vector<std::string>& cols, bool unique) {
  std::string n = table;
  for (const auto& c : cols) n += "_" + c;
  return n + (unique ? "_key" : "_idx");
}

}  // namespace

std::string SqliteColumnDef(const meta::ColumnDef& c) {
  std::string d = QuoteIdent(c.name) + " " + c.type.StorageClass();
  if (c.not_null) d += " NOT NULL";
  const std::string q = QuoteIdent(c.name);
  // Range and length checks PostgreSQL applies on assignment; the names let
  // storage report them with the right SQLSTATE.
  auto check = [&](const char* code, const std::string& cond) {
    d += " CONSTRAINT " + QuoteIdent(std::string("sb_") + code + "_" + c.name) + " CHECK (" + cond +
         ")";
  };
  switch (c.type.id) {
    case TypeId::kInt2:
      check("22003", q + " BETWEEN -32768 AND 32767");
      break;
    case TypeId::kInt4:
      check("22003", q + " BETWEEN -2147483648 AND 2147483647");
      break;
    case TypeId::kVarchar:
      if (c.type.precision > 0)
        check("22001", "length(" + q + ") <= " + std::to_string(c.type.precision));
      break;
    case TypeId::kNumeric:
      if (NumericIsScaled(c.type) && c.type.precision < kMaxScaledNumericPrecision) {
        std::string lim = "1" + std::string(static_cast<size_t>(c.type.precision), '0');
        check("22003", q + " > -" + lim + " AND " + q + " < " + lim);
      }
      break;
    case TypeId::kBool:
      check("22003", q + " IN (0, 1)");
      break;
    default:
      break;
  }
  return d;
}

std::string SqliteCreateTable(const meta::TableDef& t) {
  std::string sql = "CREATE TABLE " + QuoteIdent(t.name) + " (";
  bool rowid_pk =
      t.primary_key.size() == 1 && t.columns[t.primary_key[0]].name == meta::kRowidColumn;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    sql += (i ? ", " : "") + SqliteColumnDef(t.columns[i]);
    if (rowid_pk && static_cast<int>(i) == t.primary_key[0]) sql += " PRIMARY KEY";
  }
  if (!t.primary_key.empty() && !rowid_pk) {
    sql += ", PRIMARY KEY (";
    for (size_t i = 0; i < t.primary_key.size(); ++i) {
      sql += (i ? ", " : "") + QuoteIdent(t.columns[t.primary_key[i]].name);
    }
    sql += ")";
  }
  return sql + ") STRICT";
}

Result<exec::DdlPlan> Planner::PlanCreateTable(const ParsedStatement& stmt, std::string_view text) {
  const Json& b = stmt.body();
  const Json& rel = Get(b, "relation");
  std::string schema = rel.value("schemaname", "");
  if (!schema.empty() && schema != "public") {
    return Status(sqlstate::kUndefinedObject, fmt::format("schema \"{}\" does not exist", schema),
                  "ScratchBird has one schema, \"public\".", Loc(rel));
  }
  if (rel.value("relpersistence", "p") == "t") return NotSupported("temporary tables", Loc(rel));
  if (b.contains("inhRelations")) return NotSupported("table inheritance", Loc(rel));
  if (b.contains("partspec")) {
    return NotSupported("PARTITION BY", Loc(rel),
                        "Use SHARD BY HASH (columns) to distribute a table.");
  }
  if (b.contains("ofTypename")) return NotSupported("typed tables", Loc(rel));
  exec::DdlPlan plan;
  plan.kind = exec::DdlPlan::Kind::kCreateTable;
  plan.command_tag = "CREATE TABLE";
  meta::TableDef t;
  t.name = rel.value("relname", "");
  plan.table_name = t.name;
  if (t.name.rfind("_sb_", 0) == 0 || t.name.rfind("sqlite_", 0) == 0) {
    return Status(sqlstate::kInvalidParameterValue,
                  fmt::format("table name \"{}\" is reserved", t.name),
                  "Names starting with _sb_ or sqlite_ are used internally.", Loc(rel));
  }
  if (catalog_->FindTable(t.name) != nullptr) {
    if (b.value("if_not_exists", false)) {
      plan.if_exists_noop = true;
      plan.notice = fmt::format("relation \"{}\" already exists, skipping", t.name);
      return plan;
    }
    return Status(sqlstate::kDuplicateTable, fmt::format("relation \"{}\" already exists", t.name),
                  {}, Loc(rel));
  }
  std::vector<std::vector<std::string>> uniques;
  std::vector<std::string> pk_names;
  for (const auto& elt : Get(b, "tableElts")) {
    if (elt.contains("ColumnDef")) {
      const Json& cd = Get(elt, "ColumnDef");
      meta::ColumnDef c;
      c.name = cd.value("colname", "");
      if (c.name.rfind("_sb_", 0) == 0) {
        return Status(sqlstate::kInvalidParameterValue,
                      fmt::format("column name \"{}\" is reserved", c.name), {}, Loc(cd));
      }
      if (t.FindColumn(c.name) >= 0) {
        return Status(sqlstate::kDuplicateColumn,
                      fmt::format("column \"{}\" specified more than once", c.name), {}, Loc(cd));
      }
      SB_ASSIGN_OR_RETURN(c.type, ColumnType(Get(cd, "typeName"), text));
      if (c.type.id == TypeId::kNumeric && c.type.precision < 0) {
        // Unconstrained numeric is stored exactly as text, but SQLite cannot
        // compare or add such values the way PostgreSQL does.
        return NotSupported(fmt::format("column \"{}\" of type numeric without precision", c.name),
                            Loc(Get(cd, "typeName")), "Declare numeric(p,s) with p <= 18.");
      }
      if (c.type.id == TypeId::kNumeric && c.type.precision > kMaxScaledNumericPrecision) {
        return NotSupported(
            fmt::format("numeric precision {} (column \"{}\")", c.type.precision, c.name),
            Loc(Get(cd, "typeName")), "Declare numeric(p,s) with p <= 18.");
      }
      for (const auto& con : Get(cd, "constraints")) {
        const Json& k = Get(con, "Constraint");
        std::string type = k.value("contype", "");
        if (type == "CONSTR_NOTNULL") {
          c.not_null = true;
        } else if (type == "CONSTR_NULL") {
          c.not_null = false;
        } else if (type == "CONSTR_PRIMARY") {
          if (!pk_names.empty()) {
            return Status(
                sqlstate::kInvalidTableDefinition,
                fmt::format("multiple primary keys for table \"{}\" are not allowed", t.name), {},
                Loc(k));
          }
          pk_names = {c.name};
        } else if (type == "CONSTR_UNIQUE") {
          uniques.push_back({c.name});
        } else if (type == "CONSTR_DEFAULT") {
          SB_RETURN_IF_ERROR(ApplyDefault(Get(k, "raw_expr"), &c, text));
        } else if (type == "CONSTR_FOREIGN") {
          return NotSupported("FOREIGN KEY constraints", Loc(k),
                              "A shard cannot check rows held by other shards.");
        } else if (type == "CONSTR_CHECK") {
          return NotSupported("CHECK constraints", Loc(k));
        } else {
          return NotSupported("column constraint " + type, Loc(k));
        }
      }
      t.columns.push_back(std::move(c));
    } else if (elt.contains("Constraint")) {
      const Json& k = Get(elt, "Constraint");
      std::string type = k.value("contype", "");
      auto keys = NameList(Get(k, "keys"));
      if (type == "CONSTR_PRIMARY") {
        if (!pk_names.empty()) {
          return Status(
              sqlstate::kInvalidTableDefinition,
              fmt::format("multiple primary keys for table \"{}\" are not allowed", t.name), {},
              Loc(k));
        }
        pk_names = keys;
      } else if (type == "CONSTR_UNIQUE") {
        uniques.push_back(keys);
      } else if (type == "CONSTR_FOREIGN") {
        return NotSupported("FOREIGN KEY constraints", Loc(k),
                            "A shard cannot check rows held by other shards.");
      } else {
        return NotSupported("table constraint " + type, Loc(k));
      }
    } else {
      return NotSupported("this table element", 0);
    }
  }
  if (t.columns.empty()) return NotSupported("a table without columns", Loc(rel));
  for (const auto& n : pk_names) {
    int idx = t.FindColumn(n);
    if (idx < 0) {
      return Status(sqlstate::kUndefinedColumn,
                    fmt::format("column \"{}\" named in key does not exist", n));
    }
    t.primary_key.push_back(idx);
    t.columns[idx].not_null = true;
  }

  // Distribution: SHARD BY HASH / WITH (shard_key=...) / REPLICATED / PK / hidden rowid.
  std::vector<std::string> key_names = stmt.distribution.shard_by_hash;
  for (const auto& o : Get(b, "options")) {
    const Json& d = Get(o, "DefElem");
    std::string name = d.value("defname", "");
    if (name == "shard_key" && d.contains("arg") && Get(d, "arg").contains("String")) {
      if (!key_names.empty()) {
        return Status(sqlstate::kSyntaxError,
                      "shard key given twice (SHARD BY and WITH (shard_key))");
      }
      std::string v = Get(Get(d, "arg"), "String").value("sval", "");
      size_t start = 0;
      while (start <= v.size()) {
        size_t comma = v.find(',', start);
        std::string part =
            v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        part.erase(0, part.find_first_not_of(' '));
        part.erase(part.find_last_not_of(' ') + 1);
        if (!part.empty()) key_names.push_back(part);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      return Status(sqlstate::kInvalidParameterValue,
                    fmt::format("unrecognized parameter \"{}\"", name),
                    "ScratchBird accepts WITH (shard_key = 'col, ...').", Loc(d));
    }
  }
  if (stmt.distribution.shard_by_range) {
    return NotSupported("SHARD BY RANGE", 0, "Only SHARD BY HASH is available (R05-01).");
  }
  t.replicated = stmt.distribution.replicated;
  if (t.replicated && !key_names.empty()) {
    return Status(sqlstate::kSyntaxError, "a REPLICATED table cannot have a shard key");
  }
  if (t.replicated && t.primary_key.empty()) {
    // The change log (SQLite session extension) only records tables with a
    // primary key, so a reference table without one gets a hidden rowid.
    meta::ColumnDef rowid;
    rowid.name = meta::kRowidColumn;
    rowid.type = SqlType::Of(TypeId::kInt8);
    rowid.not_null = true;
    rowid.hidden = true;
    t.columns.push_back(rowid);
    t.primary_key = {static_cast<int>(t.columns.size()) - 1};
  }
  if (!t.replicated) {
    if (key_names.empty()) key_names = pk_names;
    if (key_names.empty()) {
      meta::ColumnDef rowid;
      rowid.name = meta::kRowidColumn;
      rowid.type = SqlType::Of(TypeId::kInt8);
      rowid.not_null = true;
      rowid.hidden = true;
      t.columns.push_back(rowid);
      t.shard_key = {static_cast<int>(t.columns.size()) - 1};
      t.primary_key = t.shard_key;
    } else {
      for (const auto& n : key_names) {
        int idx = t.FindColumn(n);
        if (idx < 0) {
          return Status(sqlstate::kUndefinedColumn,
                        fmt::format("shard key column \"{}\" does not exist", n));
        }
        if (std::find(t.shard_key.begin(), t.shard_key.end(), idx) != t.shard_key.end()) {
          return Status(sqlstate::kDuplicateColumn,
                        fmt::format("shard key column \"{}\" listed twice", n));
        }
        SB_RETURN_IF_ERROR(CheckKeyType(t.columns[idx]));
        t.shard_key.push_back(idx);
      }
    }
    // Uniqueness can only be checked inside one shard, so every unique key
    // must contain the whole shard key.
    auto covers_key = [&](const std::vector<std::string>& cols) {
      return std::all_of(t.shard_key.begin(), t.shard_key.end(), [&](int k) {
        return std::find(cols.begin(), cols.end(), t.columns[k].name) != cols.end();
      });
    };
    std::vector<std::vector<std::string>> keys = uniques;
    if (!pk_names.empty()) keys.push_back(pk_names);
    for (const auto& u : keys) {
      if (!covers_key(u)) {
        return Status(
            sqlstate::kFeatureNotSupported,
            fmt::format("unique constraint on ({}) of sharded table \"{}\" does not include the "
                        "shard key",
                        fmt::join(u, ", "), t.name),
            "Add the shard key columns to the constraint, or make the table REPLICATED.");
      }
    }
    meta::ColumnDef vnode;
    vnode.name = meta::kVnodeColumn;
    vnode.type = SqlType::Of(TypeId::kInt4);
    vnode.not_null = true;
    vnode.hidden = true;
    t.columns.push_back(vnode);
  }
  plan.shard_statements.push_back(SqliteCreateTable(t));
  for (size_t i = 0; i < uniques.size(); ++i) {
    for (const auto& n : uniques[i]) {
      if (t.FindColumn(n) < 0) {
        return Status(sqlstate::kUndefinedColumn,
                      fmt::format("column \"{}\" named in key does not exist", n));
      }
    }
    meta::IndexDef idx{IndexName(t.name, uniques[i], true), uniques[i], true};
    std::string sql =
        "CREATE UNIQUE INDEX " + QuoteIdent(idx.name) + " ON " + QuoteIdent(t.name) + " (";
    for (size_t j = 0; j < uniques[i].size(); ++j)
      sql += (j ? ", " : "") + QuoteIdent(uniques[i][j]);
    plan.shard_statements.push_back(sql + ")");
    t.indexes.push_back(std::move(idx));
  }
  plan.new_table = std::move(t);
  return plan;
}

Result<exec::DdlPlan> Planner::PlanDrop(const Json& d) {
  std::string type = d.value("removeType", "");
  bool missing_ok = d.value("missing_ok", false);
  exec::DdlPlan plan;
  if (Get(d, "objects").size() != 1)
    return NotSupported("dropping several objects in one statement");
  auto names = NameList(Get(Get(At(Get(d, "objects"), 0), "List"), "items"));
  if (names.empty()) return NotSupported("this DROP statement");
  if (names.size() == 2 && names[0] != "public") {
    return Status(sqlstate::kUndefinedObject,
                  fmt::format("schema \"{}\" does not exist", names[0]));
  }
  std::string name = names.back();
  if (type == "OBJECT_TABLE") {
    plan.kind = exec::DdlPlan::Kind::kDropTable;
    plan.command_tag = "DROP TABLE";
    plan.table_name = name;
    if (catalog_->FindTable(name) == nullptr) {
      if (missing_ok) {
        plan.if_exists_noop = true;
        plan.notice = fmt::format("table \"{}\" does not exist, skipping", name);
        return plan;
      }
      return Status(sqlstate::kUndefinedTable, fmt::format("table \"{}\" does not exist", name));
    }
    plan.shard_statements.push_back("DROP TABLE " + QuoteIdent(name));
    return plan;
  }
  if (type == "OBJECT_INDEX") {
    plan.kind = exec::DdlPlan::Kind::kDropIndex;
    plan.command_tag = "DROP INDEX";
    std::string table = catalog_->FindIndexTable(name);
    if (table.empty()) {
      if (missing_ok) {
        plan.if_exists_noop = true;
        plan.notice = fmt::format("index \"{}\" does not exist, skipping", name);
        return plan;
      }
      return Status(sqlstate::kUndefinedObject, fmt::format("index \"{}\" does not exist", name));
    }
    meta::TableDef t = *catalog_->FindTable(table);
    t.indexes.erase(std::remove_if(t.indexes.begin(), t.indexes.end(),
                                   [&](const meta::IndexDef& i) { return i.name == name; }),
                    t.indexes.end());
    plan.table_name = table;
    plan.new_table = std::move(t);
    plan.shard_statements.push_back("DROP INDEX " + QuoteIdent(name));
    return plan;
  }
  return NotSupported("DROP of this object type");
}

Result<exec::DdlPlan> Planner::PlanCreateIndex(const Json& ix) {
  SB_ASSIGN_OR_RETURN(const meta::TableDef* table, LookupTable(Get(ix, "relation")));
  if (ix.contains("whereClause")) return NotSupported("partial indexes");
  if (ix.value("concurrent", false)) return NotSupported("CREATE INDEX CONCURRENTLY");
  std::string method = ix.value("accessMethod", "btree");
  if (method != "btree") return NotSupported("index method " + method);
  exec::DdlPlan plan;
  plan.kind = exec::DdlPlan::Kind::kCreateIndex;
  plan.command_tag = "CREATE INDEX";
  plan.table_name = table->name;
  meta::IndexDef idx;
  idx.unique = ix.value("unique", false);
  std::string cols_sql;
  for (const auto& e : Get(ix, "indexParams")) {
    const Json& ie = Get(e, "IndexElem");
    if (!ie.contains("name")) return NotSupported("expression indexes");
    std::string col = ie.value("name", "");
    int c = table->FindColumn(col);
    if (c < 0 || table->columns[c].hidden) {
      return Status(sqlstate::kUndefinedColumn, fmt::format("column \"{}\" does not exist", col));
    }
    idx.columns.push_back(col);
    std::string order = ie.value("ordering", "SORTBY_DEFAULT") == "SORTBY_DESC" ? " DESC" : "";
    cols_sql += (cols_sql.empty() ? "" : ", ") + QuoteIdent(col) + order;
  }
  idx.name = ix.contains("idxname") ? Get(ix, "idxname").get<std::string>()
                                    : IndexName(table->name, idx.columns, idx.unique);
  if (!catalog_->FindIndexTable(idx.name).empty() || catalog_->FindTable(idx.name) != nullptr) {
    if (ix.value("if_not_exists", false)) {
      plan.if_exists_noop = true;
      plan.notice = fmt::format("relation \"{}\" already exists, skipping", idx.name);
      return plan;
    }
    return Status(sqlstate::kDuplicateTable,
                  fmt::format("relation \"{}\" already exists", idx.name));
  }
  if (idx.unique && !table->replicated) {
    for (int k : table->shard_key) {
      if (std::find(idx.columns.begin(), idx.columns.end(), table->columns[k].name) ==
          idx.columns.end()) {
        return Status(
            sqlstate::kFeatureNotSupported,
            fmt::format(
                "unique index on sharded table \"{}\" must include the shard key column \"{}\"",
                table->name, table->columns[k].name),
            "Uniqueness is checked within one shard.");
      }
    }
  }
  plan.shard_statements.push_back(std::string("CREATE ") + (idx.unique ? "UNIQUE " : "") +
                                  "INDEX " + QuoteIdent(idx.name) + " ON " +
                                  QuoteIdent(table->name) + " (" + cols_sql + ")");
  meta::TableDef t = *table;
  t.indexes.push_back(std::move(idx));
  plan.new_table = std::move(t);
  return plan;
}

Result<exec::DdlPlan> Planner::PlanAlterTable(const Json& alter, std::string_view text) {
  if (alter.value("objtype", "") != "OBJECT_TABLE") return NotSupported("this ALTER statement");
  SB_ASSIGN_OR_RETURN(const meta::TableDef* table, LookupTable(Get(alter, "relation")));
  if (Get(alter, "cmds").size() != 1)
    return NotSupported("several ALTER TABLE actions in one statement");
  const Json& cmd = At(Get(alter, "cmds"), 0)["AlterTableCmd"];
  if (cmd.value("subtype", "") != "AT_AddColumn") {
    return NotSupported("ALTER TABLE " + cmd.value("subtype", "?"), 0,
                        "This release supports ALTER TABLE ... ADD COLUMN.");
  }
  const Json& cd = Get(Get(cmd, "def"), "ColumnDef");
  meta::ColumnDef c;
  c.name = cd.value("colname", "");
  exec::DdlPlan plan;
  plan.kind = exec::DdlPlan::Kind::kAddColumn;
  plan.command_tag = "ALTER TABLE";
  plan.table_name = table->name;
  if (table->FindColumn(c.name) >= 0) {
    if (cmd.value("missing_ok", false)) {
      plan.if_exists_noop = true;
      plan.notice = fmt::format("column \"{}\" of relation \"{}\" already exists, skipping", c.name,
                                table->name);
      return plan;
    }
    return Status(
        sqlstate::kDuplicateColumn,
        fmt::format("column \"{}\" of relation \"{}\" already exists", c.name, table->name));
  }
  if (c.name.rfind("_sb_", 0) == 0) {
    return Status(sqlstate::kInvalidParameterValue,
                  fmt::format("column name \"{}\" is reserved", c.name));
  }
  SB_ASSIGN_OR_RETURN(c.type, ColumnType(Get(cd, "typeName"), text));
  if (c.type.id == TypeId::kNumeric &&
      (c.type.precision < 0 || c.type.precision > kMaxScaledNumericPrecision)) {
    return NotSupported("numeric without precision or with precision above 18", 0,
                        "Declare numeric(p,s) with p <= 18.");
  }
  for (const auto& con : Get(cd, "constraints")) {
    const Json& k = Get(con, "Constraint");
    std::string type = k.value("contype", "");
    if (type == "CONSTR_NOTNULL") {
      c.not_null = true;
    } else if (type == "CONSTR_NULL") {
    } else if (type == "CONSTR_DEFAULT") {
      SB_RETURN_IF_ERROR(ApplyDefault(Get(k, "raw_expr"), &c, text));
    } else {
      return NotSupported("constraint " + type + " in ADD COLUMN");
    }
  }
  if (c.default_now) {
    return NotSupported("ADD COLUMN with DEFAULT now()", 0, "Add the column, then UPDATE it.");
  }
  if (c.not_null && !c.default_text) {
    return NotSupported("ADD COLUMN ... NOT NULL without a DEFAULT", 0,
                        "Give the column a constant DEFAULT so existing rows get a value.");
  }
  std::string def = SqliteColumnDef(c);
  if (c.default_text) {
    SB_ASSIGN_OR_RETURN(Value v, ParseTextValue(c.type, *c.default_text));
    def += " DEFAULT " + SqlLiteral(v);
  }
  plan.shard_statements.push_back("ALTER TABLE " + QuoteIdent(table->name) + " ADD COLUMN " + def);
  meta::TableDef t = *table;
  // Keep hidden columns last so SELECT * and positional INSERTs see user columns in order.
  auto first_hidden = std::find_if(t.columns.begin(), t.columns.end(),
                                   [](const meta::ColumnDef& col) { return col.hidden; });
  int insert_at = static_cast<int>(first_hidden - t.columns.begin());
  t.columns.insert(first_hidden, c);
  for (auto* v : {&t.shard_key, &t.primary_key}) {
    for (int& k : *v) {
      if (k >= insert_at) ++k;
    }
  }
  plan.new_table = std::move(t);
  return plan;
}

}  // namespace sb::sql
