"""Plain helpers the tests share: builders of bank files and workbooks, and
snapshots of the books. Fixtures live in the ``conftest.py`` files."""
