#include <cstdio>
int main() {
  std::puts("scratchbird: not built yet");
  return 1;
}
