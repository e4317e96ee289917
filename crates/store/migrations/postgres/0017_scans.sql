-- Assent schema, version 17 (PostgreSQL). Keep in step with ../sqlite/0017_scans.sql.
--
-- Scans run by the server: the schedules of periodic scans of a site's URLs, and every scan
-- (queued, running, done, failed or interrupted) with its report. One scan runs at a time:
-- a queued scan is claimed by a guarded UPDATE (status 'queued' to 'running'), so two
-- servers sharing PostgreSQL never run the same one. Reports hold no personal data (cookie
-- names, hosts, pages of the operator's own site); they are kept as the retention rule of
-- `scan_reports` says and deleted by the retention run.

CREATE TABLE scan_schedules (
    id            TEXT    PRIMARY KEY NOT NULL,
    site          TEXT    NOT NULL,
    url           TEXT    NOT NULL,
    pages         BIGINT NOT NULL,
    every_hours   BIGINT NOT NULL,
    next_at_ms    BIGINT NOT NULL,
    created_by    TEXT    NOT NULL,
    created_at_ms BIGINT NOT NULL
);

CREATE INDEX scan_schedules_next ON scan_schedules (next_at_ms);

CREATE TABLE scans (
    id             TEXT    PRIMARY KEY NOT NULL,
    site           TEXT    NOT NULL,
    url            TEXT    NOT NULL,
    pages          BIGINT NOT NULL,
    schedule_id    TEXT,
    requested_by   TEXT    NOT NULL,
    queued_at_ms   BIGINT NOT NULL,
    started_at_ms  BIGINT,
    finished_at_ms BIGINT,
    status         TEXT    NOT NULL,
    violations     BIGINT,
    findings       BIGINT,
    report         TEXT,
    error          TEXT
);

CREATE INDEX scans_site ON scans (site, queued_at_ms);
CREATE INDEX scans_status ON scans (status, queued_at_ms);
