// SPDX-License-Identifier: MIT
/* entry/format.c: the stub's vsnprintf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "translate.h"

static void expect(const char *want, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vformat(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));
}

static void test_conversions(void **state)
{
	(void)state;
	expect("a 42 -7 ff 0x00c0", "a %u %d %x 0x%04x", 42u, -7, 255u, 0xc0u);
	expect("18446744073709551615", "%llu", ~0ULL);
	expect("fd00000000", "%llx", 0xfd00000000ULL);
	expect("[hi] x %", "[%s] %c %%", "hi", 'x');
	expect("(null)", "%s", (char *)NULL);
	expect("%q", "%q");
}

static void test_truncation(void **state)
{
	char buf[6];

	(void)state;
	assert_int_equal(format(buf, sizeof(buf), "%s", "abcdefgh"), 5);
	assert_string_equal(buf, "abcde");
	assert_int_equal(format(buf, 1, "xyz"), 0);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conversions),
		cmocka_unit_test(test_truncation),
	};

	return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
