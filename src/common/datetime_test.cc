#include "common/datetime.h"

#include <gtest/gtest.h>

namespace sb {
namespace {

TEST(DatetimeTest, CivilDaysKnownPoints) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2026, 1, 5), 20458);
  EXPECT_EQ(DaysFromCivil(1, 1, 1), -719162);
  EXPECT_EQ(DaysFromCivil(9999, 12, 31), 2932896);
}

TEST(DatetimeTest, CivilRoundTripEveryDayInRange) {
  int64_t expected = DaysFromCivil(1, 1, 1);
  for (int y = 1; y <= 9999; ++y) {
    for (int m = 1; m <= 12; ++m) {
      for (int d = 1; d <= DaysInMonth(y, m); ++d) {
        ASSERT_EQ(DaysFromCivil(y, m, d), expected) << y << "-" << m << "-" << d;
        CivilDate c = CivilFromDays(expected);
        ASSERT_EQ(c.year, y);
        ASSERT_EQ(c.month, m);
        ASSERT_EQ(c.day, d);
        ++expected;
      }
    }
  }
}

TEST(DatetimeTest, LeapYears) {
  EXPECT_TRUE(IsLeapYear(2000));
  EXPECT_FALSE(IsLeapYear(1900));
  EXPECT_TRUE(IsLeapYear(2024));
  EXPECT_FALSE(IsValidCivil(2026, 2, 29));
  EXPECT_TRUE(IsValidCivil(2024, 2, 29));
  EXPECT_FALSE(IsValidCivil(2026, 13, 1));
}

TEST(DatetimeTest, CanonicalDate) {
  EXPECT_EQ(*DateToDays("1970-01-02"), 1);
  EXPECT_EQ(DaysToDate(20458), "2026-01-05");
  EXPECT_EQ(DaysToDate(-719162), "0001-01-01");
  EXPECT_EQ(DateToDays("2026-1-05").status().code(), "22007");
  EXPECT_EQ(DateToDays("2026-02-30").status().code(), "22008");
}

TEST(DatetimeTest, CanonicalTimestamp) {
  EXPECT_EQ(*TimestampToMicros("1970-01-01 00:00:00.000001"), 1);
  EXPECT_EQ(*TimestampToMicros("1969-12-31 23:59:59.999999"), -1);
  EXPECT_EQ(*TimestampToMicros("2026-01-05 10:00:00.500000"),
            20458 * kMicrosPerDay + 36000 * kMicrosPerSecond + 500000);
  EXPECT_EQ(*TimestampToMicros("2026-01-05 10:00:00"),
            20458 * kMicrosPerDay + 36000 * kMicrosPerSecond);
  EXPECT_EQ(MicrosToTimestamp(-1), "1969-12-31 23:59:59.999999");
  EXPECT_EQ(MicrosToTimestamp(0), "1970-01-01 00:00:00.000000");
  EXPECT_EQ(MicrosToTimestamp(MaxStorableMicros()), "9999-12-31 23:59:59.999999");
  EXPECT_EQ(MicrosToTimestamp(MinStorableMicros()), "0001-01-01 00:00:00.000000");
  EXPECT_EQ(TimestampToMicros("2026-01-05T10:00:00").status().code(), "22007");
  EXPECT_EQ(TimestampToMicros("2026-01-05 24:00:00").status().code(), "22008");
  EXPECT_EQ(FormatTimestampOutput(1), "1970-01-01 00:00:00.000001");
  EXPECT_EQ(FormatTimestampOutput(kMicrosPerSecond / 2), "1970-01-01 00:00:00.5");
  EXPECT_EQ(FormatTimestampOutput(0), "1970-01-01 00:00:00");
}

TEST(DatetimeTest, InputParsing) {
  EXPECT_EQ(*ParseDateInput(" 2026-1-5 "), 20458);
  EXPECT_EQ(ParseDateInput("2026-01-05x").status().code(), "22007");
  EXPECT_EQ(ParseDateInput("10000-01-01").status().code(), "22008");
  EXPECT_EQ(*ParseTimestampInput("1970-01-01 00:00:00.9999995", false), 1000000);
  EXPECT_EQ(*ParseTimestampInput("1970-01-01 01:00+01", true), 0);
  EXPECT_EQ(*ParseTimestampInput("1970-01-01 01:00+01", false), 3600 * kMicrosPerSecond);
  EXPECT_EQ(*ParseTimestampInput("1970-01-01 00:00 -0130", true), 5400 * kMicrosPerSecond);
  EXPECT_EQ(ParseTimestampInput("0001-01-01 00:00+01", true).status().code(), "22008");
  EXPECT_EQ(ParseTimestampInput("1970-01-01 00:00 PST", true).status().code(), "22007");
}

}  // namespace
}  // namespace sb
