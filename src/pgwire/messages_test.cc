#include "pgwire/messages.h"

#include <gtest/gtest.h>

#include "pgwire/wire_test_util.h"

namespace sb::pgwire {
namespace {

using testing::BE32;
using testing::Body;
using testing::ErrorFields;
using testing::Msg;
using testing::StartupPacketBytes;

// --- Framing ---------------------------------------------------------------

TEST(DecodeFrame, CompleteMessageIsReturnedWithConsumedLength) {
  std::string buf = Msg('Q', Body().Str("SELECT 1").str()) + "extra";
  Frame f;
  size_t consumed = 0;
  Status err;
  ASSERT_EQ(DecodeFrame(buf, 1024, &f, &consumed, &err), DecodeState::kFrame);
  EXPECT_EQ(f.type, 'Q');
  EXPECT_EQ(f.body, std::string_view("SELECT 1\0", 9));
  EXPECT_EQ(consumed, buf.size() - 5);
}

TEST(DecodeFrame, PartialHeaderAndBodyNeedMore) {
  std::string full = Msg('Q', Body().Str("SELECT 1").str());
  Frame f;
  size_t consumed = 0;
  Status err;
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_EQ(DecodeFrame(std::string_view(full).substr(0, n), 1024, &f, &consumed, &err),
              DecodeState::kNeedMore)
        << "prefix " << n;
  }
}

TEST(DecodeFrame, UnknownTypeIsProtocolViolationImmediately) {
  Frame f;
  size_t consumed = 0;
  Status err;
  ASSERT_EQ(DecodeFrame("z", 1024, &f, &consumed, &err), DecodeState::kError);
  EXPECT_EQ(err.code(), "08P01");
  EXPECT_NE(err.message().find("invalid frontend message type 122"), std::string::npos);
}

TEST(DecodeFrame, LengthBelowFourIsRejected) {
  std::string buf = "Q" + BE32(3);
  Frame f;
  size_t consumed = 0;
  Status err;
  ASSERT_EQ(DecodeFrame(buf, 1024, &f, &consumed, &err), DecodeState::kError);
  EXPECT_EQ(err.code(), "08P01");
  EXPECT_NE(err.message().find("invalid message length"), std::string::npos);
}

TEST(DecodeFrame, NegativeLengthIsRejected) {
  std::string buf = "Q" + BE32(0xFFFFFFF0u);
  Frame f;
  size_t consumed = 0;
  Status err;
  ASSERT_EQ(DecodeFrame(buf, 1u << 30, &f, &consumed, &err), DecodeState::kError);
  EXPECT_EQ(err.code(), "08P01");
}

TEST(DecodeFrame, OversizedBodyIsRejectedFromHeaderAlone) {
  std::string buf = "Q" + BE32(1000 + 4);
  Frame f;
  size_t consumed = 0;
  Status err;
  ASSERT_EQ(DecodeFrame(buf, 999, &f, &consumed, &err), DecodeState::kError);
  EXPECT_EQ(err.code(), "08P01");
  EXPECT_NE(err.message().find("exceeds the limit of 999 bytes"), std::string::npos);
  EXPECT_FALSE(err.hint().empty());
  // Exactly at the limit is fine (and needs the body).
  EXPECT_EQ(DecodeFrame(buf, 1000, &f, &consumed, &err), DecodeState::kNeedMore);
}

TEST(DecodeStartupFrame, RejectsTooShortAndTooLongLengths) {
  std::string_view body;
  size_t consumed = 0;
  Status err;
  EXPECT_EQ(DecodeStartupFrame(BE32(7), &body, &consumed, &err), DecodeState::kError);
  EXPECT_EQ(err.code(), "08P01");
  EXPECT_EQ(DecodeStartupFrame(BE32(10001), &body, &consumed, &err), DecodeState::kError);
  EXPECT_EQ(DecodeStartupFrame(BE32(0x7fffffff), &body, &consumed, &err), DecodeState::kError);
  EXPECT_EQ(DecodeStartupFrame(BE32(8).substr(0, 3), &body, &consumed, &err),
            DecodeState::kNeedMore);
  EXPECT_EQ(DecodeStartupFrame(BE32(12) + "abc", &body, &consumed, &err), DecodeState::kNeedMore);
}

// --- Startup packets -------------------------------------------------------

TEST(ParseStartupPacket, ParsesUserDatabaseAndOptions) {
  Body b;
  b.I32(kProtocolVersion3)
      .Str("user")
      .Str("alice")
      .Str("database")
      .Str("db1")
      .Str("application_name")
      .Str("psql")
      .I8(0);
  Result<StartupPacket> p = ParseStartupPacket(b.str());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->kind, StartupPacket::Kind::kStartup);
  EXPECT_EQ(p->version, kProtocolVersion3);
  ASSERT_NE(p->Param("user"), nullptr);
  EXPECT_EQ(*p->Param("user"), "alice");
  EXPECT_EQ(*p->Param("database"), "db1");
  EXPECT_EQ(p->Param("options"), nullptr);
}

