-- Children looked after: short breaks, periods of care, the spans in which a child counts as looked
-- after, placements, reviews and health checks (CSC 200-251, 260). Views only;
-- the last ones read `period` (one row per month and its window).
-- Like every episode, a span or placement is open on day d when is_open_at(start, end, d): one that
-- ends on d is closed by then.

-- One row per legal status V3 or V4 (a child on a series of pre-planned short breaks). Such a child
-- does not count as looked after while the status is open; other legal statuses do not matter.
CREATE OR REPLACE VIEW short_breaks AS
SELECT lega_legal_status_id,
       lega_person_id               AS person_id,
       lega_legal_status            AS legal_status,
       lega_legal_status_start_date AS start_date,
       lega_legal_status_end_date   AS end_date
FROM ssd_legal_status
WHERE upper(trim(lega_legal_status)) IN ('V3', 'V4');

-- One row per period of care (clae_cla_id; an episode without one is a period of its own). It starts
-- on the child's recorded entered-care date, else on its first episode's start, and ends when its
-- last episode ceased (NULL while any episode is open). starts_on_short_break: a V3/V4 status was
-- open on the day care started.
CREATE OR REPLACE VIEW periods_of_care AS
WITH periods AS (
    SELECT coalesce(clae_cla_id, clae_cla_episode_id) AS cla_id,
           clae_person_id                             AS person_id,
           coalesce(min(clae_entered_care_date), min(clae_cla_episode_start_date)) AS care_start_date,
           CASE WHEN bool_or(clae_cla_episode_ceased_date IS NULL) THEN NULL
                ELSE max(clae_cla_episode_ceased_date) END                        AS care_end_date
    FROM ssd_cla_episodes
    GROUP BY ALL
)
SELECT c.*,
       EXISTS (SELECT 1 FROM short_breaks b
               WHERE b.person_id = c.person_id
                 AND is_open_at(b.start_date, b.end_date, c.care_start_date)) AS starts_on_short_break
FROM periods c;

-- One row per stretch of a CLA episode in which the child counts as looked after: the episode less
-- the time a short break (V3/V4) was open. The episode is cut at every short-break start or end
-- falling inside it; a piece is kept when no short break is open on its first day.
-- Looked after on day d: is_open_at(span_start_date, span_end_date, d).
CREATE OR REPLACE VIEW looked_after_spans AS
WITH cuts AS (
    SELECT clae_cla_episode_id, clae_cla_episode_start_date AS cut_date
    FROM ssd_cla_episodes
    UNION
    SELECT e.clae_cla_episode_id, b.cut_date
    FROM ssd_cla_episodes e
    JOIN (SELECT person_id, start_date AS cut_date FROM short_breaks
          UNION
          SELECT person_id, end_date FROM short_breaks WHERE end_date IS NOT NULL) b
      ON b.person_id = e.clae_person_id
     AND b.cut_date > e.clae_cla_episode_start_date
     AND (e.clae_cla_episode_ceased_date IS NULL OR b.cut_date < e.clae_cla_episode_ceased_date)
),
pieces AS (
    SELECT e.clae_cla_episode_id,
           e.clae_person_id AS person_id,
           coalesce(e.clae_cla_id, e.clae_cla_episode_id) AS cla_id,
           e.clae_cla_placement_id,
           c.cut_date AS span_start_date,
           coalesce(lead(c.cut_date) OVER (PARTITION BY c.clae_cla_episode_id ORDER BY c.cut_date),
                    e.clae_cla_episode_ceased_date) AS span_end_date
    FROM cuts c
    JOIN ssd_cla_episodes e USING (clae_cla_episode_id)
)
SELECT s.*, poc.care_start_date, poc.care_end_date
FROM pieces s
JOIN periods_of_care poc USING (cla_id, person_id)
WHERE NOT EXISTS (SELECT 1 FROM short_breaks b
                  WHERE b.person_id = s.person_id
                    AND is_open_at(b.start_date, b.end_date, s.span_start_date));

