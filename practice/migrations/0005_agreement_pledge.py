"""An exit closed is stored as meaning: the pledge's key (Agreement.pledge) beside the giver's
own words, phrased when read in the reader's language. Rows written before stored the phrase
itself, in the giver's language ("cerrar mi salida: salir tarde"): split them into key + words.
A text that matches no known phrase stays as it is."""

from django.db import migrations, models

# The phrases as they were stored, in each language offered when this migration was written
# (frozen here: the catalogue may change later).
STORED_PHRASES = {
    "shut": ("close my exit: ", "cerrar mi salida: "),
    "lessen": ("reduce my exit: ", "reducir mi salida: "),
}


def split_phrases(apps, schema_editor):
    Agreement = apps.get_model("practice", "Agreement")
    for agreement in Agreement.objects.filter(exit__isnull=False, giver_wrote=True, pledge=""):
        for key, prefixes in STORED_PHRASES.items():
            prefix = next((p for p in prefixes if agreement.text.startswith(p)), None)
            if prefix is not None and agreement.text[len(prefix) :].strip():
                agreement.pledge = key
                agreement.text = agreement.text[len(prefix) :]
                agreement.save(update_fields=["pledge", "text"])
                break


def join_phrases(apps, schema_editor):
    """Back to the stored phrase, in English (the language of the phrase is not kept)."""
    Agreement = apps.get_model("practice", "Agreement")
    for agreement in Agreement.objects.exclude(pledge=""):
        agreement.text = STORED_PHRASES[agreement.pledge][0] + agreement.text
        agreement.save(update_fields=["text"])


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0004_alter_agreement_created_at_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="agreement",
            name="pledge",
            field=models.CharField(blank=True, default="", max_length=8),
        ),
        migrations.RunPython(split_phrases, join_phrases),
    ]
