"""Dialogues: dialogue sessions and their turns, the protocol (`protocol.py`, plain Python:
steps, who acts, moves, transitions), the partners' page and socket, and what each audience
of a change sees (`push.py`).

Every change to a dialogue goes through one door, `services.session_change`. Imports
`couples`, `safety` and `live`, never `therapists`: it learns a therapist's access
through a registry (`selectors.facilitator_check_register`) and tells therapists about
completed dialogues through a signal (`services.dialogue_completed`); the practice app hears
gifts chosen (`services.gift_given`) and adds its home-page section to the home socket's pushes
(`push.home_part_register`).
"""
