"""The one name for a free-form JSON object in monitoring."""

from __future__ import annotations

from typing import Any

#: A JSON object taken or given whole: an alert's evidence (each rule writes its own keys), a
#: row of an import file before it is validated as an event payload, the import report. Free
#: by nature, so it stays a dict of ``Any``; everything else crosses the layers typed.
JsonObject = dict[str, Any]
