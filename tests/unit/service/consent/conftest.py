"""Staff-side fixtures (see tests/fixtures/staff.py)."""

from tests.fixtures.staff import env, fast_hashing  # noqa: F401
