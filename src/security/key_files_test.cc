#include "security/key_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace sb::security {
namespace {

class KeyFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/sb_key_files_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string File(const std::string& name) const { return dir_ + "/" + name; }
  static mode_t ModeOf(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  // Only the named files, no leftover temporaries.
  std::vector<std::string> Entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string dir_;
};

TEST_F(KeyFilesTest, PrivateKeyIsWrittenWithMode0600WhateverTheUmask) {
  mode_t old = ::umask(0);
  Status st = WritePrivateKeyFile(File("node.key"), "secret\n");
  ::umask(old);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(ModeOf(File("node.key")), 0600u);
  auto back = ReadPrivateKeyFile(File("node.key"));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, "secret\n");
  EXPECT_EQ(Entries(), std::vector<std::string>{"node.key"});
}

TEST_F(KeyFilesTest, PublicFileGetsTheRequestedMode) {
  ASSERT_TRUE(WriteFileAtomically(File("node.crt"), "cert", kPublicFileMode).ok());
  EXPECT_EQ(ModeOf(File("node.crt")), 0644u);
  auto back = ReadSmallFile(File("node.crt"));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "cert");
}

TEST_F(KeyFilesTest, ExistingFileIsKeptUnlessReplaceIsAsked) {
  ASSERT_TRUE(WritePrivateKeyFile(File("ca.key"), "first").ok());
  Status st = WritePrivateKeyFile(File("ca.key"), "second");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), kSqlstateDuplicateFile);
  EXPECT_NE(st.message().find(File("ca.key")), std::string::npos) << st.message();
  EXPECT_EQ(*ReadPrivateKeyFile(File("ca.key")), "first");
  EXPECT_EQ(Entries(), std::vector<std::string>{"ca.key"});

  ASSERT_TRUE(WritePrivateKeyFile(File("ca.key"), "second", IfExists::kReplace).ok());
  EXPECT_EQ(*ReadPrivateKeyFile(File("ca.key")), "second");
  EXPECT_EQ(ModeOf(File("ca.key")), 0600u);
  EXPECT_EQ(Entries(), std::vector<std::string>{"ca.key"});
}

TEST_F(KeyFilesTest, GroupOrWorldReadableKeyIsRefusedWithTheFix) {
  std::string path = File("node.key");
  ASSERT_TRUE(WritePrivateKeyFile(path, "secret").ok());
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto r = ReadPrivateKeyFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), kSqlstateConfigFileError);
  EXPECT_EQ(
      r.status().message(),
      "key file " + path + " is readable by group or others (mode 0644); run chmod 600 " + path);

  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  EXPECT_FALSE(ReadPrivateKeyFile(path).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0620), 0);
  r = ReadPrivateKeyFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("writable by group or others (mode 0620)"), std::string::npos)
      << r.status().message();
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(ReadPrivateKeyFile(path).ok());
}

TEST_F(KeyFilesTest, SymlinkIsJudgedByItsTarget) {
  std::string target = File("real.key");
  ASSERT_TRUE(WritePrivateKeyFile(target, "secret").ok());
  std::filesystem::create_symlink(target, File("link.key"));
  EXPECT_TRUE(ReadPrivateKeyFile(File("link.key")).ok());
  ASSERT_EQ(::chmod(target.c_str(), 0604), 0);
  EXPECT_FALSE(ReadPrivateKeyFile(File("link.key")).ok());
}

TEST_F(KeyFilesTest, MissingFileAndDirectoryAreClearErrors) {
  auto r = ReadPrivateKeyFile(File("absent.key"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), kSqlstateUndefinedFile);
  EXPECT_NE(r.status().message().find("absent.key"), std::string::npos);
  std::filesystem::create_directory(File("dir.key"));
  r = ReadPrivateKeyFile(File("dir.key"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a regular file"), std::string::npos);
  EXPECT_FALSE(WritePrivateKeyFile(File("no/such/dir/x.key"), "k").ok());
}

TEST_F(KeyFilesTest, PrivateDirectoriesAreCreatedWithMode0700) {
  std::string nested = File("a/b/c");
  ASSERT_TRUE(EnsurePrivateDirectory(nested).ok());
  EXPECT_EQ(ModeOf(File("a")), 0700u);
  EXPECT_EQ(ModeOf(nested), 0700u);
  EXPECT_TRUE(EnsurePrivateDirectory(nested).ok());
  ASSERT_TRUE(WriteFileAtomically(File("plain"), "x", kPublicFileMode).ok());
  EXPECT_FALSE(EnsurePrivateDirectory(File("plain")).ok());
}

}  // namespace
}  // namespace sb::security
