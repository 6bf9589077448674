// PostgreSQL's to_char(timestamp|timestamptz|date, format): the template
// patterns of PostgreSQL 15 (YYYY, MM, DD, HH24, MI, SS, Month, Dy, IW, ...,
// with the FM prefix and TH/th suffixes, "quoted" literal text), in the C
// locale and time zone UTC. Text that is not a pattern is copied, as in
// PostgreSQL. Patterns without a faithful rendering here (RM, SSSS, TZH,
// TZM, IDDD, TM, SP) are refused with 0A000 rather than copied as text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sb {

// micros: a timestamp as microseconds since 1970-01-01 (UTC);
// with_time_zone: the value is a timestamptz (TZ prints "UTC", not "").
Result<std::string> FormatDateTimeTemplate(int64_t micros, std::string_view format,
                                           bool with_time_zone);

}  // namespace sb
