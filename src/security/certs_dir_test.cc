// The on-disk side of `scratchbird cert`: these call the functions the CLI
// calls, against real directories.
#include "security/certs_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include "security/key_files.h"

namespace sb::security {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class CertsDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/sb_certs_dir_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    certs_ = root_ + "/certs";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  static mode_t ModeOf(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  static std::vector<std::string> Entries(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  static std::string Contents(const std::string& path) {
    auto r = ReadSmallFile(path);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "";
  }

  CreatedCa MakeCa() {
    auto ca = CreateCa(CreateCaOptions{.certs_dir = certs_});
    EXPECT_TRUE(ca.ok()) << ca.status().ToString();
    return *ca;
  }
  CreatedNode MakeNode(std::string out_dir = {}) {
    auto node = CreateNode(CreateNodeOptions{
        .certs_dir = certs_, .hosts = {"127.0.0.1", "localhost"}, .out_dir = out_dir});
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    return *node;
  }

  std::string root_;
  std::string certs_;
};

TEST_F(CertsDirTest, CreateCaWritesCertKeyAndClusterId) {
  CreatedCa ca = MakeCa();
  EXPECT_THAT(Entries(certs_), ElementsAre("ca.crt", "ca.key", "cluster_id"));
  EXPECT_EQ(ModeOf(certs_), 0700u);
  EXPECT_EQ(ModeOf(certs_ + "/ca.key"), 0600u);
  EXPECT_EQ(ModeOf(certs_ + "/ca.crt"), 0644u);
  EXPECT_EQ(Contents(certs_ + "/cluster_id"), ca.cluster_id.ToString() + "\n");
  EXPECT_EQ(ca.cluster_id.version(), 7);
  EXPECT_EQ(ca.ca_key_path, certs_ + "/ca.key");

  auto loaded = LoadCertificateAuthority(certs_ + "/");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->cluster_id, ca.cluster_id);
}

TEST_F(CertsDirTest, SecondCreateCaIsRefusedUnlessOverwrite) {
  CreatedCa first = MakeCa();
  std::string key_before = Contents(certs_ + "/ca.key");
  auto again = CreateCa(CreateCaOptions{.certs_dir = certs_});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), kSqlstateDuplicateFile);
  EXPECT_THAT(again.status().message(),
              HasSubstr("already holds a cluster CA of cluster " + first.cluster_id.ToString()));
  EXPECT_THAT(again.status().message(), HasSubstr("--overwrite"));
  EXPECT_EQ(Contents(certs_ + "/ca.key"), key_before);

  auto replaced = CreateCa(CreateCaOptions{.certs_dir = certs_, .overwrite = true});
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_NE(replaced->cluster_id, first.cluster_id);
  EXPECT_NE(Contents(certs_ + "/ca.key"), key_before);
  EXPECT_EQ(ModeOf(certs_ + "/ca.key"), 0600u);
  EXPECT_THAT(Entries(certs_), ElementsAre("ca.crt", "ca.key", "cluster_id"));
  EXPECT_TRUE(LoadCertificateAuthority(certs_).ok());
}

