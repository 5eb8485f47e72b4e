-- Children and families assessments (CSC 035-098). Views and a table macro; the last ones
-- read `period` (one row per month and its window).

-- One row per authorised assessment, with its timeliness: the working days from the assessment's
-- start to its authorisation (working_days(): Monday-Friday less bank holidays, start day not counted,
-- so authorised the next working day = 1). This is the DfE's clock; Working Together starts it at the
-- referral instead. Null when the start date is missing: such an assessment counts in CSC 035 but
-- cannot be timed, so it is left out of the timeliness measures (CSC 038-098).
CREATE OR REPLACE VIEW assessments_authorised AS
SELECT
    a.*,
    working_days(a.cina_assessment_start_date, a.cina_assessment_auth_date) AS working_days_to_authorisation
FROM ssd_cin_assessments a
WHERE a.cina_assessment_auth_date IS NOT NULL;

-- Assessments authorised in the window of each `period` row (CSC 035-098).
CREATE OR REPLACE VIEW assessments_authorised_in_window AS
SELECT p.month, a.cina_assessment_id, a.cina_person_id, a.cina_assessment_start_date,
       a.cina_assessment_auth_date, a.working_days_to_authorisation
FROM assessments_authorised a
JOIN period p ON a.cina_assessment_auth_date BETWEEN p.start_date AND p.end_date;

-- The assessments authorised in the window that can be timed (they have a start date), with in_time:
-- authorised within max_working_days working days of the start (CSC 038-098: 45, 25, 15 or 10).
CREATE OR REPLACE MACRO assessments_authorised_within(max_working_days) AS TABLE
SELECT *, working_days_to_authorisation <= max_working_days AS in_time
FROM assessments_authorised_in_window
WHERE working_days_to_authorisation IS NOT NULL;