-- One row per placement, with the child, whether it is a placement for adoption (SSDA903 placement
-- type A3-A6) and its distance from home in miles (SSD's 999.9 "not known" becomes NULL).
CREATE OR REPLACE VIEW cla_placements AS
SELECT clap_cla_placement_id,
       clap_person_id                AS person_id,
       clap_cla_id,
       clap_cla_placement_start_date AS start_date,
       clap_cla_placement_end_date   AS end_date,
       clap_cla_placement_type       AS placement_type,
       upper(trim(clap_cla_placement_type)) IN ('A3', 'A4', 'A5', 'A6') AS placed_for_adoption,
       CASE WHEN clap_cla_placement_distance >= 999 THEN NULL
            ELSE clap_cla_placement_distance END AS distance_miles,
       clap_visit_frequency_days
FROM ssd_cla_placement;

-- One row per review a period of care called for: each review held (not cancelled, dated within the
-- period) plus the next one, not yet held. Review 1 is due 20 working days after care started,
-- review 2 91 days after review 1, each later one 183 days after the previous (Care Planning
-- Regulations 2010 reg. 33). in_time: held on or before its due date. Reviews belong to the child
-- (clar_person_id, else the person of clar_cla_id) and to the period of care in which they fall;
-- two on one day count once.
CREATE OR REPLACE VIEW cla_reviews_due AS
WITH reviews AS (
    SELECT coalesce(r.clar_person_id, owner.person_id) AS person_id,
           r.clar_cla_review_date                      AS review_date,
           min(r.clar_cla_review_id)                   AS clar_cla_review_id
    FROM ssd_cla_reviews r
    LEFT JOIN periods_of_care owner ON owner.cla_id = r.clar_cla_id
    WHERE r.clar_cla_review_date IS NOT NULL AND r.clar_cla_review_cancelled IS NOT TRUE
    GROUP BY ALL
),
held AS (
    SELECT poc.cla_id, poc.person_id, poc.care_start_date, r.clar_cla_review_id, r.review_date,
           row_number() OVER w AS review_number,
           lag(r.review_date) OVER w AS previous_review_date
    FROM periods_of_care poc
    JOIN reviews r
      ON r.person_id = poc.person_id
     AND r.review_date >= poc.care_start_date
     AND (poc.care_end_date IS NULL OR r.review_date < poc.care_end_date)
    WINDOW w AS (PARTITION BY poc.cla_id, poc.person_id ORDER BY r.review_date)
),
next_due AS (
    SELECT poc.cla_id, poc.person_id, poc.care_start_date,
           NULL AS clar_cla_review_id, NULL::DATE AS review_date,
           count(h.review_date) + 1 AS review_number,
           max(h.review_date)       AS previous_review_date
    FROM periods_of_care poc
    LEFT JOIN held h USING (cla_id, person_id)
    GROUP BY poc.cla_id, poc.person_id, poc.care_start_date
),
due AS (
    SELECT *,
           CASE WHEN review_number = 1 THEN add_working_days(care_start_date, 20)
                WHEN review_number = 2 THEN previous_review_date + 91
                ELSE previous_review_date + 183 END AS due_date
    FROM (SELECT * FROM held UNION ALL BY NAME SELECT * FROM next_due)
)
SELECT *, coalesce(review_date <= due_date, false) AS in_time
FROM due;

-- One row per health assessment or check carried out: dated, and not recorded as planned, refused
-- or cancelled (a blank status counts as done). check_type: IHA, HEALTH or DENTAL.
CREATE OR REPLACE VIEW cla_health_checks_done AS
SELECT clah_health_check_id,
       clah_person_id                      AS person_id,
       upper(trim(clah_health_check_type)) AS check_type,
       clah_health_check_date              AS check_date,
       clah_health_check_status
FROM ssd_cla_health
WHERE clah_health_check_date IS NOT NULL
  AND coalesce(upper(trim(clah_health_check_status)), '') NOT IN ('PLANNED', 'REFUSED', 'CANCELLED');

-- Views over `period`: rows per month, for the windows of the indicators that read them.

-- One row per child looked after at the month end (period.snapshot_date): a span of
-- looked_after_spans open that day, so short breaks do not count (CSC 200, 201 and the month-end
-- measures). care_start_date and cla_id: the start of the child's period of care (the earliest,
-- should two be open) and its id; clae_cla_episode_id: the child's first episode open that day;
-- placed_for_adoption: in a placement for adoption (A3-A6) open that day.
CREATE OR REPLACE VIEW looked_after_at_month_end AS
WITH children AS (
    SELECT p.month, p.snapshot_date, s.person_id,
           min(s.clae_cla_episode_id)           AS clae_cla_episode_id,
           min(s.care_start_date)               AS care_start_date,
           arg_min(s.cla_id, s.care_start_date) AS cla_id
    FROM looked_after_spans s
    JOIN period p ON is_open_at(s.span_start_date, s.span_end_date, p.snapshot_date)
    GROUP BY p.month, p.snapshot_date, s.person_id
)
SELECT c.*,
       EXISTS (SELECT 1 FROM cla_placements pl
               WHERE pl.person_id = c.person_id AND pl.placed_for_adoption
                 AND is_open_at(pl.start_date, pl.end_date, c.snapshot_date)) AS placed_for_adoption
