"""Staff-side fixtures (see tests/fixtures/staff.py)."""

from tests.fixtures.staff import any_env, env, fast_hashing  # noqa: F401
