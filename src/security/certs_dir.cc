#include "security/certs_dir.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "common/ed25519.h"
#include "security/key_files.h"

namespace sb::security {
namespace {

namespace fs = std::filesystem;

// "dir/" and "dir" name the same directory; joining must not depend on it.
std::string NormalizeDir(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

bool Exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(path, ec));
}

std::string ParentOf(const std::string& dir) {
  fs::path parent = fs::path(dir).parent_path();
  return parent.empty() ? "." : parent.string();
}

Result<Uuid> ReadUuidFile(const std::string& path) {
  SB_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  auto id = Uuid::Parse(text);
  if (!id.ok() || id->is_nil())
    return Status::Error(kSqlstateConfigFileError, path + " does not hold a UUID");
  return *id;
}

struct FileToWrite {
  std::string name;
  std::string contents;
  mode_t mode;
};

// Refuses (without writing anything) if any of the files is already there.
Status CheckAbsent(const std::string& dir, const std::vector<FileToWrite>& files,
                   const std::string& remedy) {
  for (const FileToWrite& f : files) {
    std::string path = Join(dir, f.name);
    if (Exists(path))
      return Status::Error(kSqlstateDuplicateFile, path + " already exists; " + remedy);
  }
  return Status::Ok();
}

Status WriteFiles(const std::string& dir, const std::vector<FileToWrite>& files,
                  IfExists if_exists) {
  for (const FileToWrite& f : files)
    SB_RETURN_IF_ERROR(WriteFileAtomically(Join(dir, f.name), f.contents, f.mode, if_exists));
  return Status::Ok();
}

// Builds the directory beside its final place and renames it there, so that
// a crash or an error leaves no half-written node directory behind.
Status WriteNewDirectory(const std::string& dir, const std::vector<FileToWrite>& files) {
  std::string parent = ParentOf(dir);
  SB_RETURN_IF_ERROR(EnsurePrivateDirectory(parent));
  std::string tmpl = Join(parent, "." + fs::path(dir).filename().string() + ".tmp-XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr)
    return Status::IoError("cannot create a directory in " + parent + ": " + std::strerror(errno));
  std::string tmp = tmpl;  // mkdtemp made it 0700
  auto fail = [&](Status st) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    return st;
  };
  if (Status st = WriteFiles(tmp, files, IfExists::kFail); !st.ok()) return fail(st);
  if (Status st = SyncDirectory(tmp); !st.ok()) return fail(st);
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_NOREPLACE) != 0) {
    int err = errno;
    if (err == EEXIST) return fail(Status::Error(kSqlstateDuplicateFile, dir + " already exists"));
    return fail(Status::IoError("cannot create " + dir + ": " + std::strerror(err)));
  }
  return SyncDirectory(parent);
}

Validity Or(const std::optional<Validity>& v, std::chrono::seconds lifetime) {
  return v ? *v : Validity::Starting(std::chrono::system_clock::now(), lifetime);
}

