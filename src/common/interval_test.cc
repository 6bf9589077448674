// Expected texts are PostgreSQL 15's output for the same input.
#include "common/interval.h"

#include <gtest/gtest.h>

#include "common/datetime.h"

namespace sb {
namespace {

std::string Show(std::string_view input) {
  auto iv = ParseIntervalInput(input);
  return iv.ok() ? FormatIntervalOutput(*iv) : "ERROR " + iv.status().code();
}

TEST(IntervalTest, InputAndOutputAsPostgres) {
  EXPECT_EQ(Show("1 year 2 months 3 days 4 hours 5 minutes 6.5 seconds"),
            "1 year 2 mons 3 days 04:05:06.5");
  EXPECT_EQ(Show("-1 day 2 hours"), "-1 days +02:00:00");
  EXPECT_EQ(Show("1 day -2 hours"), "1 day -02:00:00");
  EXPECT_EQ(Show("1.5 hours"), "01:30:00");
  EXPECT_EQ(Show("1.5 days"), "1 day 12:00:00");
  EXPECT_EQ(Show("1.5 months"), "1 mon 15 days");
  EXPECT_EQ(Show("1.5 years"), "1 year 6 mons");
  EXPECT_EQ(Show("2 weeks"), "14 days");
  EXPECT_EQ(Show("10"), "00:00:10");
  EXPECT_EQ(Show("0"), "00:00:00");
  EXPECT_EQ(Show("@ 1 day ago"), "-1 days");
  EXPECT_EQ(Show("-01:02:03"), "-01:02:03");
  EXPECT_EQ(Show("100 hours"), "100:00:00");
  EXPECT_EQ(Show("3 days 04:05"), "3 days 04:05:00");
  EXPECT_EQ(Show("1 mon -1 day"), "1 mon -1 days");
  EXPECT_EQ(Show("1d 2h 3m 4s"), "1 day 02:03:04");
  EXPECT_EQ(Show("250 ms"), "00:00:00.25");
  EXPECT_EQ(Show("abc"), "ERROR 22007");
  EXPECT_EQ(Show("1 fortnight"), "ERROR 22007");
  EXPECT_EQ(Show(""), "ERROR 22007");
  EXPECT_EQ(Show("99999999999 days"), "ERROR 22015");
}

TEST(IntervalTest, StoredFormRoundTripsAndSortsBySpan) {
  auto one_month = *ParseIntervalInput("1 mon");
  auto thirty_days = *ParseIntervalInput("30 days");
  auto minus_day = *ParseIntervalInput("-1 day");
  auto zero = *ParseIntervalInput("0");
  const std::string m = EncodeStoredInterval(one_month);
  EXPECT_EQ(*DecodeStoredInterval(m), one_month);
  // Equal spans share the key (PostgreSQL: '1 mon' = '30 days').
  EXPECT_EQ(m.substr(0, 31), EncodeStoredInterval(thirty_days).substr(0, 31));
  EXPECT_LT(EncodeStoredInterval(minus_day), EncodeStoredInterval(zero));
  EXPECT_LT(EncodeStoredInterval(zero), EncodeStoredInterval(*ParseIntervalInput("1 us")));
  EXPECT_FALSE(DecodeStoredInterval("1 2 3").ok());
}

TEST(IntervalTest, TimestampArithmeticClampsToTheMonthsLength) {
  auto at = [](const char* ts) { return *TimestampToMicros(ts); };
  auto plus = [&](const char* ts, const char* iv) {
    auto r = AddIntervalToTimestamp(at(ts), *ParseIntervalInput(iv));
    return r.ok() ? MicrosToTimestamp(*r) : "ERROR " + r.status().code();
  };
  EXPECT_EQ(plus("2024-01-31 10:00:00", "1 mon"), "2024-02-29 10:00:00.000000");
  EXPECT_EQ(plus("2023-01-31 10:00:00", "1 mon"), "2023-02-28 10:00:00.000000");
  EXPECT_EQ(plus("2024-03-31 00:00:00", "-1 mon 1 day"), "2024-03-01 00:00:00.000000");
  EXPECT_EQ(plus("2024-01-01 00:00:00", "-1 day -00:00:01"), "2023-12-30 23:59:59.000000");
  EXPECT_EQ(plus("9999-12-31 00:00:00", "1 day"), "ERROR 22008");
  EXPECT_EQ(FormatIntervalOutput(
                TimestampDifference(at("2024-03-01 00:00:00"), at("2024-02-28 12:00:00"))),
            "1 day 12:00:00");
  EXPECT_EQ(FormatIntervalOutput(
                TimestampDifference(at("2024-02-28 12:00:00"), at("2024-03-01 00:00:00"))),
            "-1 days -12:00:00");
}

TEST(IntervalTest, MultiplyAndDivideSpillFractionsAsPostgres) {
  auto times = [](const char* iv, double f) {
    auto r = MultiplyInterval(*ParseIntervalInput(iv), f);
    return r.ok() ? FormatIntervalOutput(*r) : "ERROR " + r.status().code();
  };
  auto over = [](const char* iv, double f) {
    auto r = DivideInterval(*ParseIntervalInput(iv), f);
    return r.ok() ? FormatIntervalOutput(*r) : "ERROR " + r.status().code();
  };
  EXPECT_EQ(times("1 mon", 1.5), "1 mon 15 days");
  EXPECT_EQ(times("1 day", 0.5), "12:00:00");
  EXPECT_EQ(times("1 hour", -2), "-02:00:00");
  EXPECT_EQ(over("1 mon", 3), "10 days");
  EXPECT_EQ(over("1 day", 3), "08:00:00");
  EXPECT_EQ(over("1 day", 0), "ERROR 22012");
  auto sum = AddIntervals(*ParseIntervalInput("1 mon 2 days"), *ParseIntervalInput("-3 hours"));
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(FormatIntervalOutput(*sum), "1 mon 2 days -03:00:00");
  EXPECT_EQ(FormatIntervalOutput(*NegateInterval(*sum)), "-1 mons -2 days +03:00:00");
}

// PostgreSQL 15's results for the same inputs.
TEST(IntervalTest, JustifyMovesWholePeriodsUpAndAlignsSigns) {
  auto justify = [](Result<Interval> (*f)(const Interval&), const char* in) {
    auto r = f(*ParseIntervalInput(in));
    return r.ok() ? FormatIntervalOutput(*r) : "ERROR " + r.status().code();
  };
  EXPECT_EQ(justify(JustifyHours, "27 hours"), "1 day 03:00:00");
  EXPECT_EQ(justify(JustifyHours, "1 day -27 hours"), "-03:00:00");
  EXPECT_EQ(justify(JustifyDays, "35 days"), "1 mon 5 days");
  EXPECT_EQ(justify(JustifyDays, "1 mon -40 days"), "-10 days");
  EXPECT_EQ(justify(JustifyInterval, "1 mon -1 hour"), "29 days 23:00:00");
  EXPECT_EQ(justify(JustifyInterval, "-35 days -25 hours"), "-1 mons -6 days -01:00:00");
  EXPECT_EQ(justify(JustifyDays, "2147483647 days 2147483647 mons"), "ERROR 22008");
}

TEST(IntervalTest, AgeBorrowsFromTheEarlierMonth) {
  auto age = [](const char* a, const char* b) {
    return FormatIntervalOutput(AgeBetween(*TimestampToMicros(a), *TimestampToMicros(b)));
  };
  EXPECT_EQ(age("2023-03-01 00:00:00", "2023-01-31 00:00:00"), "1 mon 1 day");
  EXPECT_EQ(age("2024-03-01 00:00:00", "2024-01-31 00:00:00"), "1 mon 1 day");
  EXPECT_EQ(age("2024-01-31 00:00:00", "2024-03-01 00:00:00"), "-1 mons -1 days");
}

TEST(IntervalTest, MakeIntervalAddsItsPartsAndRefusesOverflow) {
  EXPECT_EQ(FormatIntervalOutput(*MakeInterval(1, 2, 3, 4, 5, 6, 7.5)),
            "1 year 2 mons 25 days 05:06:07.5");
  EXPECT_EQ(FormatIntervalOutput(*MakeInterval(0, 0, 2, 0, 0, 90, 0)), "14 days 01:30:00");
  // PostgreSQL 15 wraps around to -1 years here; later releases raise 22008.
  auto wrapped = MakeInterval(2147483647, 0, 0, 0, 0, 0, 0);
  ASSERT_FALSE(wrapped.ok());
  EXPECT_EQ(wrapped.status().code(), "22008");
}

}  // namespace
}  // namespace sb
