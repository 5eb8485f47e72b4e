-- Macros every indicator and view may call. The engine builds ref_calendar(calendar_date,
-- is_working_day, working_day_index) before this file runs: working_day_index counts the working
-- days up to and including calendar_date, so a difference of two indexes is a count of working days.

-- Working days d with a < d <= b (same day: 0; Friday to Monday: 1). Negative when b is before a.
-- Timestamps count by the date on which they fall.
CREATE OR REPLACE MACRO working_days(a, b) AS
    (SELECT c.working_day_index FROM ref_calendar c WHERE c.calendar_date = CAST(b AS DATE))
  - (SELECT c.working_day_index FROM ref_calendar c WHERE c.calendar_date = CAST(a AS DATE));

-- The working day n working days after a (n = 0 gives a itself); the inverse of working_days:
-- working_days(a, add_working_days(a, n)) = n.
CREATE OR REPLACE MACRO add_working_days(a, n) AS
  CASE WHEN n = 0 THEN CAST(a AS DATE) ELSE
    (SELECT c.calendar_date FROM ref_calendar c
      WHERE c.is_working_day
        AND c.working_day_index = n + (SELECT s.working_day_index FROM ref_calendar s
                                        WHERE s.calendar_date = CAST(a AS DATE)))
  END;

-- Age in completed years on a date. A child born on 29 February turns a year older on 1 March in
-- years that have no 29 February.
CREATE OR REPLACE MACRO age_in_years(dob, at_date) AS
  date_diff('year', CAST(dob AS DATE), CAST(at_date AS DATE))
  - CASE WHEN strftime(CAST(at_date AS DATE), '%m%d') < strftime(CAST(dob AS DATE), '%m%d') THEN 1 ELSE 0 END;

-- An episode is open at a snapshot date when it started on or before it and has no end, or ends after
-- it: one that ends on the snapshot date is closed by then (as in the DfE returns).
CREATE OR REPLACE MACRO is_open_at(start_date, end_date, at_date) AS
  CAST(start_date AS DATE) <= CAST(at_date AS DATE)
  AND (end_date IS NULL OR CAST(end_date AS DATE) > CAST(at_date AS DATE));