std::string FormatUtc(TimePoint t) {
  time_t tt = std::chrono::system_clock::to_time_t(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string IdentityText(const CertificateInfo& info) {
  switch (info.kind) {
    case CertificateInfo::Kind::kClusterCa:
      return "cluster=" + info.cluster_id->ToString();
    case CertificateInfo::Kind::kNode:
      return "cluster=" + info.cluster_id->ToString() + " node=" + info.node_id->ToString();
    case CertificateInfo::Kind::kClient:
      return "cluster=" + info.cluster_id->ToString() + " user=" + info.user;
    case CertificateInfo::Kind::kOther:
      break;
  }
  return info.subject.empty() ? "-" : info.subject;
}

}  // namespace

Result<CreatedCa> CreateCa(const CreateCaOptions& options) {
  std::string dir = NormalizeDir(options.certs_dir);
  if (dir.empty()) return Status::InvalidArgument("no certs directory given");
  SB_RETURN_IF_ERROR(EnsurePrivateDirectory(dir));
  CreatedCa out;
  out.ca_cert_path = Join(dir, kCaCertFile);
  out.ca_key_path = Join(dir, kCaKeyFile);
  out.cluster_id_path = Join(dir, kClusterIdFile);
  if (!options.overwrite) {
    for (const std::string& path : {out.ca_key_path, out.ca_cert_path, out.cluster_id_path}) {
      if (!Exists(path)) continue;
      std::string which;
      if (auto cluster = ReadUuidFile(out.cluster_id_path); cluster.ok())
        which = " of cluster " + cluster->ToString();
      return Status::Error(kSqlstateDuplicateFile,
                           dir + " already holds a cluster CA" + which + " (" + path +
                               " exists); pass --overwrite to replace it, which invalidates "
                               "every certificate it issued");
    }
  }

  SB_ASSIGN_OR_RETURN(out.cluster_id, Uuid::GenerateV7());
  SB_ASSIGN_OR_RETURN(
      CertificateAuthority ca,
      CreateCertificateAuthority(out.cluster_id, Or(options.validity, kCaLifetime)));
  IfExists if_exists = options.overwrite ? IfExists::kReplace : IfExists::kFail;
  // The key first: a crash after it leaves a directory that LoadCertificateAuthority
  // refuses (no matching certificate) rather than a certificate without its key.
  SB_RETURN_IF_ERROR(WritePrivateKeyFile(out.ca_key_path, ca.key_pem, if_exists));
  SB_RETURN_IF_ERROR(
      WriteFileAtomically(out.ca_cert_path, ca.cert_pem, kPublicFileMode, if_exists));
  SB_RETURN_IF_ERROR(WriteFileAtomically(out.cluster_id_path, out.cluster_id.ToString() + "\n",
                                         kPublicFileMode, if_exists));
  return out;
}

Result<CertificateAuthority> LoadCertificateAuthority(const std::string& certs_dir) {
  std::string dir = NormalizeDir(certs_dir);
  std::string key_path = Join(dir, kCaKeyFile);
  if (!Exists(key_path))
    return Status::Error(kSqlstateUndefinedFile,
                         "no cluster CA in " + dir + " (" + key_path +
                             " does not exist); run scratchbird cert create-ca --certs-dir " + dir +
                             " first");
  CertificateAuthority ca;
  SB_ASSIGN_OR_RETURN(ca.key_pem, ReadPrivateKeyFile(key_path));
  SB_ASSIGN_OR_RETURN(ca.cert_pem, ReadSmallFile(Join(dir, kCaCertFile)));
  SB_ASSIGN_OR_RETURN(ca.cluster_id, ReadUuidFile(Join(dir, kClusterIdFile)));
  if (Status st = CheckCertificateAuthority(ca); !st.ok())
    return Status::Error(kSqlstateConfigFileError,
                         "the CA in " + dir + " is inconsistent: " + st.message());
  return ca;
}

Result<CreatedNode> CreateNode(const CreateNodeOptions& options) {
  std::string certs_dir = NormalizeDir(options.certs_dir);
  SB_ASSIGN_OR_RETURN(CertificateAuthority ca, LoadCertificateAuthority(certs_dir));
  CreatedNode out;
  out.identity.cluster_id = ca.cluster_id;
  SB_ASSIGN_OR_RETURN(out.identity.node_id, Uuid::GenerateV7());
  out.dir = options.out_dir.empty()
                ? Join(Join(certs_dir, kNodesSubdir), out.identity.node_id.ToString())
                : NormalizeDir(options.out_dir);
  if (Exists(Join(out.dir, kCaKeyFile)))
    return Status::Error(kSqlstateConfigFileError,
                         "refusing to write node files into " + out.dir +
                             ": it holds ca.key, and the CA private key must never be on a node");

  SB_ASSIGN_OR_RETURN(CertifiedKey cert,
                      IssueNodeCertificate(ca, out.identity.node_id, options.hosts,
                                           Or(options.validity, kNodeLifetime)));
  SB_ASSIGN_OR_RETURN(SigningKeyPem signing, GenerateSigningKey());
  std::vector<FileToWrite> files = {
      {kNodeKeyFile, cert.key_pem, kPrivateFileMode},
      {kNodeSignKeyFile, signing.private_pem, kPrivateFileMode},
      {kNodeCertFile, cert.cert_pem, kPublicFileMode},
      {kNodeSignPubFile, signing.public_pem, kPublicFileMode},
      {kCaCertFile, ca.cert_pem, kPublicFileMode},
      {kClusterIdFile, ca.cluster_id.ToString() + "\n", kPublicFileMode},
      {kNodeIdFile, out.identity.node_id.ToString() + "\n", kPublicFileMode},
  };

  if (!Exists(out.dir)) {
    SB_RETURN_IF_ERROR(WriteNewDirectory(out.dir, files));
    return out;
  }
  std::error_code ec;
  if (!fs::is_directory(out.dir, ec))
    return Status::InvalidArgument(out.dir + " exists and is not a directory");
  if (!options.overwrite) {
    SB_RETURN_IF_ERROR(CheckAbsent(out.dir, files, "pass --overwrite to replace the node files"));
  }
  SB_RETURN_IF_ERROR(
      WriteFiles(out.dir, files, options.overwrite ? IfExists::kReplace : IfExists::kFail));
  return out;
}

Result<CreatedClient> CreateClient(const CreateClientOptions& options) {
  SB_RETURN_IF_ERROR(ValidateUserName(options.user));
  std::string certs_dir = NormalizeDir(options.certs_dir);
  SB_ASSIGN_OR_RETURN(CertificateAuthority ca, LoadCertificateAuthority(certs_dir));
  std::string dir = options.out_dir.empty() ? certs_dir : NormalizeDir(options.out_dir);
  SB_RETURN_IF_ERROR(EnsurePrivateDirectory(dir));
  SB_ASSIGN_OR_RETURN(
      CertifiedKey cert,
      IssueClientCertificate(ca, options.user, Or(options.validity, kClientLifetime)));
  std::string base = "client." + options.user;
  std::vector<FileToWrite> files = {
      {base + ".key", cert.key_pem, kPrivateFileMode},
      {base + ".crt", cert.cert_pem, kPublicFileMode},
  };
  if (!options.overwrite) {
    SB_RETURN_IF_ERROR(CheckAbsent(dir, files, "pass --overwrite to replace it"));
  }
  SB_RETURN_IF_ERROR(
      WriteFiles(dir, files, options.overwrite ? IfExists::kReplace : IfExists::kFail));
  return CreatedClient{Join(dir, base + ".crt"), Join(dir, base + ".key")};
}

Result<NodeCredentials> LoadNodeCredentials(const std::string& node_dir) {
  std::string dir = NormalizeDir(node_dir);
  if (Exists(Join(dir, kCaKeyFile)))
    return Status::Error(kSqlstateConfigFileError,
                         "node directory " + dir +
                             " holds ca.key; move it back to the admin's certs directory: the "
                             "CA private key must never be on a node");
  NodeCredentials out;
  SB_ASSIGN_OR_RETURN(out.tls.ca_cert_pem, ReadSmallFile(Join(dir, kCaCertFile)));
  SB_ASSIGN_OR_RETURN(out.tls.cert_pem, ReadSmallFile(Join(dir, kNodeCertFile)));
  SB_ASSIGN_OR_RETURN(out.tls.key_pem, ReadPrivateKeyFile(Join(dir, kNodeKeyFile)));
  SB_ASSIGN_OR_RETURN(out.signing_key.private_pem, ReadPrivateKeyFile(Join(dir, kNodeSignKeyFile)));
  SB_ASSIGN_OR_RETURN(out.signing_key.public_pem, ReadSmallFile(Join(dir, kNodeSignPubFile)));
  SB_ASSIGN_OR_RETURN(Uuid cluster_id, ReadUuidFile(Join(dir, kClusterIdFile)));
  SB_ASSIGN_OR_RETURN(Uuid node_id, ReadUuidFile(Join(dir, kNodeIdFile)));

  std::string cert_path = Join(dir, kNodeCertFile);
  auto id = VerifyNodeCertificate(out.tls.ca_cert_pem, out.tls.cert_pem,
                                  std::chrono::system_clock::now());
  if (!id.ok()) return id.status().Annotate(cert_path + " is unusable");
  if (id->cluster_id != cluster_id || id->node_id != node_id)
    return Status::Error(kSqlstateConfigFileError,
                         cert_path + " is for node " + id->node_id.ToString() + " of cluster " +
                             id->cluster_id.ToString() + ", but " + dir + " names node " +
                             node_id.ToString() + " of cluster " + cluster_id.ToString());
  out.identity = *id;

  SB_ASSIGN_OR_RETURN(X509Ptr cert, ParseCertificate(out.tls.cert_pem));
  SB_ASSIGN_OR_RETURN(EvpPkeyPtr key, ParsePrivateKey(out.tls.key_pem));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    DrainOpenSslErrors();
    return Status::Error(kSqlstateConfigFileError,
                         Join(dir, kNodeKeyFile) + " is not the private key of " + cert_path);
  }
  SB_ASSIGN_OR_RETURN(Ed25519PrivateKey signing,
                      Ed25519PrivateKey::FromPem(out.signing_key.private_pem));
  auto public_key = Ed25519PublicKeyFromPem(out.signing_key.public_pem);
  if (!public_key.ok() || *public_key != signing.public_key())
    return Status::Error(
        kSqlstateConfigFileError,
        Join(dir, kNodeSignPubFile) + " is not the public key of " + Join(dir, kNodeSignKeyFile));
  return out;
}

