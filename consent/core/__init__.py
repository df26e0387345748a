"""The pure domain core: region rules, the law's floors, site configurations and the banner they resolve to.

Nothing in here imports Flask or a database: functions take values and return values.
"""
