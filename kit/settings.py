"""Settings shared by every layer: the limits file, sentinel dates, the month end.

Each is defined once here; a module that needs one imports it rather than repeating it.
"""

from __future__ import annotations

import os

#: The published throughput limits (figure, window, source and date of each): see LIMITS.md.
LIMITS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "limits.json")

#: A ``modifiedon`` at or before this instant is a "no value" sentinel, not a time: the Unix
#: epoch (1970-01-01T00:00:00Z), 1900-01-01 and 0001-01-01 are what exports write for "unknown".
#: Every analysis leaves such versions out of its times and counts them (DEFINITIONS.md).
SENTINEL_UNTIL = "1970-01-01 00:00:00+00"

#: The month end: its last this many days (finance closes, batch jobs), marked on volume charts
#: and read by the month-end reading. (The sample lake simulates its own burst: a month's last
#: weekday and the one before it.)
MONTH_END_DAYS = 3