TEST_F(CertsDirTest, CreateNodeWritesACompleteNodeDirectoryWithoutTheCaKey) {
  CreatedCa ca = MakeCa();
  CreatedNode node = MakeNode();
  EXPECT_EQ(node.dir, certs_ + "/nodes/" + node.identity.node_id.ToString());
  EXPECT_EQ(node.identity.cluster_id, ca.cluster_id);
  EXPECT_THAT(Entries(node.dir), ElementsAre("ca.crt", "cluster_id", "node.crt", "node.key",
                                             "node.sign.key", "node.sign.pub", "node_id"));
  EXPECT_THAT(Entries(certs_ + "/nodes"), ElementsAre(node.identity.node_id.ToString()));
  EXPECT_EQ(ModeOf(node.dir), 0700u);
  EXPECT_EQ(ModeOf(node.dir + "/node.key"), 0600u);
  EXPECT_EQ(ModeOf(node.dir + "/node.sign.key"), 0600u);
  EXPECT_EQ(ModeOf(node.dir + "/node.crt"), 0644u);
  EXPECT_EQ(Contents(node.dir + "/node_id"), node.identity.node_id.ToString() + "\n");
  EXPECT_EQ(Contents(node.dir + "/cluster_id"), ca.cluster_id.ToString() + "\n");
  EXPECT_EQ(Contents(node.dir + "/ca.crt"), Contents(certs_ + "/ca.crt"));

  auto creds = LoadNodeCredentials(node.dir);
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  EXPECT_EQ(creds->identity, node.identity);
  auto cert = ParseCertificate(creds->tls.cert_pem);
  ASSERT_TRUE(cert.ok());
  auto info = DescribeCertificate(cert->get());
  ASSERT_TRUE(info.ok());
  EXPECT_THAT(info->sans, ElementsAre("URI:" + NodeUri(ca.cluster_id, node.identity.node_id),
                                      "IP:127.0.0.1", "DNS:localhost"));
  EXPECT_TRUE(MakeTlsContext(TlsRole::kServer, creds->tls).ok());

  // Two nodes made by the CLI path accept each other.
  CreatedNode other = MakeNode();
  auto other_creds = LoadNodeCredentials(other.dir);
  ASSERT_TRUE(other_creds.ok());
  auto peer = VerifyPeerCertificate(creds->tls.ca_cert_pem, other_creds->tls.cert_pem,
                                    std::chrono::system_clock::now());
  ASSERT_TRUE(peer.ok()) << peer.status().ToString();
  EXPECT_EQ(*peer, other.identity);
}

TEST_F(CertsDirTest, CreateNodeIntoOutDir) {
  MakeCa();
  std::string out = root_ + "/node-a/tls";
  CreatedNode node = MakeNode(out + "/");
  EXPECT_EQ(node.dir, out);
  EXPECT_TRUE(LoadNodeCredentials(out).ok());
  EXPECT_FALSE(fs::exists(certs_ + "/nodes"));
  // No temporary directory is left beside it.
  EXPECT_THAT(Entries(root_ + "/node-a"), ElementsAre("tls"));

  // Again into the same place: refused, untouched, unless overwrite.
  std::string key_before = Contents(out + "/node.key");
  auto again = CreateNode(CreateNodeOptions{.certs_dir = certs_, .out_dir = out});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), kSqlstateDuplicateFile);
  EXPECT_THAT(again.status().message(), HasSubstr("--overwrite"));
  EXPECT_EQ(Contents(out + "/node.key"), key_before);
  auto replaced =
      CreateNode(CreateNodeOptions{.certs_dir = certs_, .out_dir = out, .overwrite = true});
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  auto creds = LoadNodeCredentials(out);
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  EXPECT_EQ(creds->identity, replaced->identity);

  // An existing empty directory is fine.
  fs::create_directory(root_ + "/empty");
  EXPECT_TRUE(CreateNode(CreateNodeOptions{.certs_dir = certs_, .out_dir = root_ + "/empty"}).ok());
}

TEST_F(CertsDirTest, NodeFilesNeverGoWhereTheCaKeyIs) {
  MakeCa();
  for (bool overwrite : {false, true}) {
    auto r = CreateNode(
        CreateNodeOptions{.certs_dir = certs_, .out_dir = certs_, .overwrite = overwrite});
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr("must never be on a node"));
  }
  EXPECT_THAT(Entries(certs_), ElementsAre("ca.crt", "ca.key", "cluster_id"));

  CreatedNode node = MakeNode();
  fs::copy_file(certs_ + "/ca.key", node.dir + "/ca.key");
  auto creds = LoadNodeCredentials(node.dir);
  ASSERT_FALSE(creds.ok());
  EXPECT_THAT(creds.status().message(), HasSubstr("holds ca.key"));
}

