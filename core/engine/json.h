// Event payloads as JSON text, built with Boost.JSON.
#pragma once

#include <boost/json.hpp>
#include <initializer_list>
#include <string>
#include <utility>

namespace trashd {

inline std::string JsonText(
    std::initializer_list<std::pair<boost::json::string_view, boost::json::value_ref>>
        fields) {
  return boost::json::serialize(boost::json::object(fields));
}

}  // namespace trashd