TEST(ParseStartupPacket, RecognizesSslGssAndCancelRequests) {
  Result<StartupPacket> ssl = ParseStartupPacket(Body().I32(kSslRequestCode).str());
  ASSERT_TRUE(ssl.ok());
  EXPECT_EQ(ssl->kind, StartupPacket::Kind::kSslRequest);
  Result<StartupPacket> gss = ParseStartupPacket(Body().I32(kGssEncRequestCode).str());
  ASSERT_TRUE(gss.ok());
  EXPECT_EQ(gss->kind, StartupPacket::Kind::kGssEncRequest);
  Result<StartupPacket> cancel =
      ParseStartupPacket(Body().I32(kCancelRequestCode).I32(1234).I32(-5).str());
  ASSERT_TRUE(cancel.ok());
  EXPECT_EQ(cancel->kind, StartupPacket::Kind::kCancelRequest);
  EXPECT_EQ(cancel->cancel_pid, 1234);
  EXPECT_EQ(cancel->cancel_secret, -5);
}

TEST(ParseStartupPacket, TruncatedCancelRequestIsError) {
  Result<StartupPacket> p = ParseStartupPacket(Body().I32(kCancelRequestCode).I32(1).str());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), "08P01");
}

TEST(ParseStartupPacket, MissingTerminatorIsError) {
  Body b;
  b.I32(kProtocolVersion3).Str("user").Raw("alice");  // no NUL after value
  Result<StartupPacket> p = ParseStartupPacket(b.str());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), "08P01");
  EXPECT_NE(p.status().message().find("missing string terminator"), std::string::npos);
}

TEST(ParseStartupPacket, OtherProtocolVersionIsReportedNotParsed) {
  Result<StartupPacket> p = ParseStartupPacket(Body().I32(2 << 16).Raw("garbage").str());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->version >> 16, 2);
}

// --- Extended-protocol bodies ---------------------------------------------

TEST(ParseBindMessage, ParsesFormatsNullsAndValues) {
  Body b;
  b.Str("portal").Str("stmt").I16(2).I16(0).I16(1).I16(3);
  b.I32(2).Raw("42").I32(-1).I32(4).Raw(std::string("\0\0\0\x07", 4));
  b.I16(1).I16(1);
  Result<BindMessage> m = ParseBindMessage(b.str());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->portal, "portal");
  EXPECT_EQ(m->statement, "stmt");
  EXPECT_EQ(m->param_formats, (std::vector<int16_t>{0, 1}));
  ASSERT_EQ(m->params.size(), 3u);
  EXPECT_EQ(*m->params[0], "42");
  EXPECT_FALSE(m->params[1].has_value());
  EXPECT_EQ(m->params[2]->size(), 4u);
  EXPECT_EQ(m->result_formats, (std::vector<int16_t>{1}));
}

TEST(ParseBindMessage, ParameterLengthBeyondBodyIsError) {
  Body b;
  b.Str("").Str("").I16(0).I16(1).I32(100).Raw("short").I16(0);
  Result<BindMessage> m = ParseBindMessage(b.str());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), "08P01");
  EXPECT_NE(m.status().message().find("truncated parameter value"), std::string::npos);
}

