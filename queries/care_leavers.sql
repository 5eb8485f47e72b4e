-- Care leavers' status over time (CSC 286, 294). Views only; the last
-- one reads `period` (one row per month and its window).

-- One row per care-leaver status row (ssd_care_leavers holds one row per change), valid from its
-- effective date (clea_care_leaver_latest_contact) until the child's next row (valid_to, exclusive;
-- NULL for the latest). The status on day d is the latest row on or before d:
-- is_open_at(valid_from, valid_to, d). Of two rows on one day the one with the higher id holds.
-- With the child's date of birth and death.
CREATE OR REPLACE VIEW care_leaver_status AS
SELECT c.*,
       c.clea_care_leaver_latest_contact AS valid_from,
       lead(c.clea_care_leaver_latest_contact)
           OVER (PARTITION BY c.clea_person_id
                 ORDER BY c.clea_care_leaver_latest_contact, c.clea_table_id) AS valid_to,
       pe.pers_dob,
       pe.pers_death_date
FROM ssd_care_leavers c
LEFT JOIN ssd_person pe ON pe.pers_person_id = c.clea_person_id
WHERE c.clea_care_leaver_latest_contact IS NOT NULL;

-- One row per care leaver aged 19, 20 or 21 at the month end (period.snapshot_date), receiving a
-- service (no service end date on or before it) and alive, with the status that held that day
-- (CSC 286, 294).
CREATE OR REPLACE VIEW care_leavers_19_to_21_at_month_end AS
SELECT p.month, s.clea_person_id, s.clea_table_id, s.valid_from,
       s.clea_care_leaver_accom_suitable, s.clea_care_leaver_activity
FROM care_leaver_status s
JOIN period p ON is_open_at(s.valid_from, s.valid_to, p.snapshot_date)
WHERE age_in_years(s.pers_dob, p.snapshot_date) BETWEEN 19 AND 21
  AND (s.clea_service_end_date IS NULL OR s.clea_service_end_date > p.snapshot_date)
  AND (s.pers_death_date IS NULL OR s.pers_death_date > p.snapshot_date);
