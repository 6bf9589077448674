#include "cli/cert_command.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "security/certs_dir.h"

namespace sb::cli {
namespace {

using security::Validity;

int Fail(const Status& st) {
  std::string message = st.message();
  if (!st.hint().empty()) message += " (" + st.hint() + ")";
  std::fprintf(stderr, "scratchbird cert: %s\n", message.c_str());
  return 1;
}

std::optional<Validity> DaysFromNow(int days) {
  if (days <= 0) return std::nullopt;
  return Validity::Starting(std::chrono::system_clock::now(), std::chrono::hours(24 * days));
}

}  // namespace

struct CertCommand::State {
  CLI::App* cert = nullptr;
  CLI::App* create_ca = nullptr;
  CLI::App* create_node = nullptr;
  CLI::App* create_client = nullptr;
  CLI::App* list = nullptr;

  std::string certs_dir;
  bool overwrite = false;
  int days = 0;  // 0: the default lifetime of the kind
  std::vector<std::string> hosts;
  std::string out_dir;
  std::string user;

  int CreateCa() const {
    auto ca = security::CreateCa(security::CreateCaOptions{
        .certs_dir = certs_dir, .overwrite = overwrite, .validity = DaysFromNow(days)});
    if (!ca.ok()) return Fail(ca.status());
    int w = static_cast<int>(
        std::max({ca->ca_cert_path.size(), ca->ca_key_path.size(), ca->cluster_id_path.size()}));
    std::printf(
        "created the CA of cluster %s\n"
        "  %-*s  CA certificate (create-node copies it to every node)\n"
        "  %-*s  CA private key, mode 0600: keep it here, never on a node\n"
        "  %-*s  the cluster UUID\n",
        ca->cluster_id.ToString().c_str(), w, ca->ca_cert_path.c_str(), w, ca->ca_key_path.c_str(),
        w, ca->cluster_id_path.c_str());
    return 0;
  }

  int CreateNode() const {
    auto node = security::CreateNode(security::CreateNodeOptions{.certs_dir = certs_dir,
                                                                 .hosts = hosts,
                                                                 .out_dir = out_dir,
                                                                 .overwrite = overwrite,
                                                                 .validity = DaysFromNow(days)});
    if (!node.ok()) return Fail(node.status());
    std::printf(
        "created node %s of cluster %s in %s\n"
        "  node.crt, node.key (TLS, ECDSA P-256), node.sign.key, node.sign.pub (Ed25519),\n"
        "  ca.crt, cluster_id, node_id\n"
        "copy the whole directory to the node (keep node.key and node.sign.key mode 0600)\n",
        node->identity.node_id.ToString().c_str(), node->identity.cluster_id.ToString().c_str(),
        node->dir.c_str());
    return 0;
  }

  int CreateClient() const {
    auto client =
        security::CreateClient(security::CreateClientOptions{.certs_dir = certs_dir,
                                                             .user = user,
                                                             .out_dir = out_dir,
                                                             .overwrite = overwrite,
                                                             .validity = DaysFromNow(days)});
    if (!client.ok()) return Fail(client.status());
    std::printf("created the client certificate of user %s\n  %s\n  %s  (mode 0600)\n",
                user.c_str(), client->cert_path.c_str(), client->key_path.c_str());
    return 0;
  }

  int List() const {
    auto certs = security::ListCertificates(certs_dir);
    if (!certs.ok()) return Fail(certs.status());
    if (certs->empty()) {
      std::printf("no certificates under %s\n", certs_dir.c_str());
      return 0;
    }
    std::fputs(security::FormatCertificateTable(*certs, std::chrono::system_clock::now()).c_str(),
               stdout);
    return 0;
  }
};

CertCommand::CertCommand(CLI::App& app) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.cert = app.add_subcommand(
      "cert", "Create the cluster CA and the certificates of nodes and clients; list them");
  s.cert->require_subcommand(1);

  auto certs_dir = [&s](CLI::App* sub, const char* what) {
    sub->add_option("--certs-dir", s.certs_dir, what)->required();
  };
  auto days = [&s](CLI::App* sub, const char* default_days) {
    sub->add_option("--days", s.days,
                    std::string("Validity in days from now (default ") + default_days + ")")
        ->check(CLI::Range(1, 36525));
  };

  s.create_ca = s.cert->add_subcommand(
      "create-ca",
      "Mint a cluster UUID and a CA for it: writes ca.crt, ca.key (mode 0600) and cluster_id. "
      "The CA key stays in this directory; it never goes to a node");
  certs_dir(s.create_ca, "Admin directory for the CA (created with mode 0700 if missing)");
  s.create_ca->add_flag("--overwrite", s.overwrite,
                        "Replace an existing CA; every certificate it issued stops being accepted");
  days(s.create_ca, "3653");

  s.create_node = s.cert->add_subcommand(
      "create-node",
      "Mint a node UUID and write the node's directory: TLS certificate and key (ECDSA P-256, "
      "URI SAN sb://cluster/<cluster_uuid>/node/<node_uuid>), Ed25519 signing key, ca.crt, "
      "cluster_id, node_id");
  certs_dir(s.create_node, "Admin directory holding the CA (see create-ca)");
  s.create_node
      ->add_option("--host", s.hosts,
                   "Address peers use to reach the node: IP literal or DNS name; repeat for more")
      ->required();
  s.create_node->add_option("--out", s.out_dir,
                            "Node directory to write (default CERTS_DIR/nodes/<node_uuid>); "
                            "never one holding ca.key");
  s.create_node->add_flag("--overwrite", s.overwrite,
                          "Replace node files already in the --out directory");
  days(s.create_node, "366");

  s.create_client = s.cert->add_subcommand(
      "create-client",
      "Write client.USER.crt and client.USER.key (mode 0600) for a user, URI SAN "
      "sb://cluster/<cluster_uuid>/user/USER");
  s.create_client->add_option("user", s.user, "User name: 1-63 characters from A-Z a-z 0-9 _ . @ -")
      ->required();
  certs_dir(s.create_client, "Admin directory holding the CA (see create-ca)");
  s.create_client->add_option("--out", s.out_dir, "Directory to write to (default CERTS_DIR)");
  s.create_client->add_flag("--overwrite", s.overwrite, "Replace an existing certificate");
  days(s.create_client, "366");

  s.list = s.cert->add_subcommand(
      "list",
      "List every certificate (*.crt, *.pem) under a directory: kind, identity, expiry, SANs, "
      "SHA-256 fingerprint");
  certs_dir(s.list, "Directory to list (searched recursively)");
}

CertCommand::~CertCommand() = default;

bool CertCommand::parsed() const {
  return state_->cert->parsed();
}

int CertCommand::Run() const {
  const State& s = *state_;
  if (s.create_ca->parsed()) return s.CreateCa();
  if (s.create_node->parsed()) return s.CreateNode();
  if (s.create_client->parsed()) return s.CreateClient();
  if (s.list->parsed()) return s.List();
  return Fail(Status::InvalidArgument("no cert subcommand given"));
}

}  // namespace sb::cli