FROM children c;

-- Children looked after at the month end who had been in care 12 months or more: their period of
-- care started on or before the same day a year earlier (CSC 250, 251).
CREATE OR REPLACE VIEW looked_after_12_months_at_month_end AS
SELECT *
FROM looked_after_at_month_end
WHERE care_start_date <= snapshot_date - INTERVAL 12 MONTH;

-- One row per child looked after at some time in the window: a span started by its end and not
-- ended by its start (CSC 260).
CREATE OR REPLACE VIEW looked_after_in_window AS
SELECT p.month, s.person_id, min(s.clae_cla_episode_id) AS clae_cla_episode_id
FROM looked_after_spans s
JOIN period p
  ON s.span_start_date <= p.end_date
 AND (s.span_end_date IS NULL OR s.span_end_date > p.start_date)
GROUP BY p.month, s.person_id;

-- Children looked after at the month end, not placed for adoption that day, whose period of care had
-- lasted 20 working days or more: the children whose reviews are counted (CSC 218).
CREATE OR REPLACE VIEW looked_after_20_working_days_at_month_end AS
SELECT *
FROM looked_after_at_month_end
WHERE NOT placed_for_adoption
  AND working_days(care_start_date, snapshot_date) >= 20;

-- Children looked after at the month end, aged under 16 that day, whose period of care had begun
-- 2.5 years (30 months) or more before: the long-term cohort of placement stability (CSC 229).
CREATE OR REPLACE VIEW looked_after_2_5_years_under_16_at_month_end AS
SELECT c.*
FROM looked_after_at_month_end c
JOIN ssd_person pe ON pe.pers_person_id = c.person_id
WHERE age_in_years(pe.pers_dob, c.snapshot_date) < 16
  AND c.care_start_date <= c.snapshot_date - INTERVAL 30 MONTH;

-- Periods of care begun in the window, not on a short break, that lasted 20 working days or more
-- (still open, or ended on or after the 20th working day): the children owed an initial health
-- assessment within 20 working days (CSC 247).
CREATE OR REPLACE VIEW care_begun_20_working_days_in_window AS
SELECT p.month, c.cla_id, c.person_id, c.care_start_date, c.care_end_date
FROM periods_of_care c
JOIN period p ON c.care_start_date BETWEEN p.start_date AND p.end_date
WHERE NOT c.starts_on_short_break
  AND (c.care_end_date IS NULL OR c.care_end_date >= add_working_days(c.care_start_date, 20));

-- The children of looked_after_12_months_at_month_end with a check of check_kind ('HEALTH' or
-- 'DENTAL', as in cla_health_checks_done) carried out in the window; latest_check_date: the latest
-- (CSC 250, 251).
CREATE OR REPLACE MACRO looked_after_12_months_checked(check_kind) AS TABLE
SELECT c.month, c.person_id, c.care_start_date, max(h.check_date) AS latest_check_date
FROM looked_after_12_months_at_month_end c
JOIN period p ON p.month = c.month
JOIN cla_health_checks_done h
  ON h.person_id = c.person_id AND h.check_type = check_kind
 AND h.check_date BETWEEN p.start_date AND p.end_date
GROUP BY c.month, c.person_id, c.care_start_date;
