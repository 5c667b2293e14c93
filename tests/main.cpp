// The unit-test runner (doctest). Every tests/test_*.cpp listed in tests/sources.txt links in.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
