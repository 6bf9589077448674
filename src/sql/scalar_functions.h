// Translation of PostgreSQL's scalar (non-aggregate) functions, GREATEST /
// LEAST and the ^ operator into SQLite SQL over the stored representation.
// Argument types are resolved as PostgreSQL's function resolution would
// (ceil(integer) is ceil(double precision), round(numeric, int) needs an
// integer scale, lower(integer) does not exist, ...), and each result
// carries PostgreSQL's result type. Semantics that SQLite's built-ins do not
// share are implemented by the SQL functions of exec/pg_functions.h.
// Functions without a faithful translation are refused with 0A000.
#pragma once

#include <string>

#include "sql/translator.h"

namespace sb::sql {

// A FuncCall that is not an aggregate. `display_name` is the name PostgreSQL
// shows in errors ("substr", "pg_catalog.extract").
Result<Translated> TranslateScalarFunction(Translator& tr, const std::string& name,
                                           const std::string& display_name, const Json& func_call,
                                           int location);

// GREATEST(...) / LEAST(...) (a MinMaxExpr node).
Result<Translated> TranslateMinMax(Translator& tr, const Json& node);

// l ^ r: power(), as PostgreSQL's ^ operator.
Result<Translated> TranslatePowerOperator(Translator& tr, const Json& l, const Json& r,
                                          int location);

}  // namespace sb::sql
