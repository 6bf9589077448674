// The preupdate API is declared by <sqlite3.h> only with this defined; it
// must precede every include that could pull in <sqlite3.h>.
#define SQLITE_ENABLE_PREUPDATE_HOOK
#include <sqlite3.h>

#include "storage/change_capture.h"

#include <algorithm>
#include <cstring>

#include "storage/sqlite_error.h"
#include "storage/sqlite_value.h"

namespace sb::storage {

namespace {

// Record and value tags of the changeset format (sqlite3session.h,
// "Changeset Format").
constexpr char kTableHeader = 'T';
constexpr char kUndefined = 0x00;
constexpr char kInteger = 0x01;
constexpr char kReal = 0x02;
constexpr char kText = 0x03;
constexpr char kBlobTag = 0x04;
constexpr char kNull = 0x05;

Status SchemaChanged() {
  return Status(sqlstate::kFeatureNotSupported,
                "altering or dropping a table after changing its rows in the same transaction "
                "is not supported");
}

// SQLite's variable-length integer: 7 bits per byte, most significant first,
// the high bit set on every byte but the last; a ninth byte carries 8 bits.
void AppendVarint(std::string* out, uint64_t v) {
  if (v > 0x00ffffffffffffffull) {
    char buf[9];
    buf[8] = static_cast<char>(v & 0xff);
    v >>= 8;
    for (int i = 7; i >= 0; --i) {
      buf[i] = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out->append(buf, 9);
    return;
  }
  char buf[10];
  int n = 0;
  do {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  } while (v != 0);
  buf[0] &= 0x7f;  // the last byte (written first here) ends the number
  for (int i = n - 1; i >= 0; --i) out->push_back(buf[i]);
}

void AppendBigEndian64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string EncodeKey(const Row& key) {
  std::string out;
  for (const Value& v : key) AppendChangesetValue(&out, v);
  return out;
}

std::string QuoteIdentifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    out.push_back(c);
    if (c == '"') out.push_back('"');
  }
  out.push_back('"');
  return out;
}

}  // namespace

void AppendChangesetValue(std::string* out, const Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) {
    out->push_back(kInteger);
    AppendBigEndian64(out, static_cast<uint64_t>(*i));
  } else if (const auto* d = std::get_if<double>(&v)) {
    out->push_back(kReal);
    uint64_t bits = 0;
    std::memcpy(&bits, d, sizeof(bits));
    AppendBigEndian64(out, bits);
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    out->push_back(kText);
    AppendVarint(out, s->size());
    out->append(*s);
  } else if (const auto* b = std::get_if<Blob>(&v)) {
    out->push_back(kBlobTag);
    AppendVarint(out, b->bytes.size());
    out->append(b->bytes);
  } else {
    out->push_back(kNull);
  }
}

ChangeCapture::ChangeCapture(sqlite3* db, std::vector<std::string> skip)
    : db_(db), skip_(std::move(skip)) {}

ChangeCapture::~ChangeCapture() {
  End();
}

void ChangeCapture::Begin(int64_t schema_version) {
  if (schema_version != schema_version_) {
    layouts_.clear();
    schema_version_ = schema_version;
  }
  changes_.clear();
  table_order_.clear();
  hook_error_ = Status::Ok();
  sqlite3_preupdate_hook(db_, &ChangeCapture::OnPreupdate, this);
}

void ChangeCapture::End() {
  sqlite3_preupdate_hook(db_, nullptr, nullptr);
}

bool ChangeCapture::HasPrimaryKey(const std::string& table) const {
  auto it = changes_.find(table);
  return it != changes_.end() && it->second.layout != nullptr;
}

void ChangeCapture::OnPreupdate(void* ctx, sqlite3*, int op, const char* db_name, const char* table,
                                sqlite3_int64, sqlite3_int64) {
  if (std::strcmp(db_name, "main") != 0) return;  // temp tables are not shard data
  static_cast<ChangeCapture*>(ctx)->Record(op, table);
}

