#include "common/status.h"

#include <gtest/gtest.h>

namespace sb {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  SB_ASSIGN_OR_RETURN(int h, Half(x));
  SB_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, OkHasSuccessCode) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), "00000");
}

TEST(StatusTest, ErrorCarriesSqlstateMessageAndHint) {
  Status s = Status::NotSupported("joins", "co-locate");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), "0A000");
  EXPECT_EQ(s.hint(), "co-locate");
  EXPECT_EQ(s.Annotate("shard 3").message(), "shard 3: joins");
}

TEST(StatusTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_FALSE(Quarter(6).ok());
  EXPECT_EQ(Quarter(6).status().message(), "odd");
}

}  // namespace
}  // namespace sb
