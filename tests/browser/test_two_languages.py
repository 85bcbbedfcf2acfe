"""One dialogue, two languages: Sam's account is in Spanish, Alex's in English. Each browser
shows the steps, stems and explanations in its own person's language, and each partner's words
exactly as they were written, live, without a reload. Screenshots of the Spanish page at a
phone's 375 px and a desktop's 1280 px are kept in artifacts/ (and nothing overflows)."""

import pytest
from django.utils import translation
from playwright.sync_api import expect

from couples.models import User

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

OVERFLOW_JS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def es(english: str) -> str:
    """The Spanish the catalogue has for an English string (and it has one)."""
    with translation.override("es"):
        spanish = translation.gettext(english)
    assert spanish != english, f"no Spanish for {english!r}"
    return spanish


def form_of(page, value: str):
    return page.locator(f"#move-panel form.move-form:has(input[name=move][value={value}])")


def move(page, other, value: str, text: str | None = None, shows: str | None = None) -> None:
    """Make the move named `value` in `page` (whatever its button says in that language)."""
    form = form_of(page, value)
    button = form.locator("button[type=submit]")
    button.wait_for()
    if text is not None:
        form.locator("textarea").fill(text)
    button.click()
    if shows is not None:
        expect(other.locator("#transcript")).to_contain_text(shows)


def test_each_partner_follows_the_dialogue_in_their_own_language(
    dialogue, alex, sam, page_as, artifacts_dir
):
    User.objects.filter(pk=sam.pk).update(language="es")  # (no signals: no live broadcast)
    User.objects.filter(pk=alex.pk).update(language="en-gb")
    a = page_as(alex)
    s = page_as(sam, viewport=(1280, 900))
    a.goto(f"/dialogues/{dialogue.public_id}/")
    s.goto(f"/dialogues/{dialogue.public_id}/")
    expect(a.locator("html")).to_have_attribute("lang", "en-gb")
    expect(s.locator("html")).to_have_attribute("lang", "es")

    # Sam (Spanish) accepts; Alex (English) sends; Sam mirrors in Spanish.
    move(s, a, "accept_now")
    expect(a.locator("#move-panel")).to_contain_text("Sending")
    sent = "When you sleep in, I feel lonely."
    move(a, s, "send", text=sent, shows=sent)
    expect(s.locator("#move-panel")).to_contain_text(es("Mirroring"))
    expect(s.locator("#move-panel")).not_to_contain_text("Mirroring")
    expect(form_of(s, "mirror").locator("button[type=submit]")).to_have_text(es("Mirror back"))
    mirrored = "Si te entendí bien, te sientes sola cuando duermo hasta tarde."
    move(s, a, "mirror", text=mirrored, shows=mirrored)

    # Each sees the other's words as written, marked with the language they were written in.
    expect(s.locator("#transcript")).to_contain_text(sent)
    expect(a.locator("#transcript")).to_contain_text(mirrored)
    expect(a.locator("#transcript [lang=es]", has_text=mirrored)).to_have_count(1)
    expect(s.locator("#transcript [lang='en-gb']", has_text=sent)).to_have_count(1)
    # Alex's page is English throughout; Sam's has no English step names.
    expect(a.locator("#move-panel")).to_contain_text("Did they get it?")
    expect(s.locator("#status-bar")).not_to_contain_text("Sending")

    for width in (375, 1280):
        s.set_viewport_size({"width": width, "height": 900})
        s.wait_for_timeout(100)
        assert s.evaluate(OVERFLOW_JS) <= 0, f"the Spanish page overflows at {width} px"
        s.screenshot(path=artifacts_dir / f"dialogue-es-{width}.png", full_page=True)


def test_an_exit_closed_in_spanish_reads_in_english_around_the_spanish_words(
    pair, alex, sam, page_as, artifacts_dir
):
    """Sam (Spanish) closes an exit of theirs; Alex (English) reads "close my exit: …" in
    English, with Sam's own words as Sam wrote them, marked as Spanish, at 375 and 1280 px."""
    User.objects.filter(pk=sam.pk).update(language="es")
    User.objects.filter(pk=alex.pk).update(language="en-gb")
    words = "el móvil en la cena"
    s = page_as(sam, viewport=(1280, 900))
    s.goto("/between/exits/")
    s.get_by_label(es("An exit of mine")).fill(words)
    s.get_by_role("button", name=es("Add to my list")).click()
    expect(s.locator(".exit-list")).to_contain_text(words)
    s.get_by_label(es("Close it")).check()
    s.get_by_role("button", name=es("Agree to it")).click()
    expect(s.locator(".exit-list")).to_contain_text(f"cerrar mi salida: {words}")
    s.screenshot(path=str(artifacts_dir / "exit-closed-es-1280.png"), full_page=True)
    for width in (375, 1280):
        a = page_as(alex, viewport=(width, 900))
        a.goto("/")
        agreement = a.locator("article.agreement", has_text=words)
        expect(agreement).to_contain_text(f"Sam agreed to: “close my exit: {words}”")
        expect(agreement).not_to_contain_text("cerrar")
        expect(agreement.locator('span[lang="es"]')).to_have_text(words)
        assert a.evaluate(OVERFLOW_JS) <= 0
        agreement.screenshot(path=str(artifacts_dir / f"exit-closed-read-en-{width}.png"))
        a.screenshot(path=str(artifacts_dir / f"home-en-{width}.png"), full_page=True)
        a.goto("/between/exits/")
        expect(a.locator("main")).to_contain_text(f"Sam agreed to close my exit: {words}")
        a.screenshot(path=str(artifacts_dir / f"exits-en-{width}.png"), full_page=True)


def test_a_booked_sessions_title_is_in_each_partners_language(
    pair, alex, sam, link, therapist, page_as, artifacts_dir
):
    """The therapist books a session with Sam (Spanish) starting: Alex (English) reads "Session
    with …", Sam "Sesión con …", at 375 and 1280 px."""
    import datetime

    from therapists import services as therapist_services

    User.objects.filter(pk=sam.pk).update(language="es")
    User.objects.filter(pk=alex.pk).update(language="en-gb")
    sam.refresh_from_db()
    day = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3)).date().isoformat()
    booked = therapist_services.facilitated_book(
        therapist=therapist, couple=pair, day=day, time="18:00", minutes=60, first=sam.public_id
    )
    name = therapist.display_name
    for width in (375, 1280):
        for person, lang, title in (
            (alex, "en", f"Session with {name}"),
            (sam, "es", f"Sesión con {name}"),
        ):
            page = page_as(person, viewport=(width, 900))
            page.goto(f"/dialogues/{booked.public_id}/")
            expect(page.locator("h1.topic")).to_have_text(title)
            assert page.evaluate(OVERFLOW_JS) <= 0
            page.screenshot(path=str(artifacts_dir / f"booked-{lang}-{width}.png"), full_page=False)
