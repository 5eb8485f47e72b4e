-- Children and families assessments (CSC 035-098). Views only; indicators join `period`.

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
