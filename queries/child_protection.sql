-- Child protection plans and their reviews (CSC 161-191). Views only;
-- the last ones read `period` (one row per month and its window).
-- Whether a plan is open on a date is the macro is_open_at() (a plan ending that day is closed).

-- One row per CP plan, with:
--   previous_plan_id / previous_plan_end_date: the same child's most recent other plan that had
--     ended on or before this plan started
--   is_repeat_within_2_years: that plan ended within the 2 years before this start, inclusive
--     (start 2017-09-15: ended 2015-09-15 counts, 2015-09-14 does not) (CSC 188)
--   lasted_2_years: ended on or after the second anniversary of its start (CSC 186)
CREATE OR REPLACE VIEW cp_plans AS
WITH earlier_plans AS (
    SELECT p.cppl_cp_plan_id,
           max(e.cppl_cp_plan_end_date)                         AS previous_plan_end_date,
           arg_max(e.cppl_cp_plan_id, e.cppl_cp_plan_end_date)  AS previous_plan_id
    FROM ssd_cp_plans p
    JOIN ssd_cp_plans e
      ON e.cppl_person_id = p.cppl_person_id
     AND e.cppl_cp_plan_id <> p.cppl_cp_plan_id
     AND e.cppl_cp_plan_end_date <= p.cppl_cp_plan_start_date
    GROUP BY p.cppl_cp_plan_id
)
SELECT
    p.*,
    e.previous_plan_id,
    e.previous_plan_end_date,
    coalesce(e.previous_plan_end_date
             >= CAST(p.cppl_cp_plan_start_date - INTERVAL 2 YEAR AS DATE), false) AS is_repeat_within_2_years,
    coalesce(p.cppl_cp_plan_end_date
             >= CAST(p.cppl_cp_plan_start_date + INTERVAL 2 YEAR AS DATE), false) AS lasted_2_years
FROM ssd_cp_plans p
LEFT JOIN earlier_plans e USING (cppl_cp_plan_id);

-- One row per CP review conference held (a review date on or after its plan's start), with the date
-- it was due by: the first 3 months after the plan started, each later one 6 months after the
-- previous review (Working Together). in_time: held on or before that date (CSC 191).
CREATE OR REPLACE VIEW cp_reviews_held AS
WITH ordered AS (
    SELECT r.cppr_cp_review_id, r.cppr_person_id, r.cppr_cp_plan_id, p.cppl_cp_plan_start_date,
           r.cppr_cp_review_date,
           lag(r.cppr_cp_review_date) OVER (PARTITION BY r.cppr_cp_plan_id
                                            ORDER BY r.cppr_cp_review_date, r.cppr_cp_review_id)
               AS previous_review_date
    FROM ssd_cp_reviews r
    JOIN ssd_cp_plans p ON p.cppl_cp_plan_id = r.cppr_cp_plan_id
    WHERE r.cppr_cp_review_date >= p.cppl_cp_plan_start_date
)
SELECT
    o.*,
    CAST(CASE WHEN o.previous_review_date IS NULL THEN o.cppl_cp_plan_start_date + INTERVAL 3 MONTH
              ELSE o.previous_review_date + INTERVAL 6 MONTH END AS DATE) AS review_due_date,
    o.cppr_cp_review_date <= review_due_date                            AS in_time
FROM ordered o;

-- Views over `period`: rows per month, for the windows of the indicators that read them.

-- One row per child on a CP plan at the month end (period.snapshot_date): the child's first plan open
-- that day and its start (CSC 181-183).
CREATE OR REPLACE VIEW on_cp_plan_at_month_end AS
SELECT p.month, p.snapshot_date, c.cppl_person_id,
       min(c.cppl_cp_plan_id) AS cppl_cp_plan_id, min(c.cppl_cp_plan_start_date) AS plan_start_date
FROM ssd_cp_plans c
JOIN period p ON is_open_at(c.cppl_cp_plan_start_date, c.cppl_cp_plan_end_date, p.snapshot_date)
GROUP BY p.month, p.snapshot_date, c.cppl_person_id;

-- One row per child on a CP plan at some time in the window: started by its end, not ended by its
-- start (CSC 252).
CREATE OR REPLACE VIEW on_cp_plan_in_window AS
SELECT p.month, c.cppl_person_id, min(c.cppl_cp_plan_id) AS cppl_cp_plan_id
FROM ssd_cp_plans c
JOIN period p
  ON c.cppl_cp_plan_start_date <= p.end_date
 AND (c.cppl_cp_plan_end_date IS NULL OR c.cppl_cp_plan_end_date > p.start_date)
GROUP BY p.month, c.cppl_person_id;

-- CP plans (view cp_plans) started in the window (CSC 187, 188).
CREATE OR REPLACE VIEW cp_plans_started_in_window AS
SELECT p.month, c.cppl_cp_plan_id, c.cppl_person_id, c.cppl_cp_plan_start_date,
       c.previous_plan_id, c.previous_plan_end_date, c.is_repeat_within_2_years
FROM cp_plans c
JOIN period p ON c.cppl_cp_plan_start_date BETWEEN p.start_date AND p.end_date;

-- CP plans (view cp_plans) ended in the window (CSC 186).
CREATE OR REPLACE VIEW cp_plans_ended_in_window AS
SELECT p.month, c.cppl_cp_plan_id, c.cppl_person_id, c.cppl_cp_plan_start_date, c.cppl_cp_plan_end_date,
       c.lasted_2_years
FROM cp_plans c
JOIN period p ON c.cppl_cp_plan_end_date BETWEEN p.start_date AND p.end_date;

-- Initial child protection conferences held in the window that can be timed: not a transfer-in (a
-- blank flag is not one), following a section 47 enquiry with a start date; working_days_to_icpc
-- from the enquiry's start to the conference (CSC 176).
CREATE OR REPLACE VIEW timed_initial_conferences_in_window AS
SELECT p.month, i.icpc_icpc_id, i.icpc_person_id, s.s47e_s47_start_date, i.icpc_icpc_date,
       working_days(s.s47e_s47_start_date, i.icpc_icpc_date) AS working_days_to_icpc
FROM ssd_initial_cp_conference i
JOIN ssd_s47_enquiry s ON s.s47e_s47_enquiry_id = i.icpc_s47_enquiry_id
JOIN period p ON i.icpc_icpc_date BETWEEN p.start_date AND p.end_date
WHERE NOT coalesce(i.icpc_icpc_transfer_in, false)
  AND s.s47e_s47_start_date IS NOT NULL;

-- One row per CP plan open at the month end (period.snapshot_date) that had started 3 months or more
-- before it: the plans whose reviews are counted (CSC 191).
CREATE OR REPLACE VIEW cp_plans_3_months_at_month_end AS
SELECT p.month, p.snapshot_date, c.cppl_cp_plan_id, c.cppl_person_id, c.cppl_cp_plan_start_date
FROM ssd_cp_plans c
JOIN period p ON is_open_at(c.cppl_cp_plan_start_date, c.cppl_cp_plan_end_date, p.snapshot_date)
WHERE c.cppl_cp_plan_start_date <= p.snapshot_date - INTERVAL 3 MONTH;
