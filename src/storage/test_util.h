// Helpers shared by the storage tests.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "storage/shard_store.h"

namespace sb::storage::testing {

// A fresh directory under /tmp, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/sb_storage_test_XXXXXX";
    char* p = mkdtemp(tmpl.data());
    if (p == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs sql on conn and returns all rows; fails the test on error.
inline std::vector<Row> Query(ShardConnection& conn, const std::string& sql,
                              const std::vector<Value>& params = {}) {
  std::vector<Row> rows;
  Status st = conn.Execute(sql, params, [&](const Row& r) {
    rows.push_back(r);
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << sql << ": " << st.ToString();
  return rows;
}

inline void Exec(ShardConnection& conn, const std::string& sql,
                 const std::vector<Value>& params = {}) {
  Status st = conn.Execute(sql, params, nullptr);
  ASSERT_TRUE(st.ok()) << sql << ": " << st.ToString();
}

}  // namespace sb::storage::testing
