"""python-plain: a backup plugin for Kinesis Backup in Python, implementing
the contract kinesis:backup@1.0.0 (world `backup-plugin`).

Built with componentize-py (see build.sh). The catalog is one JSON file in
`backups/` (catalog.py), the archives are plain tar.gz files with a SHA-256
manifest (archive.py), schedules use five-field cron expressions in UTC
(cron.py). Every call is a fresh instance: everything lasting is in files.
"""

import os
from datetime import datetime, timedelta, timezone

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import host, types

import archive
import catalog
from cron import Cron, CronError


def fail(kind, message):
    return Err(kind(message))


def utc(ts):
    return datetime.fromtimestamp(ts, timezone.utc)


def to_backup(record):
    """A catalog record (its keys are the WIT record's fields) as a `backup`."""
    return types.Backup(**record)


def to_schedule(record):
    """A catalog record (its keys are the WIT record's fields) as a `schedule`."""
    return types.Schedule(**record)


def find(records, id, what):
    for record in records:
        if record["id"] == id:
            return record
    raise fail(types.Error_NotFound, f"no {what} has the id {id}")


def storage(e):
    return fail(types.Error_Storage, f"reading or writing files failed: {e}")


def next_run(schedule, now):
    if not schedule["enabled"]:
        return None
    when = Cron(schedule["cron"]).next_after(utc(now))
    return int(when.timestamp()) if when else None


def check_schedule(name, cron, hours):
    if not name.strip():
        raise fail(types.Error_InvalidInput, "the schedule's name must not be empty")
    try:
        Cron(cron)
    except CronError as e:
        raise fail(types.Error_InvalidInput, str(e))
    if hours is not None and hours < 1:
        raise fail(types.Error_InvalidInput, "expiry-hours must be at least 1")


def begin_change():
    """The host's now and the catalog, without the backups expired by now:
    how every changing call starts."""
    now = host.now()
    cat = catalog.load()
    catalog.remove_expired(cat, now)
    return now, cat


def make_backup(cat, now, description, expiry, schedule_id):
    """Writes a new archive of the tenant and records it in `cat`."""
    id = cat["next_backup_id"]
    name = "backup-" + utc(now).strftime("%Y%m%d_%H%M") + f"_{id}.tar.gz"
    path = catalog.archive_path(name)
    temporary = path + ".partial"
    done = [0]

    def progress(n):
        done[0] += n
        host.progress(done[0], done[0] + 1)

    try:
        archive.write(temporary, host.read_env(), progress)
        size = os.stat(temporary).st_size
        sha256 = archive.sha256_of_file(temporary)
        os.replace(temporary, path)
    except Err:
        raise
    except Exception as e:
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise storage(e)
    record = {
        "id": id,
        "name": name,
        "created_at": now,
        "description": description,
        "expiry": expiry,
        "size": size,
        "sha256": sha256,
        "schedule_id": schedule_id,
    }
    cat["next_backup_id"] = id + 1
    cat["backups"].append(record)
    return record