TEST(ParseBindMessage, NegativeParameterLengthOtherThanNullIsError) {
  Body b;
  b.Str("").Str("").I16(0).I16(1).I32(-7).I16(0);
  Result<BindMessage> m = ParseBindMessage(b.str());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("invalid length -7"), std::string::npos);
}

TEST(ParseBindMessage, HugeCountsAreRejectedWithoutAllocating) {
  Body b;
  b.Str("").Str("").I16(32767);  // claims 32767 format codes, has none
  Result<BindMessage> m = ParseBindMessage(b.str());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), "08P01");
}

TEST(ParseBindMessage, TrailingBytesAreError) {
  Body b;
  b.Str("").Str("").I16(0).I16(0).I16(0).Raw("x");
  Result<BindMessage> m = ParseBindMessage(b.str());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("trailing"), std::string::npos);
}

TEST(ParseParseMessage, ParsesNameQueryAndTypes) {
  Body b;
  b.Str("s1").Str("SELECT $1").I16(1).I32(23);
  Result<ParseMessage> m = ParseParseMessage(b.str());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->statement, "s1");
  EXPECT_EQ(m->query, "SELECT $1");
  EXPECT_EQ(m->param_types, (std::vector<uint32_t>{23}));
}

TEST(ParseParseMessage, MissingQueryTerminatorIsError) {
  Result<ParseMessage> m = ParseParseMessage(Body().Str("s1").Raw("SELECT").str());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), "08P01");
}

TEST(ParseParseMessage, NegativeTypeCountIsError) {
  Result<ParseMessage> m = ParseParseMessage(Body().Str("").Str("x").I16(-1).str());
  ASSERT_FALSE(m.ok());
}

TEST(ParseDescribeMessage, RejectsUnknownTargetType) {
  EXPECT_TRUE(ParseDescribeMessage(Body().I8('S').Str("x").str()).ok());
  EXPECT_TRUE(ParseDescribeMessage(Body().I8('P').Str("").str()).ok());
  Result<DescribeMessage> bad = ParseDescribeMessage(Body().I8('Z').Str("x").str());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), "08P01");
  EXPECT_FALSE(ParseCloseMessage("").ok());
}

TEST(ParseExecuteMessage, ParsesRowLimitAndRejectsTruncation) {
  const std::string body = Body().Str("p").I32(10).str();  // views point into it
  Result<ExecuteMessage> m = ParseExecuteMessage(body);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->portal, "p");
  EXPECT_EQ(m->max_rows, 10);
  EXPECT_FALSE(ParseExecuteMessage(Body().Str("p").I16(1).str()).ok());
}

TEST(ParseQueryMessage, RequiresExactlyOneTerminatedString) {
  EXPECT_TRUE(ParseQueryMessage(Body().Str("SELECT 1").str()).ok());
  EXPECT_FALSE(ParseQueryMessage("SELECT 1").ok());
  EXPECT_FALSE(ParseQueryMessage(Body().Str("a").Str("b").str()).ok());
}

TEST(ParseEmptyMessage, SyncWithBodyIsError) {
  EXPECT_TRUE(ParseEmptyMessage('S', "").ok());
  Status st = ParseEmptyMessage('S', "x");
  EXPECT_EQ(st.code(), "08P01");
  EXPECT_NE(st.message().find("Sync"), std::string::npos);
}

// --- Backend writer ---------------------------------------------------------

TEST(BackendWriter, ErrorResponseCarriesAllFields) {
  std::string out;
  BackendWriter w(&out);
  Status st("42601", "syntax error at or near \"FROM\"", "Check the query.", 8);
  st.WithDetail("some detail");
  w.ErrorResponse(st);
  ASSERT_GE(out.size(), 5u);
  EXPECT_EQ(out[0], 'E');
  EXPECT_EQ(GetUint32(out.data() + 1), out.size() - 1);
  auto f = ErrorFields(out.substr(5));
  EXPECT_EQ(f['S'], "ERROR");
  EXPECT_EQ(f['V'], "ERROR");
  EXPECT_EQ(f['C'], "42601");
  EXPECT_EQ(f['M'], "syntax error at or near \"FROM\"");
  EXPECT_EQ(f['D'], "some detail");
  EXPECT_EQ(f['H'], "Check the query.");
  EXPECT_EQ(f['P'], "8");
}

