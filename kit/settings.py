"""Settings shared by every layer: the limits file, sentinel dates, the month end.

Each is defined once here; a module that needs one imports it rather than repeating it.
"""

from __future__ import annotations

import os

#: The published throughput limits (figure, window, source and date of each): see LIMITS.md.
LIMITS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "limits.json")

#: ``modifiedon`` values before this year are "no value" sentinels (1900-01-01, 0001-01-01).
SENTINEL_BEFORE_YEAR = 1901

#: The month end: its last this many days (finance closes, batch jobs), marked on volume charts,
#: read by the month-end reading and simulated by the sample lake.
MONTH_END_DAYS = 3
