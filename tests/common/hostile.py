"""What a hostile payer or bank puts into a statement, for the tests that
show it never acts: script for a browser, formulas for a spreadsheet."""

from __future__ import annotations

# An XHTML script element, in a namespace the camt parser ignores. Rendered by
# a browser (an XML document served as such), it signs off 2025 with the
# viewer's session: it fetches the CSRF token, then posts the sign-off.
SCRIPT = (
    '<h:script xmlns:h="http://www.w3.org/1999/xhtml"><![CDATA['
    "fetch('/api/csrf').then(r => r.json()).then(t => fetch('/api/year-end/2025/sign-off', {method: 'POST', "
    "headers: {'Content-Type': 'application/json', 'X-CSRFToken': t.csrf_token}, "
    "body: JSON.stringify({auditor: 'signed by XSS', opinion_date: '2026-01-15'})}));"
    "]]></h:script>"
)

# Payer names that a spreadsheet would run as formulas.
FORMULAS = ['=HYPERLINK("http://evil.invalid","click")', "+41 CMD", "-2+3", "@SUM(A1)"]


def with_script(statement: str) -> str:
    """The camt.053 ``statement`` (still valid) carrying :data:`SCRIPT`."""
    return statement.replace("</Stmt>", "</Stmt>" + SCRIPT, 1)