std::shared_ptr<const CapturedTableLayout> ChangeCapture::LayoutOf(const std::string& table) {
  auto it = layouts_.find(table);
  if (it != layouts_.end()) return it->second;
  auto layout = std::make_shared<CapturedTableLayout>();
  sqlite3_stmt* stmt = nullptr;
  // Running a statement from inside the preupdate hook is allowed (reads of
  // the schema only); this happens once per table per schema version.
  if (sqlite3_prepare_v2(db_, "SELECT name, pk FROM pragma_table_info(?1, 'main') ORDER BY cid", -1,
                         &stmt, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    hook_error_ = StatusFromSqlite(sqlite3_errcode(db_), db_).Annotate("reading table layout");
    return nullptr;
  }
  sqlite3_bind_text(stmt, 1, table.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<std::pair<int, int>> pk;  // (position in the key, column)
  std::vector<std::string> names;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const int column = layout->column_count++;
    names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    const int position = sqlite3_column_int(stmt, 1);
    layout->pk_position.push_back(position);
    if (position > 0) pk.emplace_back(position, column);
  }
  sqlite3_finalize(stmt);
  std::sort(pk.begin(), pk.end());
  std::string select = "SELECT * FROM main." + QuoteIdentifier(table) + " WHERE ";
  for (size_t k = 0; k < pk.size(); ++k) {
    layout->pk_columns.push_back(pk[k].second);
    if (k > 0) select += " AND ";
    select +=
        QuoteIdentifier(names[static_cast<size_t>(pk[k].second)]) + " IS ?" + std::to_string(k + 1);
  }
  layout->select_sql = std::move(select);
  std::shared_ptr<const CapturedTableLayout> result =
      layout->pk_columns.empty() ? nullptr : std::move(layout);
  layouts_.emplace(table, result);
  return result;
}

ChangeCapture::TableChanges* ChangeCapture::Touch(const char* table) {
  auto it = changes_.find(table);
  if (it != changes_.end()) return &it->second;
  TableChanges& changes = changes_[table];
  changes.layout = LayoutOf(table);
  table_order_.emplace_back(table);
  return &changes;
}

void ChangeCapture::Record(int op, const char* table) {
  if (!hook_error_.ok()) return;
  for (const std::string& name : skip_) {
    if (name == table) return;
  }
  if (sqlite3_strnicmp(table, "sqlite_", 7) == 0) return;
  TableChanges* changes = Touch(table);
  if (changes->layout == nullptr) return;  // no primary key: refused at commit
  const CapturedTableLayout& layout = *changes->layout;
  if (sqlite3_preupdate_count(db_) != layout.column_count) {
    hook_error_ = SchemaChanged();
    return;
  }
  auto key_of = [&](bool new_values) {
    Row key;
    key.reserve(layout.pk_columns.size());
    for (int column : layout.pk_columns) {
      sqlite3_value* v = nullptr;
      const int rc = new_values ? sqlite3_preupdate_new(db_, column, &v)
                                : sqlite3_preupdate_old(db_, column, &v);
      key.push_back(rc == SQLITE_OK && v != nullptr ? ValueFromSqlite(v) : Value{});
    }
    return key;
  };
  if (op == SQLITE_DELETE || op == SQLITE_UPDATE) {
    Row key = key_of(false);
    auto [it, inserted] = changes->rows.try_emplace(EncodeKey(key));
    if (inserted) {
      it->second.existed = true;
      it->second.before.reserve(static_cast<size_t>(layout.column_count));
      for (int c = 0; c < layout.column_count; ++c) {
        sqlite3_value* v = nullptr;
        const int rc = sqlite3_preupdate_old(db_, c, &v);
        it->second.before.push_back(rc == SQLITE_OK && v != nullptr ? ValueFromSqlite(v) : Value{});
      }
      changes->keys.push_back(std::move(key));
    }
  }
  if (op == SQLITE_INSERT || op == SQLITE_UPDATE) {
    Row key = key_of(true);
    auto [it, inserted] = changes->rows.try_emplace(EncodeKey(key));
    if (inserted) changes->keys.push_back(std::move(key));  // did not exist before
  }
}

Result<std::string> ChangeCapture::Changeset(const CaptureQuery& query) {
  SB_RETURN_IF_ERROR(hook_error_);
  std::string out;
  for (const std::string& table : table_order_) {
    const TableChanges& changes = changes_.at(table);
    if (changes.layout == nullptr) continue;
    const CapturedTableLayout& layout = *changes.layout;
    std::string records;
    for (const Row& key : changes.keys) {
      const TouchedRow& touched = changes.rows.at(EncodeKey(key));
      Row now;
      bool exists = false;
      Status st = query(layout.select_sql, key, [&](const Row& r) {
        now = r;
        exists = true;
        return Status::Ok();
      });
      if (!st.ok()) {
        // The table is gone or changed shape since the rows were touched.
        if (st.code() == sqlstate::kInternalError) return SchemaChanged();
        return st;
      }
      if (exists && static_cast<int>(now.size()) != layout.column_count) return SchemaChanged();
      if (!touched.existed && !exists) continue;
      if (!touched.existed) {
        records.push_back(static_cast<char>(SQLITE_INSERT));
        records.push_back(0);  // not indirect
        for (const Value& v : now) AppendChangesetValue(&records, v);
        continue;
      }
      if (!exists) {
        records.push_back(static_cast<char>(SQLITE_DELETE));
        records.push_back(0);
        for (const Value& v : touched.before) AppendChangesetValue(&records, v);
        continue;
      }
      // Values compare by type as well: SQLite stores 1 and 1.0 differently.
      bool changed = false;
      for (int c = 0; c < layout.column_count && !changed; ++c) {
        changed = touched.before[static_cast<size_t>(c)] != now[static_cast<size_t>(c)];
      }
      if (!changed) continue;
      // old.*: the key and the old values of changed columns; new.*: the new
      // values of changed columns; everything else undefined.
      records.push_back(static_cast<char>(SQLITE_UPDATE));
      records.push_back(0);
      for (int c = 0; c < layout.column_count; ++c) {
        const auto i = static_cast<size_t>(c);
        if (layout.pk_position[i] > 0 || touched.before[i] != now[i]) {
          AppendChangesetValue(&records, touched.before[i]);
        } else {
          records.push_back(kUndefined);
        }
      }
      for (int c = 0; c < layout.column_count; ++c) {
        const auto i = static_cast<size_t>(c);
        if (layout.pk_position[i] == 0 && touched.before[i] != now[i]) {
          AppendChangesetValue(&records, now[i]);
        } else {
          records.push_back(kUndefined);
        }
      }
    }
    if (records.empty()) continue;
    out.push_back(kTableHeader);
    AppendVarint(&out, static_cast<uint64_t>(layout.column_count));
    for (int position : layout.pk_position) out.push_back(static_cast<char>(position));
    out.append(table);
    out.push_back('\0');
    out += records;
  }
  return out;
}

}  // namespace sb::storage