Result<std::vector<CertificateListing>> ListCertificates(const std::string& dir_in) {
  std::string dir = NormalizeDir(dir_in);
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return Status::Error(kSqlstateUndefinedFile, dir + " is not a directory");
  std::vector<CertificateListing> out;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) return Status::IoError("cannot list " + dir + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Status::IoError("cannot list " + dir + ": " + ec.message());
    const fs::path& p = it->path();
    std::string name = p.filename().string();
    if (!name.empty() && name[0] == '.') {
      // Temporary files and directories of an unfinished write.
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    std::string ext = p.extension().string();
    if ((ext != ".crt" && ext != ".pem") || !it->is_regular_file(ec)) continue;
    std::string rel = fs::relative(p, dir, ec).string();
    if (ec || rel.empty()) rel = p.string();
    auto text = ReadSmallFile(p.string());
    if (!text.ok()) return text.status();
    auto certs = ParseCertificates(*text);
    if (!certs.ok()) {
      if (ext == ".pem") continue;  // a key or parameters, not a certificate
      return Status::Error(
          kSqlstateConfigFileError,
          p.string() + " holds no readable certificate: " + certs.status().message());
    }
    for (const X509Ptr& cert : *certs) {
      SB_ASSIGN_OR_RETURN(CertificateInfo info, DescribeCertificate(cert.get()));
      out.push_back(CertificateListing{rel, std::move(info)});
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

std::string FormatCertificateTable(const std::vector<CertificateListing>& certs, TimePoint now) {
  std::vector<std::vector<std::string>> rows = {
      {"FILE", "KIND", "IDENTITY", "NOT AFTER", "SANS", "SHA-256"}};
  for (const CertificateListing& c : certs) {
    std::string sans;
    for (const std::string& san : c.info.sans) {
      if (san.rfind("URI:sb:", 0) == 0) continue;  // shown as IDENTITY
      if (!sans.empty()) sans += ",";
      sans += san;
    }
    std::string not_after = FormatUtc(c.info.not_after);
    if (c.info.not_after < now) not_after += " (expired)";
    rows.push_back({c.path, KindName(c.info.kind), IdentityText(c.info), not_after,
                    sans.empty() ? "-" : sans, c.info.sha256_hex.substr(0, 16)});
  }
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace sb::security