TEST_F(CertsDirTest, ReadableKeysAreRefused) {
  MakeCa();
  CreatedNode node = MakeNode();
  ASSERT_EQ(::chmod((node.dir + "/node.key").c_str(), 0644), 0);
  auto creds = LoadNodeCredentials(node.dir);
  ASSERT_FALSE(creds.ok());
  EXPECT_EQ(creds.status().message(), "key file " + node.dir +
                                          "/node.key is readable by group or others (mode "
                                          "0644); run chmod 600 " +
                                          node.dir + "/node.key");
  ASSERT_EQ(::chmod((node.dir + "/node.key").c_str(), 0600), 0);
  ASSERT_EQ(::chmod((node.dir + "/node.sign.key").c_str(), 0640), 0);
  EXPECT_FALSE(LoadNodeCredentials(node.dir).ok());

  ASSERT_EQ(::chmod((certs_ + "/ca.key").c_str(), 0604), 0);
  auto r = CreateNode(CreateNodeOptions{.certs_dir = certs_});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("run chmod 600 " + certs_ + "/ca.key"));
}

TEST_F(CertsDirTest, InconsistentNodeDirectoriesAreRefused) {
  MakeCa();
  CreatedNode a = MakeNode();
  CreatedNode b = MakeNode();
  auto restore = [&](const std::string& name) {
    fs::copy_file(b.dir + "/../" + a.identity.node_id.ToString() + ".bak/" + name,
                  a.dir + "/" + name, fs::copy_options::overwrite_existing);
  };
  fs::copy(a.dir, certs_ + "/nodes/" + a.identity.node_id.ToString() + ".bak");

  // Someone mixed up two nodes' files.
  fs::copy_file(b.dir + "/node_id", a.dir + "/node_id", fs::copy_options::overwrite_existing);
  auto r = LoadNodeCredentials(a.dir);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("names node " + b.identity.node_id.ToString()));
  restore("node_id");
  ASSERT_TRUE(LoadNodeCredentials(a.dir).ok());

  fs::copy_file(b.dir + "/node.key", a.dir + "/node.key", fs::copy_options::overwrite_existing);
  r = LoadNodeCredentials(a.dir);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("node.key is not the private key of"));
  restore("node.key");

  fs::copy_file(b.dir + "/node.sign.pub", a.dir + "/node.sign.pub",
                fs::copy_options::overwrite_existing);
  r = LoadNodeCredentials(a.dir);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("node.sign.pub is not the public key of"));
  restore("node.sign.pub");
  ASSERT_TRUE(LoadNodeCredentials(a.dir).ok());

  fs::remove(a.dir + "/node.crt");
  r = LoadNodeCredentials(a.dir);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("node.crt does not exist"));
}

TEST_F(CertsDirTest, ExpiredNodeCertificateIsRefusedAtLoad) {
  MakeCa();
  auto now = std::chrono::system_clock::now();
  auto node = CreateNode(CreateNodeOptions{.certs_dir = certs_,
                                           .validity = Validity{now - hours(48), now - hours(1)}});
  ASSERT_TRUE(node.ok());
  auto r = LoadNodeCredentials(node->dir);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("node.crt is unusable: certificate has expired"));
}

TEST_F(CertsDirTest, CreateNodeWithoutCaSaysWhatToDo) {
  auto r = CreateNode(CreateNodeOptions{.certs_dir = certs_});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("run scratchbird cert create-ca --certs-dir"));
  EXPECT_FALSE(fs::exists(certs_));
}

TEST_F(CertsDirTest, BadHostWritesNothing) {
  MakeCa();
  auto r = CreateNode(CreateNodeOptions{.certs_dir = certs_, .hosts = {"bad_host"}});
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(fs::exists(certs_ + "/nodes"));
}

