import pytest

# A test that only makes sense with the real services (several processes, a worker, Redis).
services_only = pytest.mark.parametrize("tier", [pytest.param("postgres", marks=pytest.mark.services)], indirect=True)
