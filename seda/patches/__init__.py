"""Every change seda makes to a library's private code, one module per library.

Each module names the release it was written for (`PATCHED_FOR = "<package>==<version>"`) and
the private attributes it touches with the signatures it expects (`PATCHED`);
tests/common/test_patches.py fails when the installed release or a signature differs, so an
upgrade is a decision, never a surprise. Each patch says why it exists (a measured failure or an
attack) and, where it works around a library bug, the upstream reference. Nothing in `seda`
touches a library's private names outside this package; these modules import nothing of seda.
"""
