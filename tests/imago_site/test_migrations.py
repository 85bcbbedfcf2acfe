from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_it_has_no_missing_migrations():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


BEFORE_THE_MOVES = [
    ("couples", "0005_therapist_links_and_consent"),
    ("dialogues", "0003_turn_audience_and_coaching"),
    ("therapists", "0001_notes_and_homework"),
    ("safety", "0001_initial"),  # before its answers were encrypted
]


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_apps_split_migrates_in_place_with_its_data():
    """Safety answers, support lines, therapist links and consents were couples' models; they
    move to safety/ and therapists/ without a row lost or a table renamed."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_THE_MOVES)
    old = executor.loader.project_state(BEFORE_THE_MOVES).apps
    User = old.get_model("couples", "User")
    alex = User.objects.create(email="alex@example.com", display_name="Alex", public_id="a1")
    sam = User.objects.create(email="sam@example.com", display_name="Sam", public_id="s1")
    dr = User.objects.create(
        email="dr@example.com", display_name="Dr", public_id="d1", kind="therapist"
    )
    couple = old.get_model("couples", "Couple").objects.create(public_id="c1", created_by=alex)
    old.get_model("couples", "SafetyScreening").objects.create(
        user=alex, couple=couple, answers={"afraid": "no"}, ready=True
    )
    old.get_model("couples", "SupportResource").objects.create(name="A line", kind="crisis")
    link = old.get_model("couples", "TherapistLink").objects.create(
        public_id="l1", therapist=dr, couple=couple, status="active"
    )
    for partner in (alex, sam):
        old.get_model("couples", "Consent").objects.create(link=link, partner=partner)
    ContentType.objects.get_or_create(app_label="couples", model="therapistlink")

    executor = MigrationExecutor(connection)  # reload the graph, then all the way forward
    executor.migrate(executor.loader.graph.leaf_nodes())

    from safety.models import SafetyScreening, SupportResource
    from therapists.models import Consent, TherapistLink

    screening = SafetyScreening.objects.get()
    assert (screening.user.email, screening.answers, screening.ready) == (
        "alex@example.com",
        {"afraid": "no"},
        True,
    )
    assert SupportResource.objects.filter(name="A line").exists()
    moved = TherapistLink.objects.get(public_id="l1")
    assert (moved.therapist.email, moved.couple.public_id, moved.status) == (
        "dr@example.com",
        "c1",
        "active",
    )
    assert set(Consent.objects.filter(link=moved).values_list("partner__email", flat=True)) == {
        "alex@example.com",
        "sam@example.com",
    }
    # Permissions and admin history follow the models to their new app.
    assert ContentType.objects.filter(app_label="therapists", model="therapistlink").exists()
    assert not ContentType.objects.filter(app_label="couples", model="therapistlink").exists()


@pytest.mark.django_db(transaction=True)
def test_open_link_codes_are_hashed_in_place_and_still_work():
    """therapists 0008: the clear link codes of a database from before are replaced by their
    hashes; a code already given to a couple still links them, and no clear code is left."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    before = [leaf for leaf in leaves if leaf[0] != "therapists"]
    before.append(("therapists", "0007_more_dialogue_kinds"))
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    User = old.get_model("couples", "User")
    dr = User.objects.create(
        email="dr@example.com",
        display_name="Dr",
        public_id="d1",
        kind="therapist",
        therapist_verified_at="2026-01-01T00:00:00Z",
    )
    TherapistLink = old.get_model("therapists", "TherapistLink")
    TherapistLink.objects.create(
        public_id="open", therapist=dr, created_by=dr, code="ABCDE-FGH23", status="pending"
    )
    TherapistLink.objects.create(public_id="used", therapist=dr, status="active")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from couples.models import hash_token
    from therapists.models import TherapistLink as Link

    assert Link.objects.get(public_id="open").code_hash == hash_token("ABCDE-FGH23")
    assert Link.objects.get(public_id="used").code_hash is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM couples_therapistlink")
        assert "ABCDE" not in " ".join(str(v) for row in cursor.fetchall() for v in row)