TEST_F(CertsDirTest, CreateClientWritesUserCertificateAndKey) {
  CreatedCa ca = MakeCa();
  auto client = CreateClient(CreateClientOptions{.certs_dir = certs_, .user = "alice"});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ(client->cert_path, certs_ + "/client.alice.crt");
  EXPECT_EQ(client->key_path, certs_ + "/client.alice.key");
  EXPECT_EQ(ModeOf(client->key_path), 0600u);
  auto cert = ParseCertificate(Contents(client->cert_path));
  ASSERT_TRUE(cert.ok());
  auto info = DescribeCertificate(cert->get());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->kind, CertificateInfo::Kind::kClient);
  EXPECT_EQ(info->user, "alice");
  EXPECT_EQ(info->cluster_id, ca.cluster_id);

  auto again = CreateClient(CreateClientOptions{.certs_dir = certs_, .user = "alice"});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), kSqlstateDuplicateFile);
  EXPECT_TRUE(
      CreateClient(CreateClientOptions{.certs_dir = certs_, .user = "alice", .overwrite = true})
          .ok());
  EXPECT_FALSE(CreateClient(CreateClientOptions{.certs_dir = certs_, .user = "../evil"}).ok());
  EXPECT_FALSE(fs::exists(root_ + "/client..") || fs::exists(certs_ + "/client.../evil.key"));

  auto elsewhere = CreateClient(
      CreateClientOptions{.certs_dir = certs_, .user = "bob", .out_dir = root_ + "/bob"});
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_THAT(Entries(root_ + "/bob"), ElementsAre("client.bob.crt", "client.bob.key"));
}

TEST_F(CertsDirTest, ListShowsEveryCertificateInTheTree) {
  CreatedCa ca = MakeCa();
  CreatedNode node = MakeNode();
  ASSERT_TRUE(CreateClient(CreateClientOptions{.certs_dir = certs_, .user = "alice"}).ok());
  // Leftovers of an interrupted write are not listed.
  fs::create_directory(certs_ + "/.x.tmp-123");
  fs::copy_file(certs_ + "/ca.crt", certs_ + "/.x.tmp-123/ca.crt");
  // A key in a .pem file is not a certificate and is skipped.
  fs::copy_file(node.dir + "/node.sign.pub", certs_ + "/sign.pem");

  auto list = ListCertificates(certs_);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> paths;
  for (const auto& c : *list) paths.push_back(c.path);
  std::string rel = "nodes/" + node.identity.node_id.ToString();
  EXPECT_THAT(paths, ElementsAre("ca.crt", "client.alice.crt", rel + "/ca.crt", rel + "/node.crt"));
  EXPECT_EQ((*list)[3].info.kind, CertificateInfo::Kind::kNode);
  EXPECT_EQ((*list)[3].info.node_id, node.identity.node_id);

  std::string table = FormatCertificateTable(*list, std::chrono::system_clock::now());
  EXPECT_THAT(table, HasSubstr("FILE"));
  EXPECT_THAT(table, HasSubstr("SHA-256"));
  EXPECT_THAT(table, HasSubstr("cluster=" + ca.cluster_id.ToString() +
                               " node=" + node.identity.node_id.ToString()));
  EXPECT_THAT(table, HasSubstr("user=alice"));
  EXPECT_THAT(table, HasSubstr("IP:127.0.0.1,DNS:localhost"));
  EXPECT_THAT(table, HasSubstr((*list)[0].info.sha256_hex.substr(0, 16)));
  EXPECT_THAT(table, Not(HasSubstr("(expired)")));
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 5);
  std::string later =
      FormatCertificateTable(*list, std::chrono::system_clock::now() + hours(24 * 400));
  EXPECT_THAT(later, HasSubstr("(expired)"));

  // A broken .crt is an error, not silently skipped.
  ASSERT_TRUE(WriteFileAtomically(certs_ + "/junk.crt", "junk", kPublicFileMode).ok());
  auto broken = ListCertificates(certs_);
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(broken.status().message(), HasSubstr("junk.crt"));

  EXPECT_FALSE(ListCertificates(root_ + "/missing").ok());
  fs::create_directory(root_ + "/empty");
  auto empty = ListCertificates(root_ + "/empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_THAT(*empty, IsEmpty());
}

}  // namespace
}  // namespace sb::security