TEST(BackendWriter, ErrorResponseOmitsEmptyOptionalFields) {
  std::string out;
  BackendWriter w(&out);
  w.ErrorResponse(Status("XX000", "boom"), "FATAL");
  auto f = ErrorFields(out.substr(5));
  EXPECT_EQ(f['S'], "FATAL");
  EXPECT_EQ(f.count('D'), 0u);
  EXPECT_EQ(f.count('H'), 0u);
  EXPECT_EQ(f.count('P'), 0u);
}

TEST(BackendWriter, DataRowEncodesNullsAndLengths) {
  std::string out;
  BackendWriter w(&out);
  w.DataRowText({std::string("ab"), std::nullopt, std::string("")});
  std::string expected = std::string("D") + BE32(4 + 2 + 4 + 2 + 4 + 4) + std::string("\0\3", 2) +
                         BE32(2) + "ab" + BE32(0xFFFFFFFFu) + BE32(0);
  EXPECT_EQ(out, expected);
}

TEST(BackendWriter, RowDescriptionUsesPerColumnFormats) {
  std::string out;
  BackendWriter w(&out);
  std::vector<ColumnDesc> cols = {{"a", oid::kInt4, 4, -1}, {"b", oid::kText, -1, -1}};
  w.RowDescription(cols, {1});
  // Both columns get format 1 when one code is given: the last 2 bytes of each
  // field block are the format.
  size_t first_end = 5 + 2 + 2 + 18;  // "a\0" + 18 bytes of attributes
  EXPECT_EQ(GetUint16(out.data() + first_end - 2), 1);
  EXPECT_EQ(GetUint16(out.data() + out.size() - 2), 1);
  EXPECT_EQ(GetUint32(out.data() + 1), out.size() - 1);
}

TEST(BackendWriter, SimpleMessagesHaveExactBytes) {
  std::string out;
  BackendWriter w(&out);
  w.ReadyForQuery('I');
  w.CommandComplete("SELECT 1");
  w.CopyInResponse(2);
  std::string expected = std::string("Z") + BE32(5) + "I" + "C" + BE32(4 + 9) +
                         std::string("SELECT 1\0", 9) + "G" + BE32(4 + 1 + 2 + 4) +
                         std::string("\0\0\2\0\0\0\0", 7);
  EXPECT_EQ(out, expected);
}

TEST(BackendWriter, CStringCutsAtEmbeddedNul) {
  std::string out;
  BackendWriter w(&out);
  w.CommandComplete(std::string_view("AB\0CD", 5));
  EXPECT_EQ(out, std::string("C") + BE32(7) + std::string("AB\0", 3));
}

// Random bodies must never crash a parser or read out of bounds (run under
// ASan to make the second half of that claim meaningful).
TEST(Parsers, RandomBodiesAreRejectedOrParsedWithoutCrashing) {
  uint64_t seed = 12345;
  auto next = [&] {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
  };
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string body(next() % 40, '\0');
    for (char& c : body) {
      // Mostly small values so that counts and lengths are sometimes plausible.
      uint64_t r = next();
      c = static_cast<char>(r % 4 == 0 ? r >> 8 : r % 3);
    }
    parsed += ParseBindMessage(body).ok();
    parsed += ParseParseMessage(body).ok();
    parsed += ParseDescribeMessage(body).ok();
    parsed += ParseExecuteMessage(body).ok();
    parsed += ParseQueryMessage(body).ok();
    parsed += ParseCopyFailMessage(body).ok();
    parsed += ParseStartupPacket(body).ok();
    Frame f;
    size_t consumed = 0;
    Status err;
    if (DecodeFrame(body, 64, &f, &consumed, &err) == DecodeState::kFrame) {
      EXPECT_LE(consumed, body.size());
    }
  }
  EXPECT_GT(parsed, 0);  // the generator does produce some valid bodies
}

}  // namespace
}  // namespace sb::pgwire
