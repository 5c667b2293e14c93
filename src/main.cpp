#include <cstdio>
int main() { std::puts("edgerl"); return 0; }
