-- Statutory visits and the dates they fell due (CSC 252-252b, 260-260b). Views only; indicators
-- join `period`.
-- A visit falls due when the interval from the previous visit (or from the start of the plan or
-- placement) runs out, and is in time if the child is seen on or before that date. While no visit
-- comes, a further visit falls due at the end of each further interval, so a child not seen at all
-- keeps missing visits rather than dropping out of the count (repeats are made up to the last date
-- the plans, placements and visits record, the end of the data). A visit counts unless it records the
-- child as not seen (cppv_cp_visit_seen / clav_cla_visit_seen false); two on one day count once.

-- One row per child protection visit that fell due while the plan was open. Interval: 10 working
-- days (a local standard). from_date: the plan's start or the visit the interval runs from;
-- next_visit_date: the next visit during the plan (NULL: none). Visits belong to the child's plan
-- open on their date.
CREATE OR REPLACE VIEW cp_visits_due AS
WITH anchors AS (
    SELECT cppl_cp_plan_id, cppl_person_id, cppl_cp_plan_start_date, cppl_cp_plan_end_date,
           cppl_cp_plan_start_date AS from_date, NULL AS cppv_cp_visit_id
    FROM ssd_cp_plans
    UNION ALL
    SELECT pl.cppl_cp_plan_id, pl.cppl_person_id, pl.cppl_cp_plan_start_date, pl.cppl_cp_plan_end_date,
           v.cppv_cp_visit_date, v.cppv_cp_visit_id
    FROM ssd_cp_plans pl
    JOIN ssd_cp_visits v
      ON v.cppv_person_id = pl.cppl_person_id
     AND is_open_at(pl.cppl_cp_plan_start_date, pl.cppl_cp_plan_end_date, v.cppv_cp_visit_date)
    WHERE v.cppv_cp_visit_seen IS NOT FALSE
),
intervals AS (
    SELECT *,
           lead(from_date) OVER w        AS next_visit_date,
           lead(from_visit_id) OVER w    AS next_visit_id,
           -- the last day a due date of this interval can matter: the next visit, else the plan's
           -- end, else the end of the data
           coalesce(lead(from_date) OVER w, cppl_cp_plan_end_date,
                    greatest((SELECT max(cppv_cp_visit_date) FROM ssd_cp_visits),
                             (SELECT max(cppl_cp_plan_start_date) FROM ssd_cp_plans),
                             (SELECT max(cppl_cp_plan_end_date) FROM ssd_cp_plans))) AS horizon
    FROM (SELECT cppl_cp_plan_id, cppl_person_id, cppl_cp_plan_start_date, cppl_cp_plan_end_date, from_date,
                 min(cppv_cp_visit_id) AS from_visit_id
          FROM anchors GROUP BY ALL)
    WINDOW w AS (PARTITION BY cppl_cp_plan_id ORDER BY from_date)
),
dues AS (   -- the 1st, 2nd ... due date of each interval: 10, 20 ... working days after from_date,
            -- i.e. add_working_days(from_date, 10 * due_number), written as a join on the calendar's
            -- working-day numbers because the macro is some 20 times slower here
    SELECT n.*, d.calendar_date AS due_date
    FROM (SELECT i.*, f.working_day_index AS from_day_index,
                 unnest(range(1, 2 + working_days(i.from_date, i.horizon) // 10)) AS due_number
          FROM intervals i
          JOIN ref_calendar f ON f.calendar_date = i.from_date) n
    JOIN ref_calendar d
      ON d.is_working_day AND d.working_day_index = n.from_day_index + 10 * n.due_number
)
SELECT cppl_cp_plan_id, cppl_person_id, from_date, from_visit_id, due_number, due_date,
       next_visit_date, next_visit_id,
       due_number = 1 AND coalesce(next_visit_date <= due_date, false) AS in_time
FROM dues
WHERE (due_number = 1 OR due_date < horizon)
  AND is_open_at(cppl_cp_plan_start_date, cppl_cp_plan_end_date, due_date);

-- One row per looked-after child's visit that fell due. Interval: clap_visit_frequency_days of the
-- placement the child is in (7, 28, 42 or 91: its regime under the Care Planning Regulations 2010
-- reg. 28; 42, the general six-week rule, when not recorded), counted from the placement's start or
-- a visit during it. A due date counts only while that placement is open on it and the child counts
-- as looked after (not on a V3/V4 short break). Visits belong to the child's placement open on
-- their date.
CREATE OR REPLACE VIEW cla_visits_due AS
WITH anchors AS (
    SELECT clap_cla_placement_id, person_id, start_date, end_date, clap_visit_frequency_days,
           start_date AS from_date, NULL AS clav_cla_visit_id
    FROM cla_placements
    UNION ALL
    SELECT pl.clap_cla_placement_id, pl.person_id, pl.start_date, pl.end_date, pl.clap_visit_frequency_days,
           v.clav_cla_visit_date, v.clav_cla_visit_id
    FROM cla_placements pl
    JOIN ssd_cla_visits v
      ON v.clav_person_id = pl.person_id
     AND is_open_at(pl.start_date, pl.end_date, v.clav_cla_visit_date)
    WHERE v.clav_cla_visit_seen IS NOT FALSE
),
intervals AS (
    SELECT *,
           CASE WHEN clap_visit_frequency_days > 0 THEN clap_visit_frequency_days ELSE 42 END AS interval_days,
           lead(from_date) OVER w        AS next_visit_date,
           lead(from_visit_id) OVER w    AS next_visit_id,
           coalesce(lead(from_date) OVER w, end_date,
                    greatest((SELECT max(clav_cla_visit_date) FROM ssd_cla_visits),
                             (SELECT max(start_date) FROM cla_placements),
                             (SELECT max(end_date) FROM cla_placements))) AS horizon
    FROM (SELECT clap_cla_placement_id, person_id, start_date, end_date, clap_visit_frequency_days, from_date,
                 min(clav_cla_visit_id) AS from_visit_id
          FROM anchors GROUP BY ALL)
    WINDOW w AS (PARTITION BY clap_cla_placement_id ORDER BY from_date)
),
dues AS (   -- the 1st, 2nd ... due date of each interval
    SELECT *, from_date + CAST(interval_days * due_number AS INTEGER) AS due_date
    FROM (SELECT *, unnest(range(1, 2 + date_diff('day', from_date, horizon) // interval_days)) AS due_number
          FROM intervals)
)
SELECT d.clap_cla_placement_id, d.person_id, d.interval_days, d.from_date, d.from_visit_id, d.due_number,
       d.due_date, d.next_visit_date, d.next_visit_id,
       d.due_number = 1 AND coalesce(d.next_visit_date <= d.due_date, false) AS in_time
FROM dues d
WHERE (d.due_number = 1 OR d.due_date < d.horizon)
  AND is_open_at(d.start_date, d.end_date, d.due_date)
  AND EXISTS (SELECT 1 FROM looked_after_spans s
              WHERE s.person_id = d.person_id
                AND is_open_at(s.span_start_date, s.span_end_date, d.due_date));
