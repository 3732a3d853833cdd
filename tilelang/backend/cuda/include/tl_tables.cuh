// tl_tables.cuh: compile-time integer tables, the form in which the Python side hands decided
// layouts (register orders, descriptor offsets) to the device headers.
#pragma once

#include "tl.cuh"

namespace tl {

template <int... Vs>
struct Ints {
  static constexpr int values[sizeof...(Vs)] = {Vs...};
  TL_DEVICE static constexpr int at(int i) { return values[i]; }
};

}  // namespace tl
