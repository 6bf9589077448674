// Expected values are PostgreSQL 15's for the same rows.
#include "common/decimal_dispersion.h"

#include <gtest/gtest.h>

namespace sb {
namespace {

std::string Of(int64_t n, const char* sum, const char* squares, Dispersion kind) {
  auto r = NumericDispersion(n, sum, squares, kind);
  if (!r.ok()) return "ERROR " + r.status().code();
  return r->has_value() ? **r : "NULL";
}

TEST(DecimalDispersionTest, MatchesPostgresScalesAndRounding) {
  // 1.5, 2.25, 3: sum 6.75, squares 2.25 + 5.0625 + 9 = 16.3125.
  EXPECT_EQ(Of(3, "6.75", "16.3125", Dispersion::kStddevSamp), "0.75000000000000000000");
  EXPECT_EQ(Of(3, "6.75", "16.3125", Dispersion::kVarSamp), "0.56250000000000000000");
  EXPECT_EQ(Of(3, "6.75", "16.3125", Dispersion::kStddevPop), "0.61237243569579452455");
  EXPECT_EQ(Of(3, "6.75", "16.3125", Dispersion::kVarPop), "0.37500000000000000000");
  // 1, 2, 4 (integers).
  EXPECT_EQ(Of(3, "7", "21", Dispersion::kStddevSamp), "1.5275252316519467");
  EXPECT_EQ(Of(3, "7", "21", Dispersion::kVarSamp), "2.3333333333333333");
  // 0.001, 0.002, 0.0035.
  EXPECT_EQ(Of(3, "0.0065", "0.00001725", Dispersion::kStddevSamp), "0.001258305739211791616074");
  // Values past 64 bits.
  EXPECT_EQ(Of(3, "1111111110116.10", "990702636738289957046370.8132", Dispersion::kStddevSamp),
            "538135672358.9690");
  EXPECT_EQ(Of(2, "5", "13", Dispersion::kStddevSamp), "0.70710678118654752440");
}

TEST(DecimalDispersionTest, EqualValuesGiveZeroAndTooFewRowsNull) {
  EXPECT_EQ(Of(2, "2.0", "2.00", Dispersion::kStddevSamp), "0");
  EXPECT_EQ(Of(1, "7", "49", Dispersion::kVarPop), "0");
  EXPECT_EQ(Of(1, "7", "49", Dispersion::kVarSamp), "NULL");
  EXPECT_EQ(Of(0, "0", "0", Dispersion::kStddevPop), "NULL");
  EXPECT_EQ(Of(2, "x", "1", Dispersion::kVarPop), "ERROR 22P02");
}

TEST(DecimalDispersionTest, NamesMapToTheFourForms) {
  EXPECT_EQ(DispersionFromName("stddev"), Dispersion::kStddevSamp);
  EXPECT_EQ(DispersionFromName("variance"), Dispersion::kVarSamp);
  EXPECT_EQ(DispersionFromName("var_pop"), Dispersion::kVarPop);
  EXPECT_EQ(DispersionFromName("stddev_pop"), Dispersion::kStddevPop);
  EXPECT_FALSE(DispersionFromName("median").has_value());
}

}  // namespace
}  // namespace sb
