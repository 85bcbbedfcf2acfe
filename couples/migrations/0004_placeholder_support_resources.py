"""Placeholder support lines, marked is_placeholder: an admin checks them before launch."""

from django.db import migrations

PLACEHOLDERS = [
    # country, country_name, kind, name, description, phone, url
    ("", "", "emergency", "Your local emergency number",
     "If you are in danger right now, call your local emergency number "
     "(for example 112, 911 or 999).", "", ""),
    ("", "", "crisis", "A crisis line near you",
     "Free, confidential helplines, listed by country.", "", "https://findahelpline.com"),
    ("", "", "domestic_violence", "A domestic-violence helpline near you",
     "Someone who listens, in confidence, and helps you plan for your safety. Your doctor "
     "or a crisis line can put you in touch.", "", ""),
    ("", "", "addiction", "Your doctor or a local addiction service",
     "Help for alcohol, drugs, gambling or other addictions, for you or your partner.", "", ""),
    ("GB", "United Kingdom", "emergency", "Emergency services",
     "If you are in danger right now.", "999", ""),
    ("GB", "United Kingdom", "crisis", "Samaritans",
     "Free, any time, day or night.", "116 123", "https://www.samaritans.org"),
    ("GB", "United Kingdom", "domestic_violence", "National Domestic Abuse Helpline",
     "Free and confidential, 24 hours.", "0808 2000 247",
     "https://www.nationaldahelpline.org.uk"),
    ("US", "United States", "emergency", "Emergency services",
     "If you are in danger right now.", "911", ""),
    ("US", "United States", "crisis", "988 Suicide & Crisis Lifeline",
     "Call or text, any time.", "988", "https://988lifeline.org"),
    ("US", "United States", "domestic_violence", "National Domestic Violence Hotline",
     "Free and confidential, 24 hours.", "1-800-799-7233", "https://www.thehotline.org"),
    ("US", "United States", "addiction", "SAMHSA National Helpline",
     "Free and confidential treatment referral, 24 hours.", "1-800-662-4357",
     "https://www.samhsa.gov/find-help/national-helpline"),
]


def add_placeholders(apps, schema_editor):
    SupportResource = apps.get_model("couples", "SupportResource")
    for order, (country, country_name, kind, name, description, phone, url) in enumerate(
        PLACEHOLDERS
    ):
        SupportResource.objects.get_or_create(
            country=country, kind=kind, name=name,
            defaults={
                "country_name": country_name, "description": description, "phone": phone,
                "url": url, "order": order, "is_placeholder": True,
            },
        )


def remove_placeholders(apps, schema_editor):
    apps.get_model("couples", "SupportResource").objects.filter(is_placeholder=True).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("couples", "0003_safety_screening_and_support_resources"),
    ]

    operations = [migrations.RunPython(add_placeholders, remove_placeholders)]
