"""Therapists: links to couples and each partner's consent, the dashboard and couple page, the
live console and its socket, facilitation (coaching, rewind, pause, resume, end — through the
dialogues' one door), private notes and homework.

The top app: it may import `couples`, `safety`, `dialogues` and `live`, and nothing
imports it. It connects to the lower apps' signals and registry in `apps.py`.
"""
