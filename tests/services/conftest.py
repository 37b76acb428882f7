"""The catalog tests' fixtures (feed files, a store) serve these tests too."""

from tests.catalog.conftest import store_id, write  # noqa: F401