class Plugin(exports.Plugin):
    def create(self, description, expiry):
        now = host.now()
        if expiry is not None and expiry <= now:
            raise fail(types.Error_InvalidInput, "the expiry must lie in the future")
        cat = catalog.load()
        catalog.remove_expired(cat, now)
        record = make_backup(cat, now, description, expiry, None)
        catalog.save(cat)
        return to_backup(record)

    def list(self, search, limit, offset):
        if limit < 1 or limit > 1000:
            raise fail(types.Error_InvalidInput, f"limit must be 1 to 1000, not {limit}")
        records = catalog.live(catalog.load(), host.now())
        if search:
            needle = search.lower()
            records = [r for r in records if needle in r["name"].lower() or needle in r["description"].lower()]
        records.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)
        page = records[offset : offset + limit]
        return types.BackupPage(backups=[to_backup(r) for r in page], total=len(records))

    def get(self, id):
        return to_backup(find(catalog.live(catalog.load(), host.now()), id, "backup"))

    def update(self, id, description, expiry):
        now, cat = begin_change()
        record = find(cat["backups"], id, "backup")
        if isinstance(expiry, types.ExpiryChange_Set):
            if expiry.value <= now:
                raise fail(types.Error_InvalidInput, "the expiry must lie in the future")
            record["expiry"] = expiry.value
        elif isinstance(expiry, types.ExpiryChange_Clear):
            record["expiry"] = None
        if description is not None:
            record["description"] = description
        catalog.save(cat)
        return to_backup(record)

    def restore(self, id):
        now, cat = begin_change()
        catalog.save(cat)
        record = find(cat["backups"], id, "backup")
        path = catalog.archive_path(record["name"])
        try:
            if archive.sha256_of_file(path) != record["sha256"]:
                raise fail(types.Error_CorruptArchive, f"{record['name']} does not match its recorded SHA-256")
            archive.read(path)
        except archive.Damaged as e:
            raise fail(types.Error_CorruptArchive, f"{record['name']}: {e}")
        except OSError as e:
            raise storage(e)
        for root in archive.ROOTS:
            archive.empty_folder(root)
        env = []
        done = [0]

        def sink(name, data):
            if name == ".env":
                env.append(data)
            elif data is None:
                os.makedirs(name, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(name), exist_ok=True)
                with open(name, "wb") as f:
                    f.write(data)

        def progress(n):
            done[0] += n
            host.progress(done[0], record["size"])

        try:
            files, total = archive.read(path, sink, progress)
        except archive.Damaged as e:
            raise fail(types.Error_CorruptArchive, f"{record['name']}: {e}")
        except OSError as e:
            raise storage(e)
        if env:
            try:
                host.write_env(env[0])
            except Err as e:
                raise storage(e.value)
        return types.RestoreReport(id=id, files=files, bytes=total)

    def delete(self, id):
        now, cat = begin_change()
        record = find(cat["backups"], id, "backup")
        try:
            os.remove(catalog.archive_path(record["name"]))
        except FileNotFoundError:
            pass
        cat["backups"].remove(record)
        catalog.save(cat)

    def verify(self, id):
        record = find(catalog.live(catalog.load(), host.now()), id, "backup")
        path = catalog.archive_path(record["name"])
        problems = []
        try:
            if archive.sha256_of_file(path) != record["sha256"]:
                problems.append(f"{record['name']} does not match its recorded SHA-256")
        except OSError as e:
            problems.append(f"{record['name']} cannot be read: {e}")
        counted = [0, 0]

        def count(name, data):
            if data is not None:
                counted[0] += 1
                counted[1] += len(data)

        try:
            archive.read(path, count, lambda n: host.progress(counted[1], record["size"]))
        except (archive.Damaged, OSError) as e:
            problems.append(str(e))
        return types.VerifyReport(
            id=id, ok=not problems, files_checked=counted[0], bytes_checked=counted[1], problems=problems
        )

    def schedule_create(self, input):
        check_schedule(input.name, input.cron, input.expiry_hours)
        now, cat = begin_change()
        record = {
            "id": cat["next_schedule_id"],
            "name": input.name,
            "cron": input.cron,
            "expiry_hours": input.expiry_hours,
            "enabled": input.enabled,
            "next_run": None,
            "last_run": None,
            "last_error": None,
        }
        record["next_run"] = next_run(record, now)
        cat["next_schedule_id"] += 1
        cat["schedules"].append(record)
        catalog.save(cat)
        return to_schedule(record)

    def schedule_list(self, limit, offset):
        schedules = sorted(catalog.load()["schedules"], key=lambda s: s["id"])
        return ([to_schedule(s) for s in schedules[offset : offset + limit]], len(schedules))

    def schedule_update(self, id, patch):
        now, cat = begin_change()
        record = find(cat["schedules"], id, "schedule")
        changed = dict(record)
        if patch.name is not None:
            changed["name"] = patch.name
        if patch.cron is not None:
            changed["cron"] = patch.cron
        if isinstance(patch.expiry_hours, types.HoursChange_Set):
            changed["expiry_hours"] = patch.expiry_hours.value
        elif isinstance(patch.expiry_hours, types.HoursChange_Clear):
            changed["expiry_hours"] = None
        if patch.enabled is not None:
            changed["enabled"] = patch.enabled
        check_schedule(changed["name"], changed["cron"], changed["expiry_hours"])
        if patch.cron is not None or patch.enabled is not None or not changed["enabled"]:
            changed["next_run"] = next_run(changed, now)
        record.update(changed)
        catalog.save(cat)
        return to_schedule(record)

    def schedule_delete(self, id):
        now, cat = begin_change()
        cat["schedules"].remove(find(cat["schedules"], id, "schedule"))
        catalog.save(cat)

    def schedule_tick(self, now):
        cat = catalog.load()
        expired = catalog.remove_expired(cat, now)
        created, failed = [], []
        for schedule in sorted(cat["schedules"], key=lambda s: s["id"]):
            if not schedule["enabled"] or schedule["next_run"] is None or schedule["next_run"] > now:
                continue
            hours = schedule["expiry_hours"]
            expiry = now + hours * 3600 if hours is not None else None
            try:
                record = make_backup(cat, now, f"by the schedule {schedule['name']}", expiry, schedule["id"])
                created.append(to_backup(record))
                schedule["last_error"] = None
            except Err as e:
                message = getattr(e.value, "value", str(e.value))
                failed.append(types.TickFailure(schedule_id=schedule["id"], message=message))
                schedule["last_error"] = message
            schedule["last_run"] = now
            schedule["next_run"] = next_run(schedule, now)
        catalog.save(cat)
        return types.TickReport(created=created, expired=expired, failed=failed)
