"""The app shell in Chromium at 1366 and 390 px, over the demo books: every
page of every role fits a phone's width (no horizontal scroll) and has no
serious or critical accessibility violation (axe-core), the navigation
marks the current page, the error pages are the app's, the reports grid
names every link, the pack button says it is preparing, the States
Parties filter works as you type; the Users and Matching rules pages as an
admin uses them. Screenshots: build/screenshots/shell-*, errors-*,
users-*, rules-*."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SHOTS = Path(__file__).resolve().parents[4] / "build" / "screenshots"
WIDTHS = (1366, 390)
PAGES = {
    "dashboard": "/", "reports": "/reports/", "review": "/review/", "import": "/import/", "uploads": "/uploads/",
    "registry": "/registry/", "year-end": "/year-end/", "audit": "/audit/", "users": "/users/", "rules": "/rules/",
    "letters": "/letters/",
}
ROLE_PAGES = {
    "demo-admin": list(PAGES),
    "demo-finance": ["dashboard", "reports", "review", "import", "uploads", "registry", "year-end", "rules", "letters"],
    "demo-auditor": ["dashboard", "reports", "review", "registry", "year-end", "audit"],
    "demo-committee": ["dashboard", "reports"],
}


def open_page(browser, base: str, width: int, account: str | None = None, password: str | None = None):
    context = browser.new_context(accept_downloads=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/login")
    if account:
        page.fill("input[name=name]", account)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
    return page


def fits(page, width: int) -> str | None:
    """None when the page has no horizontal scroll at ``width`` px, else what is wider."""
    page.wait_for_load_state("load")  # measured with the style sheets applied, not before
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll <= width:
        return None
    wide = page.evaluate("""w => Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > w + 1)
        .slice(0, 4).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className).join(', ')""", width)
    return f"{scroll} px wide ({wide})"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)
    print(f"screenshot: {SHOTS / name}")


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_of_every_role_fits_and_passes_axe(demo_server, browser, axe, width):
    base, _ledger, accounts = demo_server
    problems: list[str] = []
    shown: set[str] = set()
    login = open_page(browser, base, width)
    problems += [f"login: {v}" for v in axe(login)]
    if (why := fits(login, width)) is not None:
        problems.append(f"login: {why}")
    shot(login, f"shell-login-{width}.png")
    for account, names in ROLE_PAGES.items():
        page = open_page(browser, base, width, account, accounts[account])
        for name in names:
            response = page.goto(base + PAGES[name])
            assert response.status == 200, (account, name)
            where = f"{account} {name}"
            current = page.locator("nav a[aria-current=page]")
            if current.count() != 1:
                problems.append(f"{where}: {current.count()} links marked as the current page")
            if (why := fits(page, width)) is not None:
                problems.append(f"{where}: {why}")
            problems += [f"{where}: {v}" for v in axe(page)]
            if name not in shown:
                shown.add(name)
                shot(page, f"shell-{name}-{width}.png")
        page.context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", WIDTHS)
def test_error_pages_are_the_apps_own(demo_server, browser, axe, width):
    base, _ledger, accounts = demo_server
    committee = open_page(browser, base, width, "demo-committee", accounts["demo-committee"])
    for status, path, title in ((404, "/no/such/page", "Page not found"), (403, "/users/", "Not allowed"),
                                (403, "/fava/", "Not allowed"), (400, "/?year=20x6", "The request could not be used"),
                                (405, "/year-end/close", "Not possible here")):
        response = committee.goto(base + path)
        assert response.status == status
        assert committee.inner_text("h1") == title
        assert committee.get_by_role("link", name="Back to the dashboard").count() == 1
        assert "requested URL" not in committee.content()
        assert fits(committee, width) is None and axe(committee) == []
        shot(committee, f"errors-{status}-{path.strip('/?').split('/')[0].split('=')[0]}-{width}.png")
    auditor = open_page(browser, base, width, "demo-auditor", accounts["demo-auditor"])
    # A write through /fava/ (Fava's editor saving): the plain read-only answer, as a page and as Fava's JSON.
    answer = auditor.evaluate("""async () => { const r = await fetch('/fava/x/api/source', {method: 'PUT'});
        return [r.status, (await r.json()).error]; }""")
    assert answer[0] == 405 and answer[1].startswith("The books are read-only in the auditor view")
    assert "HTTP" not in answer[1]
    if width == 1366:  # Fava's editor, saving: its notice carries our sentence (Fava itself prefixes "HTTP 405 - ")
        auditor.goto(f"{base}/fava/")
        auditor.goto(f"{base}/fava/{auditor.url.split('/')[4]}/editor/")
        auditor.wait_for_selector(".cm-content")
        auditor.wait_for_load_state("networkidle")
        auditor.click(".cm-content")
        auditor.keyboard.type("x")
        auditor.get_by_role("button", name="Save").click()
        auditor.wait_for_selector("text=The books are read-only in the auditor view")
        shot(auditor, "errors-fava-editor-save-1366.png")


def test_navigation_reports_and_feedback(demo_server, browser, axe):
    base, _ledger, accounts = demo_server
    page = open_page(browser, base, 1366, "demo-finance", accounts["demo-finance"])
    # Big figures carry their currency; the monthly chart has axis values; 2019 (the opening balance only) is no year.
    tiles = page.locator(".tile .figure .unit")
    assert tiles.count() >= 4 and tiles.first.inner_text() == "CHF"
    assert page.locator("svg text.tick[text-anchor=end]").count() >= 5
    years = page.locator("select[name=year] option").all_inner_texts()
    assert "2019" not in years and "2020" in years
    assert page.request.get(f"{base}/favicon.ico").status == 200
    # Reports: every download link has a name of its own; the HTML preview leads back.
    page.goto(f"{base}/reports/")
    names = page.eval_on_selector_all("ul.downloads a", "els => els.map(e => e.getAttribute('aria-label'))")
    assert len(names) > 100 and len(set(names)) == len(names) and "2025 annual report, PDF" in names
    page.get_by_role("link", name="2025 annual report, HTML").click()
    page.get_by_role("link", name="← Reports").click()
    page.wait_for_url(f"{base}/reports/")
    # The pack: "Preparing…" and a disabled button while it builds, then the download.
    button = page.get_by_role("button", name="Download the 2025 Committee / auditor pack (zip)")
    with page.expect_download() as info:
        button.click()
        assert page.locator("form[data-pack] button[disabled]").count() == 1
        assert page.locator("form[data-pack] button[disabled]").inner_text() == "Preparing…"
    assert info.value.suggested_filename == "isu-report-pack-2025.zip"
    page.wait_for_selector("form[data-pack] .pack-status:has-text('Downloaded in')")
    assert page.locator("form[data-pack] button[disabled]").count() == 0
    shot(page, "shell-reports-pack-1366.png")
    # Year end: the forms offer the first year that can be closed, never a signed-off one.
    page.goto(f"{base}/year-end/")
    assert page.locator("select[name=year]").first.input_value() == "2026"
    assert "2025" not in page.locator("select[name=year]").first.all_inner_texts()[0].split()
    # States Parties: filter as you type; every row without JavaScript.
    page.goto(f"{base}/registry/")
    total = page.locator("#registry-rows li").count()
    page.fill("input[data-filter]", "norw")
    visible = page.locator("#registry-rows li:visible")
    assert visible.count() == 1 and "Norway" in visible.inner_text()
    assert re.match(r"1 of \d+ shown", page.inner_text("#registry-count"))
    height = page.evaluate("document.documentElement.scrollHeight")
    page.fill("input[data-filter]", "")
    assert page.locator("#registry-rows li:visible").count() == total and total > 150
    print(f"States Parties page: {page.evaluate('document.documentElement.scrollHeight')} px long with all {total} rows, "
          f"{height} px filtered")
    # Log out says so.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_selector(".flash.ok:has-text('You are logged out.')")


@pytest.mark.parametrize("width", WIDTHS)
def test_an_admin_manages_users(demo_server, browser, axe, width):
    base, _ledger, accounts = demo_server
    admin = open_page(browser, base, width, "demo-admin", accounts["demo-admin"])
    admin.goto(f"{base}/users/")
    name = f"clerk{width}"
    form = admin.locator("#add-user")
    form.get_by_label("User name").fill(name)
    form.get_by_label("Role").select_option("committee")
    form.get_by_label("Full name").fill("Clara Clerk")
    form.get_by_label("Password").fill("a long enough password")
    form.get_by_role("button", name="Add user").click()
    admin.wait_for_selector(f".flash.ok:has-text('User {name} added (committee).')")
    shot(admin, f"users-added-{width}.png")
    form = admin.locator("#add-user")  # the same name again: refused, in plain words
    form.get_by_label("User name").fill(name)
    form.get_by_label("Password").fill("a long enough password")
    form.get_by_role("button", name="Add user").click()
    admin.wait_for_selector(f".flash.error:has-text('{name}: user exists already')")
    row = admin.locator("tr", has_text=name)
    row.get_by_text("Reset password").click()
    row.get_by_label("New password").fill("a new long password")
    row.get_by_role("button", name="Reset").click()
    admin.wait_for_selector(f".flash.ok:has-text('Password of {name} reset')")
    assert fits(admin, width) is None and axe(admin) == []
    row = admin.locator("tr", has_text=name)
    row.get_by_role("button", name=f"Disable {name}").click()
    admin.wait_for_selector(f".flash.ok:has-text('User {name} disabled')")
    assert admin.locator("tr", has_text=name).locator("td").nth(3).inner_text() == "disabled"
    shot(admin, f"users-disabled-{width}.png")
    admin.goto(f"{base}/audit/")
    text = admin.inner_text("table")
    assert f"user {name} added" in text and f"{name}: user exists already" in text and f"user {name} disabled" in text
    shot(admin, f"users-audit-{width}.png")


def test_finance_forgets_a_learned_rule(demo_server, browser, axe):
    base, ledger, accounts = demo_server
    from importers.learned_rules import load_rules

    before = load_rules(ledger)
    for width in WIDTHS:
        page = open_page(browser, base, width, "demo-finance", accounts["demo-finance"])
        page.goto(f"{base}/rules/")
        assert page.locator("table.rules tbody tr").count() == len(before) - (width == 390)
        shot(page, f"rules-{width}.png")
        if width == 390:
            break
        rule = before[0]
        page.get_by_role("button", name=f"Forget the rule for {rule.payer_account or rule.payer_name}").click()
        page.wait_for_selector(".flash.ok:has-text('Rule forgotten')")
        shot(page, f"rules-forgotten-{width}.png")
        page.context.close()
    assert load_rules(ledger) == before[1:]


def test_refusals_are_audited_once(demo_server, browser):
    base, _ledger, accounts = demo_server
    committee = open_page(browser, base, 1366, "demo-committee", accounts["demo-committee"])
    committee.goto(f"{base}/review/")  # 403
    forged = committee.evaluate("""async () => (await fetch('/year-end/close', {method: 'POST',
        headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'year=2026'})).status""")
    assert forged == 400  # no CSRF token
    auditor = open_page(browser, base, 1366, "demo-auditor", accounts["demo-auditor"])
    auditor.goto(f"{base}/audit/?action=review.index")
    assert auditor.locator("tbody tr", has_text="demo-committee").count() == 1
    auditor.goto(f"{base}/audit/?action=yearend.close")
    row = auditor.locator("tbody tr", has_text="demo-committee")
    assert row.count() == 1 and "CSRF" in row.inner_text()
    shot(auditor, "errors-audit-1366.png")
