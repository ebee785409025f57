"""The books: load (cached), validate (plugins), write (one locked writer),
registry of States Parties, matching rules, year close and lock."""
