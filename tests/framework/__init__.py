"""pvhstub's test framework: paths, the tool, files and QEMU boots for pytest.

Tests import what they need from here; fixtures that use it live in
tests/conftest.py.  Nothing here parses ELF files or setup headers by hand:
images are read through 'pvhstub inspect --json' (framework.tool.inspect).
"""
