import pytest

# A test that only makes sense with the real services (several processes, a worker, Redis).
services_only = pytest.mark.parametrize("tier", [pytest.param("postgres", marks=pytest.mark.services)], indirect=True)

# A test of what no store changes (a response's shape, a header, a key): the embedded tier alone.
embedded_only = pytest.mark.parametrize("tier", ["sqlite"], indirect=True)
