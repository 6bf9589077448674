// Expected strings are PostgreSQL 15's to_char output (TimeZone UTC).
#include "common/datetime_format.h"

#include <gtest/gtest.h>

#include "common/datetime.h"

namespace sb {
namespace {

std::string Fmt(const char* ts, const char* format, bool tz = false) {
  auto r = FormatDateTimeTemplate(*TimestampToMicros(ts), format, tz);
  return r.ok() ? *r : "ERROR " + r.status().code();
}

TEST(DateTimeFormatTest, NumbersNamesAndFillMode) {
  const char* ts = "2024-03-05 14:07:09.123456";
  EXPECT_EQ(Fmt(ts, "YYYY-MM-DD HH24:MI:SS.MS US"), "2024-03-05 14:07:09.123 123456");
  EXPECT_EQ(Fmt(ts, "HH HH12 AM am P.M."), "02 02 PM pm P.M.");
  EXPECT_EQ(Fmt(ts, "Month|Mon|MONTH|month|FMMonth"), "March    |Mar|MARCH    |march    |March");
  EXPECT_EQ(Fmt(ts, "Day|Dy|DY|day|FMDay"), "Tuesday  |Tue|TUE|tuesday  |Tuesday");
  EXPECT_EQ(Fmt(ts, "DDD D ID Q WW W IW IYYY IY I CC J"), "065 3 2 1 10 1 10 2024 24 4 21 2460375");
  EXPECT_EQ(Fmt(ts, "Y,YYY YYY YY Y"), "2,024 024 24 4");
  EXPECT_EQ(Fmt(ts, "DDth FMDDth FMDDTH"), "05th 5th 5TH");
  EXPECT_EQ(Fmt(ts, "FF1 FF3 FF6"), "1 123 123456");
  EXPECT_EQ(Fmt("0005-07-01 00:00:00", "YYYY FMYYYY CC Y,YYY"), "0005 5 01 0,005");
}

TEST(DateTimeFormatTest, IsoWeeksTimeZonesAndLiteralText) {
  EXPECT_EQ(Fmt("2021-01-01 00:00:00", "IYYY-IW ID WW DDD \"Time\" Time FMHH12:MI am"),
            "2020-53 5 01 001 Time T0me 12:00 am");
  EXPECT_EQ(Fmt("2024-12-31 00:00:00", "TZ OF IW IYYY", true), "UTC +00 01 2025");
  EXPECT_EQ(Fmt("2024-12-31 00:00:00", "TZ|OF"), "|+00");  // timestamp without time zone
  EXPECT_EQ(Fmt("2024-01-01 00:00:00", "\"a\\\"b\" \\\"x"), "a\"b \"x");
  EXPECT_EQ(Fmt("2024-01-01 00:00:00", "11th 12TH 21st 22nd 23rd"),
            "11th 12TH 21st 22n2 23r2");  // d is the day of the week
  EXPECT_EQ(Fmt("2024-01-21 00:00:00", "FMDDth FMDDTH"), "21st 21ST");
}

TEST(DateTimeFormatTest, PatternsWithoutAFaithfulRenderingAreRefused) {
  EXPECT_EQ(Fmt("2024-01-01 00:00:00", "RM"), "ERROR 0A000");
  EXPECT_EQ(Fmt("2024-01-01 00:00:00", "SSSS"), "ERROR 0A000");
  EXPECT_EQ(Fmt("2024-01-01 00:00:00", "TZH:TZM"), "ERROR 0A000");
  EXPECT_EQ(Fmt("2024-01-01 00:00:00", "TMMonth"), "ERROR 0A000");
}

}  // namespace
}  // namespace sb
