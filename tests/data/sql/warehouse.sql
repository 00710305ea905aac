-- Northbridge housing warehouse: staging tables loaded from the case management system,
-- and the reporting schema built from them each night (PostgreSQL).

CREATE TABLE staging.applications (
    application_id integer,
    household_id integer,
    status text,
    received_on date
);

CREATE VIEW reporting.open_applications AS
SELECT a.application_id, a.household_id, a.received_on
FROM staging.applications AS a
WHERE a.status = 'open';

CREATE TABLE reporting.waiting_by_size AS
SELECT h.household_size, COUNT(*) AS applications, AVG(CURRENT_DATE - o.received_on) AS average_wait
FROM reporting.open_applications AS o
JOIN staging.households AS h ON h.household_id = o.household_id
GROUP BY h.household_size;

-- a statement sqlglot cannot read: it is listed, not dropped
CREATE VIEW reporting.broken AS SELEC application_id FROM staging.applications;

INSERT INTO reporting.allocations_log (application_id, band, offered_on)
SELECT o.application_id, UPPER(b.band), CURRENT_DATE
FROM reporting.open_applications AS o
JOIN staging.bands AS b ON b.household_id = o.household_id;

MERGE INTO reporting.households AS t
USING staging.households AS s ON t.household_id = s.household_id
WHEN MATCHED THEN UPDATE SET household_size = s.household_size
WHEN NOT MATCHED THEN INSERT (household_id, household_size) VALUES (s.household_id, s.household_size);

CREATE TABLE reporting.applications_copy AS SELECT * FROM staging.applications;

GRANT SELECT ON reporting.open_applications TO analysts;

INSERT INTO reporting.allocations_log VALUES (1, 'A', 'not a date'
