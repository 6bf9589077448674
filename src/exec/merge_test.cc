#include "exec/merge.h"

#include <gtest/gtest.h>

namespace sb::exec {
namespace {

Row R(Value v, int64_t tag) {
  return Row{std::move(v), tag};
}

TEST(MergeTest, AscendingPutsNullsLastByDefault) {
  std::vector<std::vector<Row>> runs = {
      {R(int64_t{1}, 0), R(int64_t{5}, 1), R(std::monostate{}, 2)},
      {R(int64_t{2}, 3), R(std::monostate{}, 4)}};
  auto out = MergeSorted(runs, {{0, false, false}}, 0, std::nullopt);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(std::get<int64_t>(out[0][0]), 1);
  EXPECT_EQ(std::get<int64_t>(out[1][0]), 2);
  EXPECT_EQ(std::get<int64_t>(out[2][0]), 5);
  EXPECT_TRUE(IsNull(out[3][0]));
  EXPECT_TRUE(IsNull(out[4][0]));
}

TEST(MergeTest, DescendingWithNullsFirst) {
  std::vector<std::vector<Row>> runs = {
      {R(std::monostate{}, 0), R(int64_t{9}, 1), R(int64_t{3}, 2)}, {R(int64_t{7}, 3)}};
  auto out = MergeSorted(runs, {{0, true, true}}, 0, std::nullopt);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_TRUE(IsNull(out[0][0]));
  EXPECT_EQ(std::get<int64_t>(out[1][0]), 9);
  EXPECT_EQ(std::get<int64_t>(out[2][0]), 7);
  EXPECT_EQ(std::get<int64_t>(out[3][0]), 3);
}

TEST(MergeTest, OffsetAndLimitApplyToTheMergedStream) {
  std::vector<std::vector<Row>> runs = {{R(int64_t{1}, 0), R(int64_t{3}, 0), R(int64_t{5}, 0)},
                                        {R(int64_t{2}, 0), R(int64_t{4}, 0), R(int64_t{6}, 0)}};
  auto out = MergeSorted(runs, {{0, false, false}}, 2, 3);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(std::get<int64_t>(out[0][0]), 3);
  EXPECT_EQ(std::get<int64_t>(out[2][0]), 5);
}

TEST(MergeTest, TextComparesBytewiseLikeCollationC) {
  EXPECT_LT(CompareValues(std::string("Z"), std::string("a")), 0);
  EXPECT_LT(CompareValues(std::string("ab"), std::string("abc")), 0);
  EXPECT_EQ(CompareValues(std::string("x"), std::string("x")), 0);
}

TEST(MergeTest, MixedIntegerAndRealCompareNumerically) {
  EXPECT_LT(CompareValues(int64_t{2}, 2.5), 0);
  EXPECT_GT(CompareValues(3.0, int64_t{2}), 0);
}

TEST(MergeTest, SecondKeyBreaksTies) {
  std::vector<std::vector<Row>> runs = {{Row{int64_t{1}, std::string("b")}},
                                        {Row{int64_t{1}, std::string("a")}}};
  auto out = MergeSorted(runs, {{0, false, false}, {1, false, false}}, 0, std::nullopt);
  EXPECT_EQ(std::get<std::string>(out[0][1]), "a");
}

}  // namespace
}  // namespace sb::exec

namespace sb::exec {
namespace {

TEST(MergeTest, DecimalTextOrdersByValue) {
  EXPECT_LT(CompareDecimalText("9.5", "10.25"), 0);
  EXPECT_LT(CompareDecimalText("-10", "-9.99"), 0);
  EXPECT_LT(CompareDecimalText("-0.5", "0"), 0);
  EXPECT_LT(CompareDecimalText("0.05", "0.5"), 0);
  EXPECT_LT(CompareDecimalText("0.5", "0.51"), 0);
  EXPECT_LT(CompareDecimalText("-0.51", "-0.5"), 0);
  EXPECT_EQ(CompareDecimalText("1.50", "1.5000"), 0);
  EXPECT_EQ(CompareDecimalText("0.000", "-0"), 0);
  EXPECT_EQ(CompareDecimalText("007", "7.0"), 0);
  EXPECT_GT(
      CompareDecimalText("123456789012345678901234567890.1", "123456789012345678901234567890"), 0);
  EXPECT_LT(CompareDecimalText("99", "not a number"), 0);
}

TEST(MergeTest, DecimalTextSortKey) {
  std::vector<std::vector<Row>> runs = {
      {R(std::string("-7.5925925925925926"), 0), R(std::string("0.85"), 1)},
      {R(std::string("-0.4736842105263158"), 2), R(std::string("10.5"), 3)}};
  auto out = MergeSorted(runs, {{0, false, false, true}}, 0, std::nullopt);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(std::get<int64_t>(out[0][1]), 0);
  EXPECT_EQ(std::get<int64_t>(out[1][1]), 2);
  EXPECT_EQ(std::get<int64_t>(out[2][1]), 1);
  EXPECT_EQ(std::get<int64_t>(out[3][1]), 3);
}

}  // namespace
}  // namespace sb::exec
