"""Practice between dialogues: agreements (the gift chosen at the end of a request, followed
through day by day and appreciated), caring behaviours (each partner's private "I feel loved
when you…" list, shared by its author's choice, given and acknowledged day by day), and the
progress a couple can see (felt-heard ratings, dialogues per week, agreements kept, caring
given), drawn as SVG on the server.

Imports `couples`, `safety`, `dialogues` and `live`, never `therapists`: it hears
gifts from dialogues (`dialogues.services.gift_given`) and tells therapists what the couple
recorded through a signal (`services.practice_recorded`), so homework can complete itself.
"""
