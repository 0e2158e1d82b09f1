#include "ps/table_config.h"

namespace embedps::ps {

StatusOr<Initializer> ParseInitializer(const std::string& name) {
  if (name == "zeros") return Initializer::kZeros;
  if (name == "uniform") return Initializer::kUniform;
  if (name == "normal") return Initializer::kNormal;
  return InvalidArgument("unknown initializer '" + name + "' (expected zeros, uniform or normal)");
}

const char* InitializerName(Initializer init) {
  switch (init) {
    case Initializer::kZeros: return "zeros";
    case Initializer::kUniform: return "uniform";
    case Initializer::kNormal: return "normal";
  }
  return "?";
}

}  // namespace embedps::ps
