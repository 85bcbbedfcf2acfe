"""Safety: each partner's private screening before joint dialogue, the support lines shown to
someone who may need them, the quick check-in before a dialogue and the time-out's calm
screen.

Owns `SafetyScreening` and `SupportResource`. Imports only `couples` (and `live`);
the partner only ever learns whether this person is ready, never why not.
"""
