#!/usr/bin/env python
"""What a compiled template engine would save on a step's renders: the page's `turn` partial
(the new turn every audience renders on every step) rendered by Django's engine, as the
server does, and by Jinja2 from a line-for-line translation of it, on the same turns, for the
same readers, in their language and zone. Run by hand, never from the test suite:

    pip install --target /tmp/jinja2-lib jinja2   # not a dependency of the app
    PYTHONPATH=/tmp/jinja2-lib DATABASE_URL=postgres://postgres@127.0.0.1:5432/imago_stepcost \
        .venv/bin/python bench/render_engines.py

Both outputs are compared first (whitespace and the spelling of an escaped quote aside): a run
whose two engines disagree stops without a figure. Then each engine renders every turn for
both partners `--rounds` times, alternating, and this process's CPU time per render is printed
(median of `--repeat` runs). Last, the last move's three renders as the server makes them
(`push.render_change`), the part of them that builds the contexts, and where their own time
goes by cProfile. The data it made (as bench/step_cost.py makes it) is deleted at the end.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import step_cost  # noqa: E402

# templates/dialogues/dialogue.html's `turn` partial, in Jinja2's words (kept beside the bench:
# the app has one engine).
TURN_JINJA = Path(__file__).with_name("render_engines_turn.jinja")


def jinja_turn():
    """The translated partial, on Django's own gettext and filters."""
    import jinja2
    from django.template.defaultfilters import date, linebreaksbr
    from django.utils import translation

    env = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(  # type: ignore[attr-defined]
        translation.gettext,
        translation.ngettext,
        newstyle=True,
        pgettext=translation.pgettext,
        npgettext=translation.npgettext,
    )
    env.filters["linebreaksbr"] = linebreaksbr
    env.filters["date"] = date
    return env.from_string(TURN_JINJA.read_text())


def _same(html: str) -> str:
    """Whitespace aside, and each engine's spelling of an escaped quote (the same character)."""
    html = html.replace("&#x27;", "&#39;").replace("&quot;", "&#34;")
    return re.sub(r"\s+", " ", html).replace("> <", "><").strip()


def whole_step(session, turn, people, *, rounds: int, repeat: int) -> None:
    """The last move's whole render for its three audiences, as the server makes it after the
    commit (`push.render_change`; each turn's kept HTML forgotten first, as for a new turn),
    and the part of it that is not a template: each audience's context
    (`selectors.dialogue_context`), the rest being Django's template engine."""
    from dialogues import push, selectors, turn_html
    from dialogues.push import FACILITATOR, PARTNER

    audiences = [(people[0], PARTNER), (people[1], PARTNER), (push._Onlooker(), FACILITATOR)]

    def render() -> None:
        turn_html.forget_all()
        push.render_change(session=session, turn=turn)

    def contexts() -> None:
        for viewer, role in audiences:
            with push._seen_by(viewer):
                selectors.dialogue_context(session=session, viewer=viewer, turns=[turn], role=role)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    render()  # what the objects load once is loaded before the clock starts
    with CaptureQueriesContext(connection) as queries:
        render()
    if queries.captured_queries:
        sys.exit(f"a render read the database ({len(queries.captured_queries)} queries)")
    timings: dict[str, list[float]] = {"render_change": [], "contexts": []}
    for _ in range(repeat):
        for name, work in (("render_change", render), ("contexts", contexts)):
            start = time.process_time()
            for _round in range(rounds):
                work()
            timings[name].append((time.process_time() - start) / rounds * 1e6)
    whole, context = (statistics.median(v) for v in timings.values())
    print(f"a step's three renders: {whole:.0f} µs, the contexts alone {context:.0f}")
    shares = where_render_goes(render, rounds=rounds)
    print(
        "its own time, by where the code lives (cProfile): "
        + ", ".join(f"{name} {share:.0%}" for name, share in shares.items())
    )


def where_render_goes(work, *, rounds: int) -> dict[str, float]:
    """Each function's own time (cProfile's tottime) summed by where its code lives: Django's
    template engine (django/template, django/templatetags, the partials), the rest of Django
    (translation, escaping, formats), our code (the contexts and views the templates read,
    many of them built when first read), and the rest."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    for _round in range(rounds):
        work()
    profile.disable()
    totals: dict[str, float] = {}
    for (filename, _line, _name), row in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        if "/django/template" in filename or "template_partials" in filename:
            where = "template engine"
        elif "/django/" in filename:
            where = "rest of Django"
        elif filename.startswith(str(REPO)) and "/.venv/" not in filename:
            where = "ours"
        else:
            where = "other"
        totals[where] = totals.get(where, 0.0) + row[2]
    whole = sum(totals.values())
    return {k: v / whole for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2000, help="renders of each turn a run")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each engine")
    parser.add_argument("--moves", type=int, default=6, help="moves made before rendering")
    args = parser.parse_args()
    step_cost.setup()

    from django.template import Context, engines

    from dialogues import push, selectors
    from dialogues.templatetags.transcript import TURN

    people, session, cleanup = step_cost.dialogue_for_bench()
    try:
        script = step_cost.move_script(people[0], people[1])
        for _ in range(args.moves):
            who, name, payload = next(script)
            last = step_cost.move_made(session, who, name, payload)
        session.refresh_from_db()
        django_turn = engines["django"].engine.get_template(TURN)  # type: ignore[attr-defined]
        jinja = jinja_turn()
        readers = []
        for viewer in people[:2]:
            with push._seen_by(viewer):
                turns = selectors.turns_of(session=session, viewer=viewer)
                views = [selectors.turn_view(t, viewer=viewer) for t in turns]
            readers.append((viewer, views))

        def by_django(viewer, view) -> str:
            return django_turn.render(Context({"t": view, "viewer": viewer}))

        def by_jinja(viewer, view) -> str:
            return jinja.render(t=view, viewer=viewer)

        for viewer, views in readers:
            with push._seen_by(viewer):
                for view in views:
                    a, b = by_django(viewer, view), by_jinja(viewer, view)
                    if _same(a) != _same(b):
                        sys.exit(f"the engines disagree on turn {view.seq}:\n{a}\n---\n{b}")
        renders = args.rounds * sum(len(views) for _, views in readers)
        timings: dict[str, list[float]] = {"django": [], "jinja2": []}
        for _ in range(args.repeat):
            for name, render in (("django", by_django), ("jinja2", by_jinja)):
                start = time.process_time()
                for viewer, views in readers:
                    with push._seen_by(viewer):
                        for _round in range(args.rounds):
                            for view in views:
                                render(viewer, view)
                timings[name].append((time.process_time() - start) / renders * 1e6)
        kinds = sorted({v.phrase for _, views in readers for v in views})
        print(f"{renders} renders a run of {len(readers[0][1])} turns ({', '.join(kinds)})")
        for name, values in timings.items():
            runs = ", ".join(f"{v:.1f}" for v in values)
            print(f"{name}: {statistics.median(values):.1f} µs a turn (runs: {runs})")
        ratio = statistics.median(timings["django"]) / statistics.median(timings["jinja2"])
        print(f"django / jinja2: {ratio:.2f}")
        whole_step(last.session, last.turn, people, rounds=args.rounds // 10, repeat=args.repeat)
    finally:
        cleanup()


if __name__ == "__main__":
    main()
