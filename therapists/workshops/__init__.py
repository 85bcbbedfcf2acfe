"""Workshops: one presenter (a verified therapist), many couples practising at once (issue 29).

`models` (registered with the therapists app: its tables and migrations), `selectors` (the
board, progress only; the participants' room), `services` (the plan, joining, running the
room, and its one background job), `consumers` (the board's and the room's sockets), `forms`,
`views` and `urls` (addresses and sockets). docs/workshops.md tells the whole of it.
"""
