-- Statutory visits and the dates they fell due (CSC 252-252b, 260-260b): one rule for both kinds of
-- visit (a table macro over a kind's plans and visits), a view of each kind, and the same over `period`.
-- A visit falls due when the interval from the previous visit (or from the start of the plan or
-- placement) runs out, and is in time if the child is seen on or before that date. While no visit
-- comes, a further visit falls due at the end of each further interval, so a child not seen at all
-- keeps missing visits rather than dropping out of the count (repeats are made up to the last date
-- the plans, placements and visits record, the end of the data). A visit counts unless it records the
-- child as not seen (cppv_cp_visit_seen / clav_cla_visit_seen false); two on one day count once.

-- One row per statutory visit that fell due, of either kind (plan_kind):
--   'CP':  a child protection visit while the plan (plan_id: cppl_cp_plan_id) was open. Interval: 10
--          working days (a local standard).
--   'CLA': a looked-after child's visit while the placement (plan_id: clap_cla_placement_id) was open
--          and the child counted as looked after (not on a V3/V4 short break). Interval:
--          clap_visit_frequency_days calendar days (7, 28, 42 or 91: the placement's regime under the
--          Care Planning Regulations 2010 reg. 28; 42, the general six-week rule, when not recorded).
-- interval_length is in working days when interval_in_working_days, else in calendar days. from_date:
-- the start of the plan or placement, or the visit the interval runs from; next_visit_date: the next
-- visit during it (NULL: none). Visits belong to the child's plan or placement open on their date.
-- The plans (or placements) during which visits fall due, and the visits made, of each kind: the
-- inputs of the one rule below.
CREATE OR REPLACE VIEW cp_visit_plans AS
SELECT 'CP' AS plan_kind, cppl_cp_plan_id AS plan_id, cppl_person_id AS person_id,
       cppl_cp_plan_start_date AS start_date, cppl_cp_plan_end_date AS end_date,
       true AS interval_in_working_days, 10 AS interval_length
FROM ssd_cp_plans;

CREATE OR REPLACE VIEW cp_visits_made AS
SELECT 'CP' AS plan_kind, cppv_cp_visit_id AS visit_id, cppv_person_id AS person_id,
       cppv_cp_visit_date AS visit_date, cppv_cp_visit_seen AS seen
FROM ssd_cp_visits;

CREATE OR REPLACE VIEW cla_visit_plans AS
SELECT 'CLA' AS plan_kind, clap_cla_placement_id AS plan_id, person_id, start_date, end_date,
       false AS interval_in_working_days,
       CASE WHEN clap_visit_frequency_days > 0 THEN clap_visit_frequency_days ELSE 42 END AS interval_length
FROM cla_placements;

CREATE OR REPLACE VIEW cla_visits_made AS
SELECT 'CLA' AS plan_kind, clav_cla_visit_id AS visit_id, clav_person_id AS person_id,
       clav_cla_visit_date AS visit_date, clav_cla_visit_seen AS seen
FROM ssd_cla_visits;

-- The rule, written once: a table macro over the names of a kind's plans and visits (query_table), so
-- a CP visit reads only the CP tables and a looked-after child's visit only the CLA ones.
CREATE OR REPLACE MACRO visits_due_of(plans_view, visits_view) AS TABLE
WITH plans AS (SELECT * FROM query_table(plans_view)),
visits AS (SELECT * FROM query_table(visits_view)),
end_of_data AS (   -- the last date the plans (or placements) and visits of each kind record
    SELECT k.plan_kind, greatest(v.last_visit_date, max(k.start_date), max(k.end_date)) AS end_of_data
    FROM plans k
    LEFT JOIN (SELECT plan_kind, max(visit_date) AS last_visit_date FROM visits GROUP BY plan_kind) v
      USING (plan_kind)
    GROUP BY k.plan_kind, v.last_visit_date
),
anchors AS (   -- the start of each plan, and each visit during it at which the child was seen
    SELECT plan_kind, plan_id, person_id, start_date, end_date, interval_in_working_days, interval_length,
           start_date AS from_date, NULL AS visit_id
    FROM plans
    UNION ALL
    SELECT k.plan_kind, k.plan_id, k.person_id, k.start_date, k.end_date, k.interval_in_working_days,
           k.interval_length, v.visit_date, v.visit_id
    FROM plans k
    JOIN visits v
      ON v.plan_kind = k.plan_kind
     AND v.person_id = k.person_id
     AND is_open_at(k.start_date, k.end_date, v.visit_date)
    WHERE v.seen IS NOT FALSE
),
intervals AS (
    SELECT a.*,
           lead(a.from_date) OVER w     AS next_visit_date,
           lead(a.from_visit_id) OVER w AS next_visit_id,
           -- the last day a due date of this interval can matter: the next visit, else the plan's
           -- end, else the end of the data
           coalesce(lead(a.from_date) OVER w, a.end_date, e.end_of_data) AS horizon
    FROM (SELECT plan_kind, plan_id, person_id, start_date, end_date, interval_in_working_days,
                 interval_length, from_date, min(visit_id) AS from_visit_id
          FROM anchors GROUP BY ALL) a
    JOIN end_of_data e USING (plan_kind)
    WINDOW w AS (PARTITION BY a.plan_kind, a.plan_id ORDER BY a.from_date)
),
dues AS (   -- the 1st, 2nd ... due date of each interval
    -- in working days: add_working_days(from_date, interval_length * due_number), written as a join
    -- on the calendar's working-day numbers because the macro is some 20 times slower here
    SELECT n.*, d.calendar_date AS due_date
    FROM (SELECT i.*, f.working_day_index AS from_day_index,
                 unnest(range(1, 2 + working_days(i.from_date, i.horizon) // i.interval_length)) AS due_number
          FROM intervals i
          JOIN ref_calendar f ON f.calendar_date = i.from_date
          WHERE i.interval_in_working_days) n
    JOIN ref_calendar d
      ON d.is_working_day AND d.working_day_index = n.from_day_index + n.interval_length * n.due_number
    UNION ALL BY NAME
    -- in calendar days
    SELECT *, from_date + CAST(interval_length * due_number AS INTEGER) AS due_date
    FROM (SELECT *, unnest(range(1, 2 + date_diff('day', from_date, horizon) // interval_length)) AS due_number
          FROM intervals
          WHERE NOT interval_in_working_days)
)
SELECT d.plan_kind, d.plan_id, d.person_id, d.interval_length, d.interval_in_working_days, d.from_date,
       d.from_visit_id, d.due_number, d.due_date, d.next_visit_date, d.next_visit_id,
       d.due_number = 1 AND coalesce(d.next_visit_date <= d.due_date, false) AS in_time
FROM dues d
WHERE (d.due_number = 1 OR d.due_date < d.horizon)
  AND is_open_at(d.start_date, d.end_date, d.due_date);

-- Each kind's visits, computed once per run (three queries read each). A looked-after child's visit
-- falls due only while the child counts as looked after (not on a V3/V4 short break).
CREATE OR REPLACE VIEW cp_visits_due AS
SELECT * FROM visits_due_of('cp_visit_plans', 'cp_visits_made');

CREATE OR REPLACE VIEW cla_visits_due AS
SELECT d.*
FROM visits_due_of('cla_visit_plans', 'cla_visits_made') d
WHERE EXISTS (SELECT 1 FROM looked_after_spans s
              WHERE s.person_id = d.person_id
                AND is_open_at(s.span_start_date, s.span_end_date, d.due_date));

-- The visits due in the window, of each kind: with the month of each `period` row whose window holds
-- the due date (CSC 252a-b, 260a-b; CSC 252 and 260 look for the ones missed).
CREATE OR REPLACE VIEW cp_visits_due_in_window AS
SELECT p.month, d.*
FROM cp_visits_due d
JOIN period p ON d.due_date BETWEEN p.start_date AND p.end_date;

CREATE OR REPLACE VIEW cla_visits_due_in_window AS
SELECT p.month, d.*
FROM cla_visits_due d
JOIN period p ON d.due_date BETWEEN p.start_date AND p.end_date;
