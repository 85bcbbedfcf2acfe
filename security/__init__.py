"""Platform security below the apps: encryption at rest, the audit trail (and the audited
admin), Content-Security-Policy reports and the login store. Imports only `live`."""