@pytest.mark.django_db(transaction=True)
def test_an_exit_closed_before_is_split_into_its_meaning_and_the_persons_words():
    """practice 0005: an agreement that stored the phrase in its giver's language ("cerrar mi
    salida: …") keeps the pledge as a key and only the person's words; a gift's request (or
    any text that is not a known phrase) stays as written."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    before = [leaf for leaf in leaves if leaf[0] != "practice"]
    before.append(("practice", "0004_alter_agreement_created_at_and_more"))
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    User = old.get_model("couples", "User")
    alex = User.objects.create(email="alex@example.com", display_name="Alex", public_id="a1")
    sam = User.objects.create(email="sam@example.com", display_name="Sam", public_id="s1")
    couple = old.get_model("couples", "Couple").objects.create(public_id="c1", created_by=alex)
    Exit = old.get_model("practice", "Exit")
    Agreement = old.get_model("practice", "Agreement")
    stored = {
        "es": "cerrar mi salida: el móvil en la cena",
        "en": "reduce my exit: work late",
        "odd": "close my exit: ",  # no words after it: left alone
    }
    for key, text in stored.items():
        exit_ = Exit.objects.create(couple=couple, author=alex, text=key, public_id=f"e-{key}")
        Agreement.objects.create(
            public_id=key,
            couple=couple,
            exit=exit_,
            giver=alex,
            receiver=sam,
            giver_wrote=True,
            text=text,
            starts_on="2026-12-01",
            days=7,
        )
    Agreement.objects.create(  # a gift quoting a request that happens to look like a phrase
        public_id="gift",
        couple=couple,
        giver=sam,
        receiver=alex,
        text="close my exit: please",
        starts_on="2026-12-01",
        days=7,
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from practice.models import Agreement as Now

    rows = {a.public_id: (a.pledge, a.text) for a in Now.objects.all()}
    assert rows == {
        "es": ("shut", "el móvil en la cena"),
        "en": ("lessen", "work late"),
        "odd": ("", "close my exit: "),
        "gift": ("", "close my exit: please"),
    }
    with connection.cursor() as cursor:  # still encrypted at rest
        cursor.execute("SELECT text FROM practice_agreement")
        assert "móvil" not in " ".join(str(v) for (v,) in cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_a_booked_sessions_stored_title_is_emptied_to_be_phrased_when_read():
    """dialogues 0010: "Sesión con Dr" / "Session with Dr", stored as a booked session's topic
    in the first partner's language, is emptied (DialogueSession.title phrases it for each
    reader); a topic a partner wrote, or any other text, stays."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    before = [leaf for leaf in leaves if leaf[0] != "dialogues"]
    before.append(("dialogues", "0009_alter_dialoguesession_created_at_and_more"))
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    User = old.get_model("couples", "User")
    alex = User.objects.create(email="alex@example.com", display_name="Alex", public_id="a1")
    dr = User.objects.create(
        email="dr@example.com", display_name="Dr Rivera", public_id="d1", kind="therapist"
    )
    couple = old.get_model("couples", "Couple").objects.create(public_id="c1", created_by=alex)
    Session = old.get_model("dialogues", "DialogueSession")
    topics = {
        "es": ("Sesión con Dr Rivera", dr),
        "en": ("Session with Dr Rivera", dr),
        "other": ("Session with Dr Rivera about money", dr),
        "typed": ("Session with Dr Rivera", None),  # a partner wrote it: not booked
    }
    for key, (topic, by) in topics.items():
        Session.objects.create(
            public_id=key,
            couple=couple,
            kind="mirroring",
            topic=topic,
            partner_a=alex,
            state={},
            step="start",
            status="ended",
            scheduled_by=by,
        )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from dialogues.models import DialogueSession

    assert {s.public_id: s.topic for s in DialogueSession.objects.all()} == {
        "es": "",
        "en": "",
        "other": "Session with Dr Rivera about money",
        "typed": "Session with Dr Rivera",
    }
