"""The plugin's records: one JSON file in `backups/`, read whole and
replaced atomically (written under a temporary name, then renamed), so a
reader never sees half of it."""

import json
import os

FOLDER = "backups"
CATALOG = FOLDER + "/python-plain-catalog.json"
TEMPORARY = FOLDER + "/python-plain-catalog.json.tmp"


def empty():
    return {"format": "python-plain/1", "next_backup_id": 1, "next_schedule_id": 1, "backups": [], "schedules": []}


def load():
    """The catalog; an empty one when the file does not exist yet."""
    try:
        with open(CATALOG, "rb") as f:
            return json.loads(f.read().decode("utf-8"))
    except FileNotFoundError:
        return empty()


def save(catalog):
    data = json.dumps(catalog, sort_keys=True).encode("utf-8")
    with open(TEMPORARY, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(TEMPORARY, CATALOG)


def archive_path(name):
    return FOLDER + "/" + name


def remove_expired(catalog, now):
    """Drops every backup whose expiry has passed, and its archive; answers
    their ids."""
    gone = [b for b in catalog["backups"] if b["expiry"] is not None and b["expiry"] <= now]
    for backup in gone:
        try:
            os.remove(archive_path(backup["name"]))
        except FileNotFoundError:
            pass
    catalog["backups"] = [b for b in catalog["backups"] if b not in gone]
    return [b["id"] for b in gone]


def live(catalog, now):
    """The backups that have not expired."""
    return [b for b in catalog["backups"] if b["expiry"] is None or b["expiry"] > now]
