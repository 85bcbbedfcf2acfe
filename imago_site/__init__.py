"""The project: settings, URLs, ASGI/WSGI, middleware, the home page (which shows every app,
so it may import them all) and `live.py`, the live layer (channel group names and "something
changed" senders) that every app may import and that imports no app.
"""
